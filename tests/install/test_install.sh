#!/bin/sh
# `meson install` gives an application what it needs (suite 'install'):
# installs the build into a temporary destdir, checks the headers, the
# pkg-config file and the library's exports (vkvae_* only: volk's vk*
# pointers must stay private), then builds tests/install/app.c OUTSIDE the
# tree with `cc app.c $(pkg-config --cflags --libs vkvae)` and runs it.
#   test_install.sh BUILD_DIR SOURCE_DIR MESON CC PKG_CONFIG
set -eu
build=$1 src=$2 meson=$3 cc=$4 pkgconfig=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }
pc=$(find "$tmp/root" -name vkvae.pc | head -n 1)
[ -n "$pc" ] || { echo "vkvae.pc was not installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
for h in vkvae.h error.h status.def; do
    [ -f "$tmp/root$prefix/include/vkvae/$h" ] || { echo "$h was not installed"; exit 1; }
done

# pkg-config reads the installed file with its prefix moved into the
# destdir (only vkvae's: the packages it requires stay where they are).
mkdir "$tmp/pc"
sed "s|^prefix=.*|prefix=$tmp/root$prefix|" "$pc" >"$tmp/pc/vkvae.pc"
export PKG_CONFIG_PATH="$tmp/pc"
lib=$(find "$tmp/root" -name 'libvkvae.so*' -type f | head -n 1)
if [ -n "$lib" ]; then
    flags=$("$pkgconfig" --cflags --libs vkvae)
    leaked=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRBVW]$/ && $3 !~ /^vkvae_/ {print $3}')
    [ -z "$leaked" ] || { echo "libvkvae exports symbols outside vkvae_*:"; echo "$leaked" | head; exit 1; }
    libdir=$(dirname "$lib")
else # -Ddefault_library=static: the link needs Libs.private and Requires.private
    flags=$("$pkgconfig" --static --cflags --libs vkvae)
    libdir=
fi
echo "pkg-config --cflags --libs vkvae: $flags"

# An application's build: its own folder, strict flags, nothing from the tree.
mkdir "$tmp/app"
cp "$src/tests/install/app.c" "$tmp/app/"
cd "$tmp/app"
# shellcheck disable=SC2086 # pkg-config output is a list of flags
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -o app app.c $flags
# The same header with volk's convention (no Vulkan prototypes).
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -DVK_NO_PROTOTYPES -c -o app_noproto.o app.c $flags
LD_LIBRARY_PATH="$libdir" ./app
