#!/bin/bash
# Measure vkvae on a machine with a real GPU, in minutes: build (unless a
# build folder is given), list the devices, run the whole test suite on the
# GPU, time every kernel of each built-in model (vkvae bench), train the
# MLP and conv VAEs on the GPU and on vkvae's CPU backend and, where PyTorch
# with CUDA is installed, train their PyTorch twins on the same GPU in the
# same run; then write one report.
#
#   tools/gpu_check.sh [--build DIR] [--out DIR] [--device D] [--jobs N]
#                      [--epochs N] [--suite-deadline S] [--skip-suite] [--skip-train]
#                      [--exclude TEST,...] [--models M,...] [--sides S,...]
#
# --build DIR   a build folder (default build-gpu-check, made with
#               `meson setup --buildtype=release` when it has no vkvae)
# --out DIR     where report.md and the raw figures go (default gpu-check)
# --device D    the Vulkan device (index or name substring; default: the best)
# --suite-deadline S   start no test after S seconds (default: none)
# --exclude T,...      leave these tests out (e.g. the CPU-only ones, to save GPU time)
# --models M,...       bench only these built-in models (default: every one)
# --sides S,...        which sides train: gpu, cpu, torch (default all three)
# --epochs N    training epochs per model and side (default 3; the first
#               epoch warms up, the report takes the median)
#
# Tests run with tools/run_suite.py, which reads Meson's test list, so a
# build folder carried to a machine without Meson still runs them. The
# report's tables are also printed last. PYTHON names the python3 to use
# (numpy needed; torch with CUDA for the PyTorch side). Exit status: 1 if any test failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$root/build-gpu-check
out=$root/gpu-check
device=""
jobs=$(nproc)
epochs=3
skip_suite=0
exclude=()
only_models=""
sides="gpu cpu torch"
suite_deadline=()
skip_train=0
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=$(realpath -m "$2"); shift 2 ;;
        --out) out=$(realpath -m "$2"); shift 2 ;;
        --device) device=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --suite-deadline) suite_deadline=(--deadline "$2"); shift 2 ;;
        --skip-suite) skip_suite=1; shift ;;
        --exclude) for t in ${2//,/ }; do exclude+=(--exclude "$t"); done; shift 2 ;;
        --models) only_models=${2//,/ }; shift 2 ;;
        --sides) sides=${2//,/ }; shift 2 ;;
        --skip-train) skip_train=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gpu_check.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out" || exit 2
log=$out/log.txt
: >"$log"
say() { echo "$*" | tee -a "$log"; }
devarg=()
[ -n "$device" ] && devarg=(--device "$device")

if [ ! -x "$build/vkvae" ]; then
    say "== building in $build"
    { meson setup "$build" "$root" --buildtype=release && meson compile -C "$build"; } \
        >>"$log" 2>&1 || { say "gpu_check.sh: the build failed (see $log)"; exit 2; }
fi
vkvae=$build/vkvae
py=${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
start=$(date +%s)

{
    echo "# vkvae GPU check"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); vkvae $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- host: $(uname -srm), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))"
    if command -v nvidia-smi >/dev/null; then
        echo "- nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"
    fi
    echo
    echo '```'
    "$vkvae" info "${devarg[@]}" 2>&1
    echo '```'
} >"$out/report.md"
cat "$out/report.md" | tee -a "$log"

say "== vkvae selftest"
"$vkvae" selftest "${devarg[@]}" >"$out/selftest.txt" 2>&1
selftest_rc=$?
say "$(tail -1 "$out/selftest.txt") (exit $selftest_rc)"

suite_rc=0
if [ $skip_suite = 0 ]; then
    say "== test suite ($jobs at a time)"
    "$py" "$here/run_suite.py" "$build" --jobs "$jobs" --json "$out/suite.json" \
        "${suite_deadline[@]}" "${exclude[@]}" 2>&1 | tee "$out/suite.txt" | tee -a "$log"
    suite_rc=${PIPESTATUS[0]}
fi

say "== vkvae bench, every built-in model"
models=${only_models:-$("$vkvae" models | awk 'NR > 1 { print $1 }')}
for m in $models; do
    "$vkvae" bench "$m" "${devarg[@]}" --runs 10 --json "$out/bench_$m.json" \
        >"$out/bench_$m.txt" 2>&1 || say "bench $m failed: $(tail -1 "$out/bench_$m.txt")"
done
if "$vkvae" info "${devarg[@]}" 2>/dev/null | grep -A20 '(chosen)' | grep -q 'fp16 yes'; then
    for m in vae_mlp vae_conv64; do   # the products in fp16, where the device has it
        case " $models " in *" $m "*) ;; *) continue ;; esac
        "$vkvae" bench "$m" "${devarg[@]}" --runs 10 --precision fp16 \
            --json "$out/bench_${m}_fp16.json" >"$out/bench_${m}_fp16.txt" 2>&1 ||
            say "bench $m fp16 failed: $(tail -1 "$out/bench_${m}_fp16.txt")"
    done
fi

