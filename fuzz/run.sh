#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for a time budget.
#   fuzz/run.sh [seconds-per-target]      (default 60)
# Environment:
#   FUZZ_BUILD    build folder (default build-fuzz, configured with CC=clang)
#   FUZZ_TARGETS  which targets (default: every fuzz/fuzz_*.c, e.g. "idx")
#   FUZZ_ARGS     extra libFuzzer flags, e.g. "-fork=2" or "-max_len=65536"
# Each target grows a working corpus in $FUZZ_BUILD/fuzz-corpus/<target>
# (kept between runs, so longer campaigns accumulate) on top of the seeds in
# fuzz/corpus/<target>, the folders fuzz/corpus/<target>.dirs names and
# fuzz/regressions/<target>, which it never writes.
# A crash leaves its input in $FUZZ_BUILD/fuzz-artifacts/<target>/; copy it
# to fuzz/regressions/<target>/ once fixed (and a case to the unit tests).
# Exit status: 0 when every target ran its budget without a finding, 1 when
# one found something, 2 when the build failed.
set -u
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-build-fuzz}
case $build in /*) ;; *) build=$root/$build ;; esac
all=$(cd "$root/fuzz" && for f in fuzz_*.c; do n=${f#fuzz_}; printf '%s ' "${n%.c}"; done)
targets=${FUZZ_TARGETS:-$all}

if [ ! -f "$build/build.ninja" ]; then
    CC=${FUZZ_CC:-clang} meson setup "$build" "$root" >"$build.setup.log" 2>&1 || {
        cat "$build.setup.log" >&2
        echo "fuzz/run.sh: meson setup of $build with clang failed" >&2
        exit 2
    }
    rm -f "$build.setup.log"
fi
if ! grep -q "clang" "$build/meson-logs/meson-log.txt" 2>/dev/null; then
    echo "fuzz/run.sh: $build is not configured with clang; remove it or set FUZZ_BUILD" >&2
    exit 2
fi
exes=""
for t in $targets; do exes="$exes fuzz/fuzz_$t"; done
# shellcheck disable=SC2086
meson compile -C "$build" $exes || { echo "fuzz/run.sh: build failed" >&2; exit 2; }

status=0
for t in $targets; do
    work=$build/fuzz-corpus/$t
    art=$build/fuzz-artifacts/$t
    mkdir -p "$work" "$art"
    dict=""
    [ -f "$root/fuzz/$t.dict" ] && dict="-dict=$root/fuzz/$t.dict"
    seeds="$root/fuzz/corpus/$t"
    if [ -f "$root/fuzz/corpus/$t.dirs" ]; then
        while read -r d; do [ -n "$d" ] && seeds="$seeds $root/$d"; done <"$root/fuzz/corpus/$t.dirs"
    fi
    [ -d "$root/fuzz/regressions/$t" ] && seeds="$seeds $root/fuzz/regressions/$t"
    echo "== fuzz_$t for ${seconds}s (corpus $work)"
    # shellcheck disable=SC2086
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" $dict ${FUZZ_ARGS:-} \
        "$work" $seeds 2>"$build/fuzz-$t.log"
    rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' \
        "$build/fuzz-$t.log" | sed 's/^/   /'
    echo "   corpus: $(find "$work" -type f | wc -l) inputs; log: $build/fuzz-$t.log"
    if [ $rc -ne 0 ]; then
        echo "fuzz_$t: FINDING (exit $rc); input(s) in $art:" >&2
        ls "$art" >&2
        grep -m20 -E 'ERROR|SUMMARY|invariant|runtime error' "$build/fuzz-$t.log" >&2
        status=1
    fi
done
exit $status
