#!/usr/bin/env python3
"""vkvae eval from the outside, and IWAE training on both backends.

  test_eval_cli.py VKVAE elbo|iwae|errors|train_iwae

elbo        a vae_mlp trained 1 epoch on the GPU: `eval --limit 100` prints
            the negative ELBO and its terms equal to what train's
            metrics.csv reported for the same 100 test images, on the GPU
            and on the CPU backend, and the seconds it took.
iwae        the same model: `eval --iwae 300` (K not a multiple of the
            program's samples per run, 100 images not a multiple of its
            images per run) estimates -log p(x) below the -ELBO, the GPU and
            --device cpu estimates agree within 0.05 nats, and the estimate
            tightens with K (K = 300 below K = 3).
errors      an autoencoder's checkpoint with --iwae, --iwae 0, a corrupt and
            a missing checkpoint, a missing data folder, an unknown option:
            each one line `vkvae: error: ...` and exit status 1.
train_iwae  `vkvae train iwae_mlp` 1 epoch on 200 images: the GPU's train
            and test losses equal the CPU backend's (relative 1e-3); `eval`
            of that checkpoint prints the k=5 bound it was tested on.
"""
import csv
import os
import re
import struct
import subprocess
import sys
import tempfile

from cli_test import check, failures

FASHION = "/usr/share/datasets/fashion-mnist"