train_one() {   # SIDE MODEL DATA EXTRA...: one training run, its metrics.csv kept
    local side=$1 model=$2 data=$3; shift 3
    case " $sides " in *" $side "*) ;; *) return ;; esac
    local dir=$out/runs/${side}_$model
    case $side in
        gpu) "$vkvae" train "$model" --data "$data" --epochs "$epochs" --out "$dir" \
                 --overwrite --samples 0 "${devarg[@]}" "$@" >"$dir.txt" 2>&1 ;;
        cpu) "$vkvae" train "$model" --data "$data" --epochs "$epochs" --out "$dir" \
                 --overwrite --samples 0 --device cpu "$@" >"$dir.txt" 2>&1 ;;
        torch) "$py" "$root/bench/pytorch_vae.py" --model "$model" --data "$data" \
                 --epochs "$epochs" --device cuda --threads "$(nproc)" --samples 0 \
                 --json "$dir.json" "$@" >"$dir.txt" 2>&1 ;;
    esac || say "train $side $model failed: $(tail -1 "$dir.txt")"
}

if [ $skip_train = 0 ]; then
    mkdir -p "$out/runs"
    torch_cuda=0
    "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' \
        2>/dev/null && torch_cuda=1
    fm=/usr/share/datasets/fashion-mnist
    [ -d "${FASHION_MNIST:-}" ] && fm=$FASHION_MNIST
    colour=$out/colour32
    "$py" "$root/bench/make_colour_set.py" "$colour" --size 32 --train 10000 \
        --test 1000 >>"$log" 2>&1 || say "make_colour_set.py failed (numpy?)"
    for spec in "vae_mlp $fm" "vae_conv32 $colour"; do
        set -- $spec
        say "== training $1, $epochs epochs: GPU, CPU backend$([ $torch_cuda = 1 ] && echo ', PyTorch CUDA')"
        train_one gpu "$1" "$2"
        train_one cpu "$1" "$2"
        [ $torch_cuda = 1 ] && train_one torch "$1" "$2"
    done
fi

# The tables, from the files above.
"$py" - "$out" "$epochs" >>"$out/report.md" <<'EOF'
import csv, glob, json, os, statistics, sys
out, epochs = sys.argv[1], int(sys.argv[2])
print()
try:
    suite = json.load(open(os.path.join(out, "suite.json")))
    bad = [r for r in suite if r["verdict"] == "FAIL"]
    print(f"## Test suite: {sum(r['verdict'] == 'OK' for r in suite)} passed, "
          f"{len(bad)} failed, {sum(r['verdict'] == 'SKIP' for r in suite)} skipped, "
          f"{sum(r['seconds'] for r in suite):.0f} s of test time")
    for r in bad:
        print(f"- FAIL {r['name']} (rc {r['rc']}, {r['seconds']} s): "
              + " / ".join(r["output"].strip().splitlines()[-3:])[:400])
except OSError:
    print("## Test suite: not run")
print()
print("## vkvae bench: one training step")
print()
print("| model | step ms | GFLOP/s | implied epoch s | img/s | sampling img/s | FMA roof GFLOP/s | copy GB/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for path in sorted(glob.glob(os.path.join(out, "bench_*.json"))):
    try:
        b = json.load(open(path))
    except (OSError, ValueError):
        continue
    name = os.path.basename(path)[6:-5]
    st, ro = b["train_step"], b["roofs"]
    sampling = f"{b['sample']['images_per_s']:.0f}" if "sample" in b else "-"
    gflops = st["plan_flops"] / st["step_ms"] / 1e6
    print(f"| {name} | {st['step_ms']:.3f} | {gflops:.1f} | {st['epoch_s']:.2f} | "
          f"{st['images_per_s']:.0f} | {sampling} | {ro['fma_gflops']:.0f} | "
          f"{ro['copy_gbs']:.0f} |")
print()
runs = os.path.join(out, "runs")
if os.path.isdir(runs):
    print(f"## Training, {epochs} epochs each (median epoch after the first)")
    print()
    print("| model | side | train s/epoch | img/s | test -ELBO last | vs PyTorch CUDA |")
    print("|---|---|---:|---:|---:|---:|")
    def vkvae_run(side, model):
        try:
            rows = list(csv.DictReader(open(os.path.join(runs, f"{side}_{model}", "metrics.csv"))))
        except OSError:
            return None
        secs = [float(r["seconds"]) for r in rows]
        return statistics.median(secs[1:] or secs), float(rows[-1]["test_loss"])
    def torch_run(model):
        try:
            j = json.load(open(os.path.join(runs, f"torch_{model}.json")))
        except (OSError, ValueError):
            return None
        secs = [e["train_s"] for e in j["epochs"]]
        return statistics.median(secs[1:] or secs), j["epochs"][-1]["test_nelbo"], j["train_images"]
    images = {"vae_mlp": 60000, "vae_conv32": 10000}
    for model in ("vae_mlp", "vae_conv32"):
        t = torch_run(model)
        for side, label in (("gpu", "vkvae Vulkan GPU"), ("cpu", "vkvae CPU backend")):
            r = vkvae_run(side, model)
            if r:
                ratio = f"{t[0] / r[0]:.2f}x" if t else "-"
                print(f"| {model} | {label} | {r[0]:.3f} | {images[model] / r[0]:.0f} | "
                      f"{r[1]:.2f} | {ratio} |")
        if t:
            print(f"| {model} | PyTorch CUDA | {t[0]:.3f} | {t[2] / t[0]:.0f} | {t[1]:.2f} | 1 |")
EOF
echo "- vkvae selftest: $(tail -1 "$out/selftest.txt") (exit $selftest_rc)" >>"$out/report.md"
elapsed=$(( $(date +%s) - start ))
echo "- checked in ${elapsed} s" >>"$out/report.md"
say "== report: $out/report.md"
sed -n '/^## Test suite/,$p' "$out/report.md"
exit $(( suite_rc != 0 || selftest_rc != 0 ))
