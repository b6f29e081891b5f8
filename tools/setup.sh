#!/bin/sh
# Installs what vkvae needs from Debian's archive (only what is missing) and
# configures the Meson build folder. Idempotent; silent when nothing is to do.
#   tools/setup.sh [BUILD_DIR] [meson options...]     (BUILD_DIR defaults to build)
set -eu

packages="meson ninja-build gcc pkg-config glslang-tools libvulkan-dev
libvulkan-volk-dev mesa-vulkan-drivers vulkan-validationlayers
dataset-fashion-mnist libpng-dev libjpeg62-turbo-dev zlib1g-dev libopenblas-dev
libglfw3-dev xvfb xauth libopenmpi-dev openmpi-bin wamerican"

# The libFuzzer targets (fuzz/run.sh; .ci/run's short fuzz run) need clang
# and its fuzzer runtime: VKVAE_SETUP_FUZZ=1 adds them.
if [ "${VKVAE_SETUP_FUZZ:-0}" = 1 ]; then
    packages="$packages clang libclang-rt-14-dev"
fi

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=""
    elif command -v sudo >/dev/null 2>&1; then
        as_root="sudo"
    else
        echo "setup: missing packages:$missing; run this script as root or install sudo" >&2
        exit 1
    fi
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Fresh machines often have no package lists yet: update before installing.
    $as_root apt-get update -qq
    # shellcheck disable=SC2086
    $as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

root=$(cd "$(dirname "$0")/.." && pwd)
build="${1:-$root/build}"
[ $# -gt 0 ] && shift
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" "$@" >/dev/null
elif [ $# -gt 0 ]; then
    meson configure "$build" "$@" >/dev/null
fi
