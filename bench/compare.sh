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
#                    [--sample] [--json FILE] [--model M] [--data DIR]
#                    [--limit N] [--test-limit N]
#
# --model M trains M on both sides (default vae_mlp; also vae_conv32 and
# vae_conv64, whose twins pytorch_vae.py holds); --data DIR is the IDX
# folder both read (the conv models need one: bench/make_colour_set.py);
# --limit N / --test-limit N train / test on the first N images, both sides.
# Each round line also gives each side's test -ELBO after the last epoch.
#
# --sample compares sampling instead of training: 10,000 images from the
# prior of vae_mlp (untrained: the time does not depend on the weights),
# ours through vkvae_session_sample on the CPU backend, as `vkvae sample`
# does (DIR/tests/cpu/test_cpu_fast sample: one warm-up, median of 5), the
# peer's randn + decode + sigmoid in one batch (pytorch_vae.py --epochs 0:
# one warm-up, median of 5). Figures are milliseconds per 10,000.
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
sample=0
json=""
model=vae_mlp
data_args=()
PY=${PEER_PYTHON:-/usr/bin/python3}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while [ $# -gt 0 ]; do
    case $1 in
        --epochs) epochs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --peer-only) peer_only=1; shift ;;
        --sample) sample=1; shift ;;
        --json) json=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --data) data_args+=(--data "$2"); shift 2 ;;
        --limit) data_args+=(--limit "$2"); shift 2 ;;
        --test-limit) data_args+=(--test-limit "$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ $sample = 1 ] && [ "$model" != vae_mlp ]; then
    echo "compare.sh: --sample compares vae_mlp only (got --model $model)" >&2
    exit 2
fi
vkvae=$build/vkvae
sampler=$build/tests/cpu/test_cpu_fast
if [ $sample = 1 ] && [ $peer_only = 0 ] && [ ! -x "$sampler" ]; then
    echo "compare.sh: --sample needs $sampler (meson compile -C $build)" >&2
    exit 2
fi
if [ $sample = 0 ] && [ $peer_only = 0 ] && ! "$vkvae" train --help >/dev/null 2>&1; then
    echo "compare.sh: '$vkvae train --help' fails: vkvae has no working 'train'" \
         "command in $build yet." >&2
    echo "compare.sh: build it (meson compile -C $build) once 'vkvae train' exists," \
         "or run the PyTorch half alone: bench/compare.sh --peer-only" >&2
    exit 2
fi

# The fair-peer environment, for the peer's runs only (ours must not see
# LD_LIBRARY_PATH or OMP_WAIT_POLICY changes). OPENBLAS_CORETYPE is unset
# for both programs alike, so both get the kernels OpenBLAS picks for this
# CPU: some machines preset Haswell, which on an AVX-512 CPU costs OpenBLAS
# a third of its speed (200 against 310 GFLOP/s here, BENCHMARKS.md).
mapfile -t peer_env < <(PEER_ENV_QUIET=1 bash -c ". '$here/peer_env.sh' && env" | \
                        grep -E '^(LD_LIBRARY_PATH|OMP_WAIT_POLICY)=')
work=$(mktemp -d "${TMPDIR:-/tmp}/vkvae-compare-XXXXXX")
trap 'rm -rf "$work"' EXIT

run_ours() {   # round -> prints epoch times, one a line
    local out=$work/ours$1 log=$work/ours$1.log
    # shellcheck disable=SC2086
    if ! env -u OPENBLAS_CORETYPE "$vkvae" train "$model" --epochs "$epochs" --out "$out" --samples 0 \
            "${data_args[@]}" ${VKVAE_TRAIN_ARGS:-} >"$log" 2>&1; then
        echo "compare.sh: vkvae train failed (round $1):" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    [ "$1" = 1 ] && grep -m1 '^vkvae: training' "$log" >&2   # the device, once
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "test_loss") c = i; next }
             c { v = $c } END { print v }' "$out/metrics.csv" >"$work/elbo_ours$1"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i; next }
             c { print $c }' "$out/metrics.csv"
}

