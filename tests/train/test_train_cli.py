#!/usr/bin/env python3
"""vkvae train from the outside: bad inputs fail with one line and exit 1,
resuming equals not stopping, and the GPU follows the CPU's loss curve.

  test_train_cli.py VKVAE errors|resume|curve|fp16|export

errors  truncated, mislabelled and wrong-shaped IDX data, a corrupt
        checkpoint and another model's checkpoint: each one line on stderr
        naming the file, exit status 1, and no checkpoint written.
resume  2 epochs straight, and 1 epoch then --resume for the second, give
        byte-identical checkpoints (parameters, Adam moments, state), though
        the straight run wrote samples-e001.png and samples-e002.png
        (--sample-every 1) between its epochs.
curve   200 steps on a 1,000-image subset: the GPU's per-epoch train loss
        follows the CPU backend's within 1e-3 relative.
fp16    the same with --precision fp16 (fp16 products): within 1e-2 relative
        (lavapipe: 2.1e-3 seen), and not equal to the fp32 GPU run's curve
        (the fp16 kernels ran); skipped (77) on a device without fp16.
export  vkvae export of a brief run: the checkpoint's tensors but "optim.*",
        same names, shapes and bytes, the metadata kept ("optimizer"
        "none"); sample takes it as it takes the checkpoint, train --resume
        refuses it; a missing CKPT, a file that is no checkpoint and an
        unwritable OUT each fail with one line naming the file and leave OUT
        as it was. With PyTorch installed, bench/pytorch_vae.py's VAE also
        takes it through a strict load_state_dict (else a skip note).
"""
import csv
import gzip
import importlib.util
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

from cli_test import check, failures, read_safetensors

FASHION = "/usr/share/datasets/fashion-mnist"


def write_idx(path, dims, data, magic=None, gz=True):
    kind = 0x0803 if len(dims) == 3 else 0x0801
    header = struct.pack(">I", magic if magic is not None else kind)
    header += b"".join(struct.pack(">I", d) for d in dims)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(header + bytes(data))


