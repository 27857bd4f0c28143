//===- MpiCommunicator.cpp - CPU ranks over MPI ---------------------------===//

#include "runtime/comm/MpiCommunicator.h"

#include "absl/strings/str_cat.h"

// The C API only: Open MPI's and MPICH's mpi.h otherwise pull in the
// deprecated C++ bindings, which live in a library we do not link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace llamac::comm {
namespace {

absl::Status mpiError(const char *call, int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    length = 0;
  return absl::InternalError(absl::StrCat(call, " failed: ", std::string(text, length)));
}

} // namespace

absl::StatusOr<std::unique_ptr<MpiCommunicator>> MpiCommunicator::initialize(int *argc,
                                                                           char ***argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized)
    if (int code = MPI_Init(argc, argv); code != MPI_SUCCESS)
      return mpiError("MPI_Init", code);
  // Errors come back as codes, which become one error line, not an abort
  // with MPI's own report.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return std::unique_ptr<MpiCommunicator>(new MpiCommunicator(rank, size));
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized)
    MPI_Finalize();
}

void MpiCommunicator::abortAll(int exitCode) {
  std::fflush(nullptr);
  MPI_Abort(MPI_COMM_WORLD, exitCode);
  std::_Exit(exitCode); // MPI_Abort does not return; if it did, still end.
}

absl::Status MpiCommunicator::firstError(const absl::Status &local) {
  int mine = local.ok() ? INT_MAX : worldRank, first = INT_MAX;
  if (int code = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
      code != MPI_SUCCESS)
    return mpiError("MPI_Allreduce", code);
  if (first == INT_MAX)
    return absl::OkStatus();
  std::string message = first == worldRank ? std::string(local.message()) : std::string();
  int header[2] = {static_cast<int>(local.code()), static_cast<int>(message.size())};
  if (int code = MPI_Bcast(header, 2, MPI_INT, first, MPI_COMM_WORLD); code != MPI_SUCCESS)
    return mpiError("MPI_Bcast", code);
  message.resize(static_cast<size_t>(header[1]));
  if (int code = MPI_Bcast(message.data(), header[1], MPI_CHAR, first, MPI_COMM_WORLD);
      code != MPI_SUCCESS)
    return mpiError("MPI_Bcast", code);
  return absl::Status(static_cast<absl::StatusCode>(header[0]),
                      first == 0 ? message : absl::StrCat("rank ", first, ": ", message));
}

absl::Status MpiCommunicator::broadcast(void *data, size_t bytes, int root) {
  if (bytes > static_cast<size_t>(INT_MAX))
    return absl::InvalidArgumentError("a broadcast of more than 2^31 bytes");
  int code = MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
  return code == MPI_SUCCESS ? absl::OkStatus() : mpiError("MPI_Bcast", code);
}

absl::Status MpiCommunicator::reduce(float *data, size_t count) {
  if (count > static_cast<size_t>(INT_MAX))
    return absl::InvalidArgumentError("an all-reduce of more than 2^31 floats");
  int code = MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                           MPI_COMM_WORLD);
  return code == MPI_SUCCESS ? absl::OkStatus() : mpiError("MPI_Allreduce", code);
}

absl::Status MpiCommunicator::gather(const float *part, float *out, size_t rows,
                                     size_t columns) {
  const size_t rowWidth = columns * static_cast<size_t>(worldSize);
  if (rows * columns > static_cast<size_t>(INT_MAX) || rowWidth > static_cast<size_t>(INT_MAX))
    return absl::InvalidArgumentError("an all-gather of more than 2^31 floats");
  // Rank r's part goes to columns [r * columns, (r + 1) * columns) of every
  // output row: `rows` blocks of `columns` floats, an output row apart. The
  // type's extent is shrunk to one part's width, so rank r's starts r parts
  // into the first row, and MPI moves everything in one call.
  MPI_Datatype strided = MPI_DATATYPE_NULL, columnsOfRank = MPI_DATATYPE_NULL;
  const char *call = "MPI_Type_vector";
  int code = MPI_Type_vector(static_cast<int>(rows), static_cast<int>(columns),
                             static_cast<int>(rowWidth), MPI_FLOAT, &strided);
  if (code == MPI_SUCCESS) {
    call = "MPI_Type_create_resized";
    code = MPI_Type_create_resized(strided, 0, static_cast<MPI_Aint>(columns * sizeof(float)),
                                   &columnsOfRank);
  }
  if (code == MPI_SUCCESS) {
    call = "MPI_Type_commit";
    code = MPI_Type_commit(&columnsOfRank);
  }
  if (code == MPI_SUCCESS) {
    call = "MPI_Allgather";
    code = MPI_Allgather(part, static_cast<int>(rows * columns), MPI_FLOAT, out, 1,
                         columnsOfRank, MPI_COMM_WORLD);
  }
  if (columnsOfRank != MPI_DATATYPE_NULL)
    MPI_Type_free(&columnsOfRank);
  if (strided != MPI_DATATYPE_NULL)
    MPI_Type_free(&strided);
  return code == MPI_SUCCESS ? absl::OkStatus() : mpiError(call, code);
}

} // namespace llamac::comm
