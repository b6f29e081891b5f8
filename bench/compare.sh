#!/bin/bash
# Side-by-side training speed: vkvae against the fair PyTorch peer, same
# model (vae_mlp = PyTorch's examples/vae), same data, same epochs, on this
# machine, in one run. BRIEF.md section 5 asks for a ratio measured in one
# run, with the two programs interleaved and repeated, because two-thread
# figures on shared machines are bimodal: so each round runs both, the
# order alternating (ours first in odd rounds, the peer first in even ones),
# and the ratio is taken per round and then as the median over rounds.
# Each round line shows the 1-minute load average when each program
# started: other people's builds on a 2-core machine show up there.
#
#   bench/compare.sh [--epochs N] [--rounds R] [--build DIR] [--peer-only]
#                    [--json FILE]
#
# --peer-only runs just the PyTorch half (no vkvae build needed). Without it, vkvae
# must have a `train` command: `DIR/vkvae train --help` must succeed, or
# this exits 2 with a message. VKVAE_TRAIN_ARGS adds arguments to ours
# (e.g. "--device cpu" for vkvae's CPU backend, "--device llvmpipe").
#
# What we read from `vkvae train vae_mlp --epochs N --out DIR` (the
# contract its output must keep): DIR/metrics.csv with a header row and a
# "seconds" column, one row per epoch, holding the wall time of that
# epoch's training steps (test pass excluded), as pytorch_vae.py's train_s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
epochs=3
rounds=3
build=$root/build
peer_only=0
json=""
PY=${PEER_PYTHON:-/usr/bin/python3}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while [ $# -gt 0 ]; do
    case $1 in
        --epochs) epochs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --peer-only) peer_only=1; shift ;;
        --json) json=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

vkvae=$build/vkvae
if [ $peer_only = 0 ] && ! "$vkvae" train --help >/dev/null 2>&1; then
    echo "compare.sh: '$vkvae train --help' fails: vkvae has no working 'train'" \
         "command in $build yet." >&2
    echo "compare.sh: build it (meson compile -C $build) once 'vkvae train' exists," \
         "or run the PyTorch half alone: bench/compare.sh --peer-only" >&2
    exit 2
fi

# The fair-peer environment, for the peer's runs only (ours must not see
# LD_LIBRARY_PATH or OMP_WAIT_POLICY changes).
mapfile -t peer_env < <(PEER_ENV_QUIET=1 bash -c ". '$here/peer_env.sh' && env" | \
                        grep -E '^(LD_LIBRARY_PATH|OMP_WAIT_POLICY)=')
work=$(mktemp -d "${TMPDIR:-/tmp}/vkvae-compare-XXXXXX")
trap 'rm -rf "$work"' EXIT

run_ours() {   # round -> prints epoch times, one a line
    local out=$work/ours$1 log=$work/ours$1.log
    # shellcheck disable=SC2086
    if ! "$vkvae" train vae_mlp --epochs "$epochs" --out "$out" --samples 0 \
            ${VKVAE_TRAIN_ARGS:-} >"$log" 2>&1; then
        echo "compare.sh: vkvae train failed (round $1):" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    [ "$1" = 1 ] && grep -m1 '^vkvae: training' "$log" >&2   # the device, once
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i; next }
             c { print $c }' "$out/metrics.csv"
}

run_peer() {   # round -> prints epoch times, one a line
    local out=$work/peer$1.json log=$work/peer$1.log
    if ! env -u OPENBLAS_CORETYPE "${peer_env[@]}" "$PY" "$here/pytorch_vae.py" \
            --epochs "$epochs" --samples 0 --json "$out" >"$log" 2>&1; then
        echo "compare.sh: pytorch_vae.py failed (round $1):" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    [ "$1" = 1 ] && head -n 1 "$log" >&2   # the peer's config line, once
    "$PY" -c 'import json, sys
for e in json.load(open(sys.argv[1]))["epochs"]: print(e["train_s"])' "$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
    else if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "compare: vae_mlp, $epochs epoch(s) x $rounds round(s), $(nproc) CPUs," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
ratios=()
rows=()
for r in $(seq 1 "$rounds"); do
    order="ours peer"
    [ $((r % 2)) = 0 ] && order="peer ours"
    ours_med=nan
    peer_med=nan
    load=""
    for who in $order; do
        [ "$who" = ours ] && [ $peer_only = 1 ] && continue
        load="$load $who:$(cut -d' ' -f1 /proc/loadavg)"
        times=$("run_$who" "$r") || exit 1
        if [ -z "$times" ]; then
            echo "compare.sh: no epoch times found in $who's output (round $r)" >&2
            exit 1
        fi
        med=$(printf '%s\n' "$times" | median)
        if [ "$who" = ours ]; then ours_med=$med; else peer_med=$med; fi
    done
    ratio=nan
    if [ $peer_only = 0 ]; then
        ratio=$(awk -v p="$peer_med" -v o="$ours_med" 'BEGIN { printf "%.3f", p / o }')
        ratios+=("$ratio")
    fi
    rows+=("$r $ours_med $peer_med $ratio")
    printf 'round %d: vkvae %s s/epoch, pytorch %s s/epoch, pytorch/vkvae %s (load at start:%s)\n' \
        "$r" "$ours_med" "$peer_med" "$ratio" "$load"
done

peer_all=$(printf '%s\n' "${rows[@]}" | awk '{ print $3 }' | median)
if [ $peer_only = 1 ]; then
    echo "pytorch: median over rounds of the per-round median epoch: $peer_all s"
    ratio_all=nan
else
    ours_all=$(printf '%s\n' "${rows[@]}" | awk '{ print $2 }' | median)
    ratio_all=$(printf '%s\n' "${ratios[@]}" | median)
    echo "vkvae $ours_all s/epoch, pytorch $peer_all s/epoch; speed-up (pytorch/vkvae," \
         "median of per-round ratios): $ratio_all"
fi
if [ -n "$json" ]; then
    printf '%s\n' "${rows[@]}" | "$PY" -c 'import json, sys
rows = [l.split() for l in sys.stdin if l.strip()]
f = lambda s: None if s == "nan" else float(s)
json.dump({"epochs": int(sys.argv[2]), "rounds": [{"round": int(r), "vkvae_s": f(o),
           "pytorch_s": f(p), "ratio": f(q)} for r, o, p, q in rows],
           "ratio_median": f(sys.argv[3])}, open(sys.argv[1], "w"), indent=1)' \
        "$json" "$epochs" "$ratio_all"
fi
