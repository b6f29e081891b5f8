#!/usr/bin/env python3
"""Training on NumPy arrays (suite 'train'):

  test_data_npy.py VKVAE

Writes .npy files without NumPy (the format is a small header and the raw
elements): 600 Fashion-MNIST images with their labels, once as uint8
N x 28 x 28 and once as float32 N x 28 x 28 x 1 holding the same values.
- cvae_mlp trains on the uint8 array with --labels on lavapipe and on the
  CPU backend; the loss curves agree within 1e-3 relative; a tenth of each
  class is held out and evaluated.
- The float32 array in the other layout trains to exactly the CPU run's
  losses: it is the same data.
- eval and reconstruct read the array too; --val-split 0.25 holds out a
  quarter of each class.
- A conditional model without --labels, a float out of [0, 1] and a
  truncated file are refused in one line naming the file, writing nothing.
"""
import gzip
import os
import struct
import sys
import tempfile

from cli_test import check, failures, run

FASHION = "/usr/share/datasets/fashion-mnist"
N = 600


def idx_bytes(name, header, count, size):
    path = f"{FASHION}/{name}"
    opener = open if os.path.exists(path) else gzip.open
    with opener(path if os.path.exists(path) else path + ".gz", "rb") as f:
        f.seek(header)
        return f.read(count * size)


def write_npy(path, descr, shape, data):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    pad = (64 - (10 + len(d) + 1) % 64) % 64
    header = (d + " " * pad + "\n").encode()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def held_out(labels, fraction):
    """The hold-out's size: round(fraction * count) per class, in float as vkvae computes it."""
    counts = [labels.count(c) for c in set(labels)]
    return sum(round(f32(f32(fraction) * n)) for n in counts)


def losses(folder):
    with open(f"{folder}/metrics.csv") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    head = rows[0]
    return [(float(r[head.index("train_loss")]), float(r[head.index("test_loss")]))
            for r in rows[1:]]


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="vkvae-npy-") as tmp:
        pixels = idx_bytes("train-images-idx3-ubyte", 16, N, 784)
        labels = idx_bytes("train-labels-idx1-ubyte", 8, N, 1)
        write_npy(f"{tmp}/x.npy", "|u1", (N, 28, 28), pixels)
        write_npy(f"{tmp}/y.npy", "<i8", (N,), b"".join(struct.pack("<q", v) for v in labels))
        write_npy(f"{tmp}/xf.npy", "<f4", (N, 28, 28, 1),
                  b"".join(struct.pack("<f", v / 255.0) for v in pixels))
        common = ["--labels", f"{tmp}/y.npy", "--epochs", "2", "--batch", "64",
                  "--samples", "0"]
        runs = {}
        for name, data, device in (("gpu", "x.npy", []), ("cpu", "x.npy", ["--device", "cpu"]),
                                   ("float", "xf.npy", ["--device", "cpu"])):
            rc, _, e = run(vkvae, "train", "cvae_mlp", "--data", f"{tmp}/{data}", *common,
                           "--out", f"{tmp}/{name}", *device)
            check(rc == 0, f"cvae_mlp trains on {data} {' '.join(device)} (exit {rc}: "
                  f"{e.strip()[-300:]})")
            runs[name] = losses(f"{tmp}/{name}") if rc == 0 else []
        gpu, cpu, flt = runs["gpu"], runs["cpu"], runs["float"]
        worst = max((abs(g - c) / abs(c) for gg, cc in zip(gpu, cpu) for g, c in zip(gg, cc)),
                    default=1)
        check(len(gpu) == len(cpu) == 2 and worst < 1e-3,
              f"lavapipe's losses follow the CPU's on a .npy ({gpu} / {cpu}, worst {worst:.1e})")
        check(flt == cpu and len(flt) == 2,
              f"float32 N x H x W x 1 trains exactly as uint8 N x H x W ({flt} / {cpu})")

        ckpt = f"{tmp}/cpu/checkpoint.safetensors"
        rc, out, e = run(vkvae, "eval", ckpt, "--data", f"{tmp}/x.npy", "--labels",
                         f"{tmp}/y.npy", "--device", "cpu")
        tenth = held_out(list(labels), 0.1)
        check(rc == 0 and f"on {tenth} test images" in e and "negative ELBO" in out,
              f"eval on the held-out tenth ({tenth}) of the .npy (exit {rc}: "
              f"{e.strip()[-200:]})")
        rc, out, e = run(vkvae, "eval", ckpt, "--data", f"{tmp}/x.npy", "--labels",
                         f"{tmp}/y.npy", "--val-split", "0.25", "--device", "cpu")
        quarter = held_out(list(labels), 0.25)
        check(rc == 0 and f"on {quarter} test images" in e,
              f"--val-split 0.25 holds out a quarter of each class ({quarter}) (exit {rc}: "
              f"{e.strip()[-200:]})")
        rc, _, e = run(vkvae, "reconstruct", ckpt, "--data", f"{tmp}/x.npy", "--labels",
                       f"{tmp}/y.npy", "-n", "8", "-o", f"{tmp}/r.png")
        check(rc == 0 and os.path.getsize(f"{tmp}/r.png") > 0,
              f"reconstruct from the .npy (exit {rc}: {e.strip()[-200:]})")

        # refusals: one line naming the file, nothing written
        bad = bytearray(struct.pack("<f", 0.5) * 783 + struct.pack("<f", 2.0))
        write_npy(f"{tmp}/bad.npy", "<f4", (1, 28, 28), bytes(bad))
        with open(f"{tmp}/x.npy", "rb") as f:
            cut = f.read()[:-5]
        with open(f"{tmp}/cut.npy", "wb") as f:
            f.write(cut)
        for args, says, file in (
                (["cvae_mlp", "--data", f"{tmp}/x.npy"], "needs a labels .npy", "x.npy"),
                (["vae_mlp", "--data", f"{tmp}/bad.npy"], "element 783 is 2", "bad.npy"),
                (["vae_mlp", "--data", f"{tmp}/cut.npy"], "truncated", "cut.npy")):
            out = f"{tmp}/refused"
            rc, _, e = run(vkvae, "train", *args, "--out", out)
            check(rc == 1 and says in e and file in e and len(e.strip().splitlines()) == 1
                  and not os.path.exists(out),
                  f"refused in one line naming {file} (exit {rc}: {e.strip()[-200:]})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