def make_set(folder, n=300, side=28, classes=10, label_count=None, truncate=False):
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(7)
    for prefix, count in (("train", n), ("t10k", n // 3)):
        pixels = [rng.randrange(256) for _ in range(count * side * side)]
        if truncate and prefix == "train":
            pixels = pixels[: len(pixels) // 2]
        write_idx(f"{folder}/{prefix}-images-idx3-ubyte.gz", (count, side, side), pixels)
        labels = [rng.randrange(classes) for _ in range(count)]
        lc = label_count if (label_count is not None and prefix == "train") else count
        write_idx(f"{folder}/{prefix}-labels-idx1-ubyte.gz", (lc,), labels[:lc] + [0] * (lc - count if lc > count else 0))


def run(vkvae, *args, env=None):
    p = subprocess.run([vkvae, *args], capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def error_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("vkvae: error:")]


def expect_error(vkvae, what, needle, *args):
    rc, _, err = run(vkvae, "train", *args)
    lines = error_lines(err)
    check(rc == 1 and len(lines) == 1 and needle in lines[0],
          f"{what}: exit 1 with one error line containing '{needle}' (got {rc}: {lines})")


def errors(vkvae, tmp):
    quick = ["--epochs", "1", "--limit", "128", "--test-limit", "64", "--samples", "0"]
    make_set(f"{tmp}/trunc", truncate=True)
    expect_error(vkvae, "truncated images", "trunc/train-images-idx3-ubyte.gz: truncated",
                 "--data", f"{tmp}/trunc", "--out", f"{tmp}/o1", *quick)
    make_set(f"{tmp}/mislabel", label_count=299)
    expect_error(vkvae, "mislabelled set", "label count mismatch",
                 "--data", f"{tmp}/mislabel", "--out", f"{tmp}/o2", *quick)
    make_set(f"{tmp}/shape", side=20)
    expect_error(vkvae, "wrong-shaped images",
                 "images are 1x20x20 (400 values), model vae_mlp takes 1x28x28",
                 "--data", f"{tmp}/shape", "--out", f"{tmp}/o3", *quick)
    check(not os.path.exists(f"{tmp}/o3/checkpoint.safetensors"), "no checkpoint after a data error")

    make_set(f"{tmp}/good")
    bad = f"{tmp}/corrupt.safetensors"
    with open(bad, "wb") as f:
        f.write(struct.pack("<Q", 40) + b'{"fc1.weight": {"dtype": "F32", "sha')
    expect_error(vkvae, "corrupt checkpoint", "corrupt.safetensors",
                 "--data", f"{tmp}/good", "--out", f"{tmp}/o4", "--resume", bad, *quick)

    rc, _, err = run(vkvae, "train", "ae_mlp", "--data", f"{tmp}/good", "--out", f"{tmp}/ae", *quick)
    check(rc == 0, f"ae_mlp trains on the small set (exit {rc}: {error_lines(err)})")
    expect_error(vkvae, "another model's checkpoint", "of model 'ae_mlp'",
                 "--data", f"{tmp}/good", "--out", f"{tmp}/o5", "--resume",
                 f"{tmp}/ae/checkpoint.safetensors", *quick)
    # An earlier run's checkpoint is never replaced unasked.
    before = read_bytes(f"{tmp}/ae/checkpoint.safetensors")
    rc, _, err = run(vkvae, "train", "ae_mlp", "--data", f"{tmp}/good", "--out", f"{tmp}/ae",
                     "--seed", "7", *quick)
    lines = error_lines(err)
    check(rc == 1 and len(lines) == 1 and "ae/checkpoint.safetensors exists: --resume" in lines[0]
          and "--overwrite" in lines[0] and read_bytes(f"{tmp}/ae/checkpoint.safetensors") == before,
          f"a second run into a run folder is refused, the checkpoint untouched ({rc}: {lines})")
    rc, _, err = run(vkvae, "train", "ae_mlp", "--data", f"{tmp}/good", "--out", f"{tmp}/ae",
                     "--seed", "7", "--overwrite", *quick)
    check(rc == 0 and read_bytes(f"{tmp}/ae/checkpoint.safetensors") != before,
          f"--overwrite replaces it (exit {rc}: {error_lines(err)})")
    expect_error(vkvae, "--epochs 0", "--epochs 0 is outside 1..1000000", "--epochs", "0",
                 "--data", f"{tmp}/good", "--out", f"{tmp}/o6")
    # Files that are not checkpoints, and a checkpoint with a flipped byte.
    expect_error(vkvae, "a CSV as checkpoint", "metrics.csv: not a safetensors file",
                 "--data", f"{tmp}/good", "--out", f"{tmp}/o7", "--resume",
                 f"{tmp}/ae/metrics.csv", *quick)
    ckpt = read_bytes(f"{tmp}/ae/checkpoint.safetensors")
    flipped = bytearray(ckpt)
    for i in range(len(ckpt) - 5000, len(ckpt) - 4996):
        flipped[i] ^= 0x5A
    with open(f"{tmp}/flipped.safetensors", "wb") as f:
        f.write(flipped)
    expect_error(vkvae, "a flipped byte", "flipped.safetensors: corrupted: checksum mismatch",
                 "ae_mlp", "--data", f"{tmp}/good", "--out", f"{tmp}/o8", "--resume",
                 f"{tmp}/flipped.safetensors", *quick)
    rc, _, err = run(vkvae, "sample", f"{tmp}/flipped.safetensors", "-o", f"{tmp}/o9.png")
    check(rc == 1 and "corrupted: checksum mismatch" in err and not os.path.exists(f"{tmp}/o9.png"),
          f"sample refuses the flipped checkpoint too ({rc}: {error_lines(err)})")
    other = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    with open(f"{tmp}/other.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(other)) + other + bytes(8))
    rc, _, err = run(vkvae, "sample", f"{tmp}/other.safetensors", "-o", f"{tmp}/o10.png")
    check(rc == 1 and "not a vkvae checkpoint" in err and "1 tensor(s), the first 'w'" in err,
          f"another tool's safetensors file is named for what it is ({rc}: {error_lines(err)})")
    # A spec that checks but needs more memory than the machine: refused
    # before anything is allocated, naming what it needs and what there is.
    huge = f"{tmp}/huge.vae"
    with open(huge, "w") as f:
        f.write("model huge\ninput 1x28x28 range 0..1 likelihood bernoulli\nlatent 16 gaussian\n"
                "encoder\n  flatten\n  dense 65536 relu\n  dense 65536 relu\n"
                "  dense 65536 relu\ndecoder\n  dense 784\n  reshape 1x28x28\nobjective elbo\n"
                "train adam lr 1e-3 batch 128 seed 1\n")
    rc, _, err = run(vkvae, "check", huge)
    check(rc == 0, f"the 8.6-billion-parameter spec checks (exit {rc})")
    # (the Vulkan device's storage-buffer range clamped to Vulkan's minimum,
    # 128 MiB, as lavapipe's is: a GPU's can hold more than the machine has)
    minimum = dict(os.environ, VKVAE_LIMITS="minimum")
    for device, says in (("cpu", "GB of memory"), ("vulkan", "maxStorageBufferRange")):
        rc, _, err = run(vkvae, "train", huge, "--device", device, "--out", f"{tmp}/huge-{device}",
                         *quick, env=minimum)
        lines = error_lines(err)
        check(rc == 5 and len(lines) == 1 and says in lines[0]
              and not os.path.exists(f"{tmp}/huge-{device}"),
              f"training it on {device} is refused naming {says!r} ({rc}: {lines})")
    # A run that diverges in its first epoch has no "last good checkpoint".
    rc, _, err = run(vkvae, "train", "--lr", "9", "--device", "cpu", "--epochs", "1",
                     "--limit", "2000", "--test-limit", "100", "--samples", "0",
                     "--out", f"{tmp}/div")
    lines = error_lines(err)
    check(rc == 9 and len(lines) == 1 and "diverged in epoch 1" in lines[0]
          and "no checkpoint was written" in lines[0]
          and not os.path.exists(f"{tmp}/div/checkpoint.safetensors"),
          f"divergence in the first epoch says no checkpoint exists ({rc}: {lines})")
    expect_error(vkvae, "a flag without its value", "option --epochs needs a value", "--epochs")
    expect_error(vkvae, "a bad number", "--seed 'x1' is not a whole number", "--seed", "x1")
    expect_error(vkvae, "an unknown precision", "--precision 'bf16': expected fp32 or fp16",
                 "--precision", "bf16")
    expect_error(vkvae, "fp16 on the CPU backend", "--precision fp16 is for Vulkan devices",
                 "--device", "cpu", "--precision", "fp16")
    blas_note(vkvae, tmp, quick)
    default_device(vkvae, tmp, quick)


def avx512():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l.split() for l in f if l.startswith("flags")), [])
    except OSError:
        return False
    return "avx512f" in flags and "avx512vl" in flags


def blas_note(vkvae, tmp, quick):
    """The CPU backend says which OpenBLAS kernels run, and says once when
    OPENBLAS_CORETYPE holds an AVX-512 CPU to older ones (BENCHMARKS.md)."""
    args = ["train", "--device", "cpu", "--data", f"{tmp}/good", "--out", f"{tmp}/blas", *quick]
    unset = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    rc, _, err = run(vkvae, *args, env=unset)
    line = next((l for l in err.splitlines() if "on the CPU backend" in l), "")
    check(rc == 0 and line, f"--device cpu trains and names its backend (exit {rc}: {line!r})")
    if "OpenBLAS" not in line:
        print("built without OpenBLAS: no kernel note to check")
        return
    notes = [l for l in err.splitlines() if "OPENBLAS_CORETYPE" in l]
    check(not notes, f"no OPENBLAS_CORETYPE note when it is unset ({notes})")
    rc, _, err = run(vkvae, *args, "--overwrite", env=dict(unset, OPENBLAS_CORETYPE="Haswell"))
    line = next((l for l in err.splitlines() if "on the CPU backend" in l), "")
    notes = [l for l in err.splitlines() if "OPENBLAS_CORETYPE=Haswell" in l]
    want = 1 if avx512() else 0
    check(rc == 0 and "Haswell" in line and len(notes) == want,
          f"with OPENBLAS_CORETYPE=Haswell: the backend line names Haswell, {want} note "
          f"line(s) on this CPU (exit {rc}: {line!r} {notes})")


def default_device(vkvae, tmp, quick):
    """Without --device or $VKVAE_DEVICE, train picks the CPU backend where
    every Vulkan device is a CPU driver (lavapipe: the backend is many times
    faster there), saying so in one line, and the GPU elsewhere; --device 0
    still picks the driver, and bench keeps timing the Vulkan device."""
    bare = {k: v for k, v in os.environ.items() if k != "VKVAE_DEVICE"}
    rc, out, _ = run(vkvae, "info", env=bare)
    types = [l.split(None, 1)[1].strip() for l in out.splitlines() if l.strip().startswith("type ")]
    cpu_only = bool(types) and all(t == "CPU" for t in types)
    args = ["train", "--data", f"{tmp}/good", *quick]
    rc, _, err = run(vkvae, *args, "--out", f"{tmp}/default", env=bare)
    said = [l for l in err.splitlines() if "is a CPU driver: using vkvae's CPU backend" in l]
    backend = next((l for l in err.splitlines() if l.startswith("vkvae: training ")), "")
    if cpu_only:
        check(rc == 0 and len(said) == 1 and "on the CPU backend" in backend,
              f"only CPU drivers ({types}): the CPU backend by default, said in one line "
              f"(exit {rc}: {said} {backend!r})")
    else:
        check(rc == 0 and not said and "on the CPU backend" not in backend,
              f"a GPU ({types}): the Vulkan device by default (exit {rc}: {backend!r})")
    rc, _, err = run(vkvae, *args, "--device", "0", "--out", f"{tmp}/default0", env=bare)
    backend = next((l for l in err.splitlines() if l.startswith("vkvae: training ")), "")
    check(rc == 0 and "on the CPU backend" not in backend and "is a CPU driver: using" not in err,
          f"--device 0 picks the Vulkan device (exit {rc}: {backend!r})")
    rc, out, err = run(vkvae, "bench", "vae_mlp", "--runs", "1", env=bare)
    check(rc == 0 and "is a CPU driver: using" not in err and "train step" in out,
          f"bench times the Vulkan device by default (exit {rc}: {error_lines(err)})")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def resume(vkvae, tmp):
    make_set(f"{tmp}/good", n=600)
    common = ["--data", f"{tmp}/good", "--limit", "300", "--test-limit", "100", "--samples", "0"]
    # the straight run also samples after each epoch: which must not touch training
    rc1, _, e1 = run(vkvae, "train", "--epochs", "2", "--out", f"{tmp}/straight", *common,
                     "--sample-every", "1")
    rc2, _, e2 = run(vkvae, "train", "--epochs", "1", "--out", f"{tmp}/first", *common)
    rc3, _, e3 = run(vkvae, "train", "--epochs", "2", "--out", f"{tmp}/first",
                     "--resume", f"{tmp}/first/checkpoint.safetensors", *common)
    check(rc1 == rc2 == rc3 == 0, f"the three runs succeed ({rc1} {rc2} {rc3}: "
          f"{error_lines(e1 + e2 + e3)})")
    if rc1 == rc2 == rc3 == 0:
        a = read_bytes(f"{tmp}/straight/checkpoint.safetensors")
        b = read_bytes(f"{tmp}/first/checkpoint.safetensors")
        check(a == b, f"resumed checkpoint equals the straight one byte for byte ({len(a)} bytes)")
        grids = [f"{tmp}/straight/samples-e{e:03d}.png" for e in (1, 2)]
        pngs = [read_bytes(g) if os.path.exists(g) else b"" for g in grids]
        check(all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs) and pngs[0] != pngs[1]
              and not os.path.exists(f"{tmp}/first/samples-e001.png"),
              "--sample-every 1 wrote samples-e001.png and samples-e002.png, different grids "
              "of the same prior points (64 images although --samples 0)")


def train_losses(path):
    with open(path) as f:
        return [float(r["train_loss"]) for r in csv.DictReader(f)]


def curve(vkvae, tmp, precision="fp32", bound=1e-3):
    common = ["--data", FASHION, "--limit", "1000", "--test-limit", "128", "--epochs", "25",
              "--samples", "0"]  # 8 steps per epoch: 200 steps
    rc1, _, e1 = run(vkvae, "train", "--precision", precision, "--out", f"{tmp}/gpu", *common)
    if precision != "fp32" and rc1 == 11 and "no fp16 arithmetic" in e1:
        print(f"skipped: {error_lines(e1)}")
        return 77
    rc2, _, e2 = run(vkvae, "train", "--device", "cpu", "--out", f"{tmp}/cpu", *common)
    check(rc1 == 0 and rc2 == 0, f"both runs succeed ({rc1} {rc2}: {error_lines(e1 + e2)})")
    if rc1 or rc2:
        return
    gpu, cpu = train_losses(f"{tmp}/gpu/metrics.csv"), train_losses(f"{tmp}/cpu/metrics.csv")
    worst = max(abs(g - c) / abs(c) for g, c in zip(gpu, cpu))
    check(len(gpu) == len(cpu) == 25 and worst < bound,
          f"GPU loss curve ({precision} products) follows the CPU's: worst relative difference "
          f"{worst:.2e} < {bound:.0e} (first {gpu[0]:.3f}/{cpu[0]:.3f}, "
          f"last {gpu[-1]:.3f}/{cpu[-1]:.3f})")
    if precision != "fp32":
        rc3, _, e3 = run(vkvae, "train", "--out", f"{tmp}/gpu32", *common)
        fp32 = train_losses(f"{tmp}/gpu32/metrics.csv") if rc3 == 0 else []
        check(rc3 == 0 and fp32 != gpu, f"the {precision} curve is not the fp32 GPU run's "
              f"(exit {rc3}; last {gpu[-1]:.4f} against {fp32[-1] if fp32 else 0:.4f})")


def fp16(vkvae, tmp):
    return curve(vkvae, tmp, "fp16", 1e-2)


def torch_load(path, weights):
    """PyTorch's strict load_state_dict of the export into vae_mlp's twin,
    bench/pytorch_vae.py's VAE; a skip note where PyTorch is missing."""
    try:
        import torch
        src = os.environ.get("VKVAE_SOURCE_ROOT", f"{os.path.dirname(__file__)}/../..")
        spec = importlib.util.spec_from_file_location("pytorch_vae", f"{src}/bench/pytorch_vae.py")
        peer = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(peer)  # imports numpy too
    except ImportError as e:
        print(f"skipped: PyTorch's strict load_state_dict of the export ({e})")
        return

    def tensor(data, shape):
        return torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)
    try:
        from safetensors.torch import load_file
        state = load_file(path)
    except ImportError:  # the same tensors through read_safetensors
        state = {k: tensor(b, shape) for k, (_, shape, b) in read_safetensors(path)[1].items()}
    model = peer.VAE()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        check(False, f"PyTorch's VAE takes the export with a strict load_state_dict ({e})")
        return
    got = model.state_dict()
    check(all(torch.equal(got[k], tensor(b, shape)) for k, (_, shape, b) in weights.items()),
          "PyTorch's VAE takes the export with a strict load_state_dict, every value intact")


