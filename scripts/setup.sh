#!/usr/bin/env bash
# Installs every Debian 12 package lerfscale needs to build, run and test.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential g++ clang libclang-rt-14-dev meson ninja-build pkg-config python3
  # GStreamer: headers, tools, and the plugins the tests and examples use
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-libav
  gstreamer1.0-plugins-ugly  # x264enc for the transcoding example and the demo
  # Vulkan: headers, loader, compiler, Mesa's CPU driver (lavapipe) for CI
  libvulkan-dev libvulkan1 vulkan-tools glslc mesa-vulkan-drivers spirv-tools
  # libraries
  libopencv-dev libgtest-dev libgmock-dev libhwy-dev libcli11-dev nlohmann-json3-dev
  libeigen3-dev  # the implicit methods' dense maths (engine/src/cpu/implicit_fast.cpp)
  # training (CPU) and sample media
  python3-numpy python3-torch opencv-doc
  # docs/PERFORMANCE.md plot (scripts/plot_performance.py)
  python3-matplotlib
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
