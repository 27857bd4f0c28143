# find_package(llamac): the llamac runtime, imported as llamac::runtime
# (docs/runtime-api.md). It needs no MLIR or LLVM. Its public headers use
# Abseil's types, so Abseil is found here; sentencepiece, PCRE2, xxhash and the
# rest are linked into libllamac_runtime.so and found by the dynamic loader.
include(CMakeFindDependencyMacro)
find_dependency(absl CONFIG)
include("${CMAKE_CURRENT_LIST_DIR}/llamacTargets.cmake")
