# -*- Python -*-
# lit configuration for llamac: the logic; lit.site.cfg.py.in holds only paths.

import os
import shutil
import sys

import lit.formats
import lit.util
from lit.llvm import llvm_config

config.name = "llamac"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.llamac_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in",
                   "unit", "reference", "data", "Inputs", "fuzz"]

config.substitutions.append(("%llamac_src", config.llamac_src_root))
config.substitutions.append(("%models", os.path.join(config.llamac_src_root, "models")))
config.substitutions.append(("%python", sys.executable))

llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(
    ["llama-opt", "llamac", "llama-run"],
    [config.llamac_tools_dir, config.llvm_tools_dir])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# A sanitized build (scripts/test.sh --sanitize): ASan reserves terabytes of
# shadow address space at start, so RUN lines that limit it (ulimit -v) are
# wrapped in `%if !asan %{ ... %}`.
if lit.util.pythonize_bool(config.llamac_sanitize):
    config.available_features.add("asan")

# Artifacts compiled for a named AVX-512 chip (sapphirerapids) run only on a
# CPU with its features (below: those an AVX2-only EPYC lacks); on others
# llama-run refuses them with one error line. Tests that run one check
# whichever of the two this host gives, with
# `%if avx512bf16 %{ ... %} %else %{ ... %}`.
def host_cpu_flags():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()
if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_vnni",
    "avx512_bf16"} <= host_cpu_flags():
    config.available_features.add("avx512bf16")
if "avx512_fp16" in host_cpu_flags():
    config.available_features.add("avx512fp16")
# A CPU whose CPUID reports AMX-INT8 (Linux grants the tile state since 5.16):
# sapphirerapids int8/int4 artifacts run their tdpbssd variants there.
if {"amx_tile", "amx_int8"} <= host_cpu_flags():
    config.available_features.add("amx-int8")

# GPU code generation needs no GPU, only the vendor's compile-time pieces.
# Tests that need them say REQUIRES and are reported UNSUPPORTED (never
# passed silently) on machines without them.
if os.path.exists(os.path.join(config.cuda_toolkit_dir, "bin", "ptxas")):
    config.available_features.add("cuda-toolkit")
config.substitutions.append(("%cuda_toolkit", config.cuda_toolkit_dir))
amdgcn_bitcode = "/usr/lib/x86_64-linux-gnu/amdgcn"
if os.path.exists(os.path.join(amdgcn_bitcode, "bitcode", "ockl.bc")) and \
        os.path.exists(os.path.join(config.llvm_tools_dir, "ld.lld")):
    config.available_features.add("rocm-device-libs")
config.substitutions.append(("%amdgcn_bitcode", amdgcn_bitcode))
config.substitutions.append(("%llvm_tools_dir", config.llvm_tools_dir))

# Tensor-parallel runs: llama-run built with MPI, and mpirun to start the
# ranks (as root, as CI runs, Open MPI must be told it may; more ranks than
# this machine's cores is what --oversubscribe allows; --stdin none keeps
# mpirun from reading the stdin of whoever runs the tests).
mpirun = shutil.which("mpirun")
if mpirun and config.llamac_have_mpi == "ON":
    config.available_features.add("mpi")
    config.substitutions.append(
        ("%mpirun", mpirun + " --allow-run-as-root --oversubscribe --stdin none"))

# Stand-ins for libcuda.so.1 and libnccl.so.2 (test/runtime/FakeCudaDriver.cpp,
# FakeNccl.cpp) that llama-run loads through LLAMAC_CUDA_DRIVER and
# LLAMAC_NCCL_LIBRARY: a GPU tensor-parallel run's start-up without a GPU.
fakes = os.path.join(config.llamac_obj_root, "test", "runtime")
config.substitutions.append(
    ("%fake_cuda_driver", os.path.join(fakes, "libllamac_fake_cuda_driver.so")))
config.substitutions.append(("%fake_nccl", os.path.join(fakes, "libllamac_fake_nccl.so")))
