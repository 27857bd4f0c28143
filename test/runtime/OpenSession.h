//===- OpenSession.h - a model and one session of it, for tests -*- C++ -*-===//
//
// Most runtime tests run one sequence on one model: load it and open a
// session in one call, one error either way.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_RUNTIME_OPENSESSION_H
#define LLAMAC_TEST_RUNTIME_OPENSESSION_H

#include "runtime/api/Session.h"

#include <memory>
#include <string>

namespace llamac::test {

/// A session of the artifact at `path` loaded with `options`.
inline absl::StatusOr<std::unique_ptr<Session>>
openSession(const std::string &path, const ModelOptions &options = {},
            const SessionOptions &sessionOptions = {}) {
  absl::StatusOr<std::shared_ptr<const Model>> model =
      Model::load(path, options);
  if (!model.ok())
    return model.status();
  return Session::create(*model, sessionOptions);
}

} // namespace llamac::test

#endif // LLAMAC_TEST_RUNTIME_OPENSESSION_H