def export(vkvae, tmp):
    make_set(f"{tmp}/good")
    rc, _, err = run(vkvae, "train", "vae_mlp", "--data", f"{tmp}/good", "--epochs", "1",
                     "--limit", "256", "--test-limit", "64", "--device", "cpu", "--samples", "0",
                     "--out", f"{tmp}/run")
    check(rc == 0, f"a brief run trains (exit {rc}: {error_lines(err)})")
    if rc:
        return
    ckpt, out = f"{tmp}/run/checkpoint.safetensors", f"{tmp}/weights.safetensors"
    rc, _, err = run(vkvae, "export", ckpt, out)
    check(rc == 0 and not error_lines(err), f"export succeeds (exit {rc}: {error_lines(err)})")
    if rc:
        return
    meta, tensors = read_safetensors(ckpt)
    out_meta, exported = read_safetensors(out)
    weights = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    check(len(weights) < len(tensors), f"the checkpoint holds optimizer state "
          f"({len(tensors) - len(weights)} optim.* tensors)")
    check(sorted(exported) == sorted(weights), f"the export holds the checkpoint's "
          f"{len(weights)} parameters, no optim.* tensor (got {sorted(exported)})")
    check(all(exported.get(k) == (dt, shape, b) and dt == "F32"
              for k, (dt, shape, b) in weights.items()),
          "each parameter keeps its shape and bytes, as F32")
    kept = ("format", "model", "spec", "epoch", "step", "seed")
    check(all(out_meta.get(k) == meta[k] for k in kept) and out_meta.get("optimizer") == "none",
          f"metadata {', '.join(kept)} kept, optimizer 'none' (keys {sorted(out_meta)}, "
          f"optimizer {out_meta.get('optimizer')})")

    pngs = []
    for which in (ckpt, out):
        png = f"{tmp}/sample{len(pngs)}.png"
        rc, _, err = run(vkvae, "sample", which, "-n", "4", "--seed", "3", "--device", "cpu",
                         "-o", png)
        pngs.append(read_bytes(png) if rc == 0 else None)
    check(pngs[0] is not None and pngs[0] == pngs[1],
          "sample takes the export and draws what it draws from the checkpoint")
    rc, _, err = run(vkvae, "train", "--data", f"{tmp}/good", "--epochs", "2", "--limit", "256",
                     "--test-limit", "64", "--device", "cpu", "--samples", "0",
                     "--out", f"{tmp}/resumed", "--resume", out)
    lines = error_lines(err)
    check(rc == 1 and len(lines) == 1 and "holds no optimizer state" in lines[0],
          f"train --resume refuses the export in one line (exit {rc}: {lines})")
    torch_load(out, weights)

    # Bad input: one line naming the file, exit 1, OUT as it was (absent, or
    # an earlier file untouched), no temporary file left beside it.
    nockpt = f"{tmp}/notckpt.safetensors"  # valid safetensors, no vkvae metadata
    with open(nockpt, "wb") as f:
        header = b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
        f.write(struct.pack("<Q", len(header)) + header + bytes(4))
    os.makedirs(f"{tmp}/bad")
    earlier = f"{tmp}/bad/earlier.safetensors"
    with open(earlier, "wb") as f:
        f.write(b"an earlier file")
    missing = f"{tmp}/missing.safetensors"
    for what, args, named in (
            ("a missing checkpoint", (missing, f"{tmp}/bad/o1.st"), missing),
            ("a file that is no safetensors", (f"{tmp}/run/metrics.csv", f"{tmp}/bad/o2.st"),
             "metrics.csv"),
            ("a safetensors file that is no checkpoint", (nockpt, f"{tmp}/bad/o3.st"), nockpt),
            ("OUT in a missing folder", (ckpt, f"{tmp}/nowhere/o4.st"), "nowhere/o4.st"),
            ("OUT a folder", (ckpt, f"{tmp}/bad"), f"{tmp}/bad"),
            ("an earlier OUT and a missing checkpoint", (missing, earlier), missing),
            ("no OUT", (ckpt,), "vkvae export CKPT OUT")):
        rc, _, err = run(vkvae, "export", *args)
        lines = error_lines(err)
        check(rc == 1 and len(lines) == 1 and named in lines[0],
              f"{what}: exit 1 with one error line naming '{named}' (got {rc}: {lines})")
    check(sorted(os.listdir(f"{tmp}/bad")) == ["earlier.safetensors"] and
          read_bytes(earlier) == b"an earlier file", "no OUT and no temporary file written, "
          f"an earlier OUT untouched (found {sorted(os.listdir(f'{tmp}/bad'))})")


def main():
    vkvae, mode = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="vkvae-train-") as tmp:
        skipped = {"errors": errors, "resume": resume, "curve": curve, "fp16": fp16,
                   "export": export}[mode](vkvae, tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 77 if skipped == 77 else 0


if __name__ == "__main__":
    sys.exit(main())
