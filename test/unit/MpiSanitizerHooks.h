//===- MpiSanitizerHooks.h - sanitizer settings of an MPI rank's program --===//
//
// Under `scripts/test.sh --sanitize` (docs/fuzzing.md): Open MPI 4.1 keeps
// allocations of its runtime (ORTE, OPAL, libevent, hwloc's topology) to the
// end of the process, which LeakSanitizer reports when a rank exits. Those
// are suppressed by library, never ours. The libraries have no frame
// pointers, so the allocation stacks are unwound the slow way (only in the
// rank programs: every allocation pays for it) to reach the library that
// allocated. Without a sanitizer nothing calls these hooks.
//
// It defines the hooks: include it in one source file of each program that
// runs as an MPI rank (TensorParallelProbe, MpiGatherProbe).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_UNIT_MPISANITIZERHOOKS_H
#define LLAMAC_TEST_UNIT_MPISANITIZERHOOKS_H

extern "C" const char *__lsan_default_suppressions() {
  return "leak:libmpi.so\n"
         "leak:libopen-pal.so\n"
         "leak:libopen-rte.so\n"
         "leak:libevent\n"
         "leak:libhwloc.so\n";
}
extern "C" const char *__asan_default_options() { return "fast_unwind_on_malloc=0"; }

#endif // LLAMAC_TEST_UNIT_MPISANITIZERHOOKS_H