run_peer() {   # round -> prints epoch times, one a line
    local out=$work/peer$1.json log=$work/peer$1.log
    if ! env -u OPENBLAS_CORETYPE "${peer_env[@]}" "$PY" "$here/pytorch_vae.py" \
            --model "$model" --epochs "$epochs" --samples 0 "${data_args[@]}" \
            --json "$out" >"$log" 2>&1; then
        echo "compare.sh: pytorch_vae.py failed (round $1):" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    [ "$1" = 1 ] && head -n 1 "$log" >&2   # the peer's config line, once
    "$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["epochs"][-1]["test_nelbo"] if r["epochs"] else "nan", file=open(sys.argv[2], "w"))
for e in r["epochs"]: print(e["train_s"])' "$out" "$work/elbo_peer$1"
}

sample_ours() {   # round -> prints ms per 10,000 samples
    local log=$work/sample_ours$1.log
    if ! env -u OPENBLAS_CORETYPE "$sampler" sample 10000 5 >"$log" 2>&1; then
        echo "compare.sh: test_cpu_fast sample failed (round $1):" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$log"
}

sample_peer() {   # round -> prints ms per 10,000 samples
    local out=$work/sample_peer$1.json log=$work/sample_peer$1.log
    if ! env -u OPENBLAS_CORETYPE "${peer_env[@]}" "$PY" "$here/pytorch_vae.py" \
            --epochs 0 --samples 10000 --json "$out" >"$log" 2>&1; then
        echo "compare.sh: pytorch_vae.py --samples failed (round $1):" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    "$PY" -c 'import json, sys
print(1000 * json.load(open(sys.argv[1]))["sample_s_median"])' "$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
    else if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

what="$epochs epoch(s)"
unit="s/epoch"
if [ $sample = 1 ]; then
    what="sampling 10,000"
    unit="ms/10,000 samples"
fi
echo "compare: $model, $what x $rounds round(s), $(nproc) CPUs," \
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
        if [ $sample = 1 ]; then
            times=$("sample_$who" "$r") || exit 1
        else
            times=$("run_$who" "$r") || exit 1
        fi
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
    elbo_ours=$(cat "$work/elbo_ours$r" 2>/dev/null || echo nan)
    elbo_peer=$(cat "$work/elbo_peer$r" 2>/dev/null || echo nan)
    rows+=("$r $ours_med $peer_med $ratio ${elbo_ours:-nan} ${elbo_peer:-nan}")
    elbo=""
    [ $sample = 0 ] && elbo=$(printf ', test -ELBO vkvae %.2f, pytorch %.2f' "${elbo_ours:-nan}" "${elbo_peer:-nan}")
    printf 'round %d: vkvae %s %s, pytorch %s %s, pytorch/vkvae %s%s (load at start:%s)\n' \
        "$r" "$ours_med" "$unit" "$peer_med" "$unit" "$ratio" "$elbo" "$load"
done

peer_all=$(printf '%s\n' "${rows[@]}" | awk '{ print $3 }' | median)
if [ $peer_only = 1 ]; then
    echo "pytorch: median over rounds: $peer_all $unit"
    ratio_all=nan
else
    ours_all=$(printf '%s\n' "${rows[@]}" | awk '{ print $2 }' | median)
    ratio_all=$(printf '%s\n' "${ratios[@]}" | median)
    echo "vkvae $ours_all $unit, pytorch $peer_all $unit; speed-up (pytorch/vkvae," \
         "median of per-round ratios): $ratio_all"
fi
if [ -n "$json" ]; then
    printf '%s\n' "${rows[@]}" | "$PY" -c 'import json, sys
rows = [l.split() for l in sys.stdin if l.strip()]
f = lambda s: None if s == "nan" else float(s)
json.dump({"model": sys.argv[5], "epochs": int(sys.argv[2]), "unit": sys.argv[4],
           "rounds": [{"round": int(r), "vkvae_s": f(o), "pytorch_s": f(p), "ratio": f(q),
                       "vkvae_test_nelbo": f(eo), "pytorch_test_nelbo": f(ep)}
                      for r, o, p, q, eo, ep in rows],
           "ratio_median": f(sys.argv[3])}, open(sys.argv[1], "w"), indent=1)' \
        "$json" "$epochs" "$ratio_all" "$unit" "$model"
fi
