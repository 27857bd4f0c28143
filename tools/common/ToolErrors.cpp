//===- ToolErrors.cpp - the error contract every tool's main keeps --------===//
//
// Built with exceptions enabled (the LLVM-based parts of the project are
// not): the terminate handler rethrows the escaped exception to read it.
//
//===----------------------------------------------------------------------===//

#include "tools/common/ToolErrors.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace llamac::tools {
namespace {

void (*cleanupOnFailure)() = nullptr;

/// errno of the first failed write to stdout; 0 while none failed.
int stdoutError = 0;
/// Set once fail() has printed a command's error line.
bool errorLinePrinted = false;
/// Whether descriptor 0 was closed when the tool started.
bool stdinWasClosed = false;

/// Fills a closed standard descriptor with /dev/null opened the other way
/// round (stdin write-only, stdout and stderr read-only): the first file the
/// tool opened would otherwise take its number, so that the generated text
/// went into the kernel library's memfd and the run exited 0. Now every read
/// or write on it still fails with EBADF, as on a closed descriptor, and is
/// reported as such.
bool holdClosedDescriptor(int fd) {
  if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
    return false;
  int held = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
  if (held >= 0 && held != fd) {
    dup2(held, fd);
    close(held);
  }
  return true;
}

[[noreturn]] void onTerminate() {
  std::string what = "internal error (std::terminate without an exception)";
  if (std::exception_ptr escaped = std::current_exception()) {
    try {
      std::rethrow_exception(escaped);
    } catch (const std::exception &e) {
      what = e.what();
    } catch (...) {
      what = "an exception of unknown type";
    }
    what = "uncaught exception: " + what;
  }
  if (cleanupOnFailure)
    cleanupOnFailure();
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::fflush(stderr);
  // Not exit(): other threads are still running, and static destructors
  // would run under them.
  _exit(1);
}

/// SIGBUS on x86-64 Linux means a mapped file's page is gone: another
/// process truncated the artifact (or a checkpoint being compiled) in place
/// while it was mapped. Only async-signal-safe calls here.
extern "C" void onBusError(int) {
  // llamac's cleanup is LLVM's RunInterruptHandlers, which its own signal
  // handlers call too: this handler replaced theirs for SIGBUS.
  if (cleanupOnFailure)
    cleanupOnFailure();
  static const char message[] =
      "error: a memory-mapped input file was truncated while in use (SIGBUS): another "
      "process rewrote it in place\n";
  ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
  (void)ignored;
  _exit(1);
}

void noteStdoutFailure() {
  if (stdoutError == 0)
    stdoutError = errno != 0 ? errno : EIO;
}

} // namespace

int fail(int status, absl::string_view message) {
  errorLinePrinted = true;
  std::fprintf(stderr, "error: %.*s\n", static_cast<int>(message.size()), message.data());
  return status;
}

void installToolErrorHandlers(void (*cleanup)()) {
  // In order: open() takes the lowest free number, the one being filled.
  stdinWasClosed = holdClosedDescriptor(STDIN_FILENO);
  holdClosedDescriptor(STDOUT_FILENO);
  holdClosedDescriptor(STDERR_FILENO);
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGBUS, onBusError);
  cleanupOnFailure = cleanup;
  std::set_terminate(onTerminate);
}

bool standardInputWasClosed() { return stdinWasClosed; }

bool writeStandardOutput(std::string_view text, bool flush) {
  if (stdoutError != 0)
    return false;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
      (flush && std::fflush(stdout) != 0)) {
    noteStdoutFailure();
    return false;
  }
  return true;
}

int finishStandardOutput(int status) {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    noteStdoutFailure();
  // A run that failed for another reason has printed its error line
  // already; one is enough. One that stopped because stdout failed (a
  // closed pipe, a full disk) has not.
  if (stdoutError == 0 || errorLinePrinted)
    return status;
  std::fprintf(stderr, "error: cannot write to standard output: %s\n",
               std::strerror(stdoutError));
  errorLinePrinted = true;
  return status != 0 ? status : 1;
}

} // namespace llamac::tools
