#!/bin/sh
# `meson install` gives an application what it needs, and so does the build
# folder (suite 'install'): installs the build into a temporary destdir,
# checks the headers, the pkg-config file and the library's exports
# (vkvae_* only: volk's vk* pointers must stay private), then builds each
# program OUTSIDE the tree, twice, the way an application is built:
#   installed    cc app.c $(pkg-config --cflags --libs vkvae), with vkvae.pc
#                from the destdir; run with LD_LIBRARY_PATH at its libdir;
#   uninstalled  the same with PKG_CONFIG_PATH=BUILD_DIR/meson-uninstalled
#                and vkvae-uninstalled; run with no LD_LIBRARY_PATH at all:
#                the rpath that file's Libs carry finds libvkvae.
# Both ways must reach vkvae's headers as <vkvae/...> only (no -I folder
# holds a bare error.h, which would shadow glibc's). The programs:
# tests/install/app.c, then any further C files given, each run with no
# arguments in a folder of its own.
#   test_install.sh BUILD_DIR SOURCE_DIR MESON CC PKG_CONFIG [PROGRAM.c ...]
set -eu
build=$1 src=$2 meson=$3 cc=$4 pkgconfig=$5
shift 5
set -- "$src/tests/install/app.c" "$@"
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
lib=$(find "$tmp/root" -name 'libvkvae.so*' -type f | head -n 1)
if [ -n "$lib" ]; then
    static=
    leaked=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRBVW]$/ && $3 !~ /^vkvae_/ {print $3}')
    [ -z "$leaked" ] || { echo "libvkvae exports symbols outside vkvae_*:"; echo "$leaked" | head; exit 1; }
    libdir=$(dirname "$lib")
else # -Ddefault_library=static: the link needs Libs.private and Requires.private
    static=--static
    libdir=
fi

# pkg_flags PC_DIR NAME: the package's compile and link flags, checked to
# put no folder with a bare error.h on the include path.
pkg_flags() {
    # shellcheck disable=SC2086 # $static: empty or --static
    flags=$(PKG_CONFIG_PATH=$1 "$pkgconfig" $static --cflags --libs "$2")
    echo "pkg-config --cflags --libs $2: $flags" >&2
    for f in $flags; do
        case $f in -I*) [ ! -e "${f#-I}/error.h" ] ||
            { echo "$2: ${f#-I} holds an error.h, which shadows <error.h>" >&2; exit 1; } ;;
        esac
    done
    echo "$flags"
}
installed=$(pkg_flags "$tmp/pc" vkvae)
uninstalled=$(pkg_flags "$build/meson-uninstalled" vkvae-uninstalled)

# build_and_run WAY FLAGS PROGRAM.c: an application's build, in its own
# folder with strict flags and nothing from the tree, also with volk's
# convention (no Vulkan prototypes); then the program runs there.
build_and_run() {
    way=$1 flags=$2 name=$(basename "$3" .c)
    dir="$tmp/$way/$name"
    mkdir -p "$dir"
    cp "$3" "$dir/"
    echo "== $name, built against the $way vkvae"
    (
        cd "$dir"
        # shellcheck disable=SC2086 # pkg-config output is a list of flags
        "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -o "$name" "$name.c" $flags -lm
        # shellcheck disable=SC2086
        "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -DVK_NO_PROTOTYPES -c -o noproto.o \
            "$name.c" $flags
        if [ "$way" = installed ]; then
            LD_LIBRARY_PATH="$libdir" "./$name"
        else
            unset LD_LIBRARY_PATH
            if [ -z "$static" ]; then # the rpath, not the environment, finds the build's library
                found=$(ldd "./$name" | awk '$1 ~ /^libvkvae\.so/ {print $3}')
                [ "$(dirname "$found")" = "$build" ] ||
                    { echo "$name loads libvkvae from '$found', not from $build"; exit 1; }
            fi
            "./$name"
        fi
    )
}

for program in "$@"; do
    build_and_run installed "$installed" "$program"
    build_and_run uninstalled "$uninstalled" "$program"
done
