#!/usr/bin/env bash
# Installs the Debian 12 packages llamac needs, only those missing.
# Why each is needed: docs/dependencies.md.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config python3 ccache
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools lld-22 rocm-device-libs
  libsentencepiece-dev libpcre2-dev libabsl-dev nlohmann-json3-dev libxxhash-dev libeigen3-dev
  googletest libgtest-dev libgmock-dev
  clang-22 libclang-rt-22-dev
  openmpi-bin libopenmpi-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "llamac: all ${#PACKAGES[@]} required packages are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi
echo "llamac: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