def run(vkvae, *args):
    p = subprocess.run([vkvae, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def error_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("vkvae: error:")]


def metrics(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def number(pattern, text):
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None


def train(vkvae, out, *args):
    rc, _, err = run(vkvae, "train", "--out", out, "--epochs", "1", "--samples", "0", *args)
    check(rc == 0, f"train {' '.join(args)} succeeds (exit {rc}: {error_lines(err)})")
    return rc == 0


def trained_vae(vkvae, tmp):
    ok = train(vkvae, f"{tmp}/vae", "vae_mlp", "--data", FASHION, "--limit", "384",
               "--test-limit", "100")
    return f"{tmp}/vae/checkpoint.safetensors" if ok else None


ELBO = r"negative ELBO +(-?[0-9.]+) nats/image"
IWAE = r"IWAE -log p\(x\) +(-?[0-9.]+) nats/image"


def elbo(vkvae, tmp):
    ckpt = trained_vae(vkvae, tmp)
    if not ckpt:
        return
    want = metrics(f"{tmp}/vae/metrics.csv")[-1]
    for device in ([], ["--device", "cpu"]):
        rc, out, err = run(vkvae, "eval", ckpt, "--limit", "100", *device)
        where = "cpu" if device else "gpu"
        check(rc == 0, f"{where}: eval succeeds (exit {rc}: {error_lines(err)})")
        m = re.search(r"negative ELBO +([0-9.]+) nats/image \(reconstruction ([0-9.]+), "
                      r"KL ([0-9.]+)\)", out)
        check(m is not None, f"{where}: eval prints the ELBO and its terms ({out!r})")
        if not m:
            continue
        got = [float(g) for g in m.groups()]
        ref = [float(want[k]) for k in ("test_loss", "test_recon", "test_kl")]
        # The same eval program, draws and images as train's; the CPU
        # backend's float sums may differ in the last digits.
        tol = 1e-3 if not device else 1e-2
        check(all(abs(g - r) <= tol for g, r in zip(got, ref)),
              f"{where}: eval's -ELBO, recon, KL {got} equal train's metrics.csv {ref}")
        check(abs(got[0] - got[1] - got[2]) < 2e-3, f"{where}: -ELBO = recon + KL ({got})")
        check(re.search(r"^seconds +[0-9.]+", out, re.M) is not None,
              f"{where}: eval prints the seconds it took")


def iwae(vkvae, tmp):
    ckpt = trained_vae(vkvae, tmp)
    if not ckpt:
        return
    rc, gpu, err = run(vkvae, "eval", ckpt, "--limit", "100", "--iwae", "300")
    check(rc == 0, f"gpu: eval --iwae 300 succeeds (exit {rc}: {error_lines(err)})")
    check("100/100 images" in err, f"gpu: progress reaches 100/100 images ({err!r})")
    rc2, cpu, err2 = run(vkvae, "eval", ckpt, "--limit", "100", "--iwae", "300", "--device", "cpu")
    check(rc2 == 0, f"cpu: eval --iwae 300 succeeds (exit {rc2}: {error_lines(err2)})")
    rc3, few, err3 = run(vkvae, "eval", ckpt, "--limit", "100", "--iwae", "3", "--device", "cpu")
    check(rc3 == 0, f"cpu: eval --iwae 3 succeeds (exit {rc3}: {error_lines(err3)})")
    if rc or rc2 or rc3:
        return
    neg_elbo, est_gpu, est_cpu = number(ELBO, gpu), number(IWAE, gpu), number(IWAE, cpu)
    est_few = number(IWAE, few)
    check(None not in (neg_elbo, est_gpu, est_cpu, est_few), f"eval prints both figures ({gpu!r})")
    if None in (neg_elbo, est_gpu, est_cpu, est_few):
        return
    check(est_gpu < neg_elbo, f"IWAE -log p(x) {est_gpu} is below the -ELBO {neg_elbo}")
    check(abs(est_gpu - est_cpu) < 0.05,
          f"GPU and CPU estimates agree within 0.05 nats ({est_gpu} vs {est_cpu})")
    check(est_gpu < est_few, f"K=300 ({est_gpu}) is tighter than K=3 ({est_few})")


def write_idx(path, dims, data):
    kind = 0x0803 if len(dims) == 3 else 0x0801
    with open(path, "wb") as f:
        f.write(struct.pack(">I", kind) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data))


def small_set(folder, n=128):
    os.makedirs(folder, exist_ok=True)
    for prefix, count in (("train", n), ("t10k", n // 4)):
        write_idx(f"{folder}/{prefix}-images-idx3-ubyte", (count, 28, 28),
                  [(i * 37) % 256 for i in range(count * 784)])
        write_idx(f"{folder}/{prefix}-labels-idx1-ubyte", (count,), [i % 10 for i in range(count)])


def expect_error(vkvae, what, needle, *args):
    rc, _, err = run(vkvae, "eval", *args)
    lines = error_lines(err)
    check(rc == 1 and len(lines) == 1 and needle in lines[0],
          f"{what}: exit 1 with one error line containing '{needle}' (got {rc}: {lines})")


def errors(vkvae, tmp):
    small_set(f"{tmp}/set")
    data = ["--data", f"{tmp}/set"]
    if train(vkvae, f"{tmp}/ae", "ae_mlp", "--device", "cpu", *data):
        ae = f"{tmp}/ae/checkpoint.safetensors"
        expect_error(vkvae, "an autoencoder with --iwae", "model ae_mlp has no likelihood",
                     ae, "--iwae", "10", *data)
        rc, out, err = run(vkvae, "eval", ae, *data)
        check(rc == 0 and "reconstruction" in out,
              f"an autoencoder without --iwae prints its reconstruction loss ({rc}: {out!r})")
        expect_error(vkvae, "a missing data folder", f"{tmp}/nowhere", ae,
                     "--data", f"{tmp}/nowhere")
    expect_error(vkvae, "--iwae 0", "--iwae 0", f"{tmp}/ae/checkpoint.safetensors", "--iwae", "0")
    bad = f"{tmp}/corrupt.safetensors"
    with open(bad, "wb") as f:
        f.write(struct.pack("<Q", 40) + b'{"fc1.weight": {"dtype": "F32", "sha')
    expect_error(vkvae, "a corrupt checkpoint", "corrupt.safetensors", bad, *data)
    expect_error(vkvae, "a missing checkpoint", "absent.safetensors",
                 f"{tmp}/absent.safetensors", *data)
    expect_error(vkvae, "an unknown option", "unknown option '--k'", bad, "--k", "5")
    expect_error(vkvae, "no checkpoint", "which checkpoint")


def train_iwae(vkvae, tmp):
    common = ["iwae_mlp", "--data", FASHION, "--limit", "200", "--test-limit", "40"]
    ok = train(vkvae, f"{tmp}/gpu", *common) and train(vkvae, f"{tmp}/cpu", "--device", "cpu",
                                                       *common)
    if not ok:
        return
    g, c = metrics(f"{tmp}/gpu/metrics.csv")[-1], metrics(f"{tmp}/cpu/metrics.csv")[-1]
    for key in ("train_loss", "test_loss"):
        a, b = float(g[key]), float(c[key])
        check(abs(a - b) <= 1e-3 * abs(b), f"iwae_mlp {key}: GPU {a} equals CPU {b} (rel 1e-3)")
    rc, out, err = run(vkvae, "eval", f"{tmp}/gpu/checkpoint.safetensors", "--limit", "40")
    bound = number(r"IWAE bound k=5 +([0-9.]+) nats/image", out)
    check(rc == 0 and bound is not None and abs(bound - float(g["test_loss"])) <= 1e-3,
          f"eval of iwae_mlp prints its k=5 bound, train's test_loss {g['test_loss']} "
          f"({rc}: {out!r} {error_lines(err)})")


def main():
    vkvae, mode = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="vkvae-eval-") as tmp:
        {"elbo": elbo, "iwae": iwae, "errors": errors, "train_iwae": train_iwae}[mode](vkvae, tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
