#!/usr/bin/env python3
"""Two stages through the CLI (suite 'train'): a prior over a VQ-VAE's codes.

  test_codes_prior.py VKVAE

A small VQ-VAE as a user's spec (16 codes on a 7x7 grid) trains one epoch
on 512 images on the CPU backend; then a user's PixelCNN prior over its
codes ('input 1x7x7 levels 16', 'onehot 16') trains with --codes:
- on lavapipe and on the CPU backend alike (train and test nll within
  1e-3 relative), the codes computed on each device;
- vkvae eval of the prior (its test images' codes, by the VQ-VAE named in
  its checkpoint) prints training's test nll, on both backends;
- vkvae sample of the prior draws code grids and decodes them with that
  VQ-VAE: the same 28x28 PNG on both backends, and with --vq naming it;
- vkvae encode --codes writes the code indices: a structured .npy whose
  'codes' field is int32 (7, 7), every index below 16;
- refused in one line, exit non-zero: --codes of a checkpoint without a
  codebook, a prior whose input is not the code grid, a prior whose VQ-VAE
  checkpoint has gone (sample names it and --vq), encode --codes of a model
  without a codebook, and grey images given to a 'levels' model as data;
- --resume of the prior trains on the codes of the VQ-VAE it names.
"""
import os
import shutil
import sys
import tempfile

from cli_test import check, close, failures, run, train_both

VQ = """model vq_small
input 1x28x28 range 0..1
network enc
  conv2d 8 kernel 4 stride 2 pad 1 relu
  conv2d 8 kernel 4 stride 2 pad 1 relu
  conv2d 4 kernel 1
  codebook 16 beta 0.25 restart
network dec
  convt2d 8 kernel 4 stride 2 pad 1 relu
  convt2d 1 kernel 4 stride 2 pad 1 sigmoid
graph
  z = enc x
  x_rec = dec z
loss
  recon = l2 x_rec x
  vq = vq z
update enc dec minimise recon + vq
train adam lr 2e-3 batch 32 epochs 1 seed 5
"""

PRIOR = """model prior_small
input 1x7x7 levels 16
network prior
  onehot 16
  conv2d 8 kernel 5 pad 2 mask A name r0
  conv2d 16 kernel 3 pad 1 mask B
  gate
  conv2d 8 kernel 1
  add r0 relu
  conv2d 16 kernel 1
graph
  logits = prior x
loss
  nll = categorical logits x
update prior minimise nll
train adam lr 2e-3 batch 32 epochs 1 seed 3
"""


def one_error(rc, e, words):
    errors = [l for l in e.splitlines() if "error" in l]
    return rc != 0 and len(errors) == 1 and words in errors[0]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        rc, _, e = run(vkvae, "train", write(f"{tmp}/vq.vae", VQ), "--limit", "512",
                       "--test-limit", "128", "--samples", "0", "--device", "cpu", "--out",
                       f"{tmp}/vq")
        check(rc == 0, f"the VQ-VAE trains (exit {rc}: {e.strip()[-300:]})")
        if rc:
            return
        vq = f"{tmp}/vq/checkpoint.safetensors"
        prior = write(f"{tmp}/prior.vae", PRIOR)
        metrics = train_both(vkvae, [prior, "--codes", vq, "--limit", "512", "--test-limit",
                                     "128", "--samples", "8"], f"{tmp}/prior",
                             ("train_nll", "test_nll"),
                             "the prior trains on the codes, samples.png decoded",
                             lambda so, out: os.path.exists(f"{out}/samples.png"))
        if not metrics:
            return
        c = metrics["cpu"]
        ckpt = f"{tmp}/prior-cpu/checkpoint.safetensors"
        pngs = []
        for device in ("0", "cpu"):
            rc, so, e = run(vkvae, "eval", ckpt, "--limit", "128", "--device", device)
            words = [l.split() for l in so.splitlines()]
            nll = [w for w in words if w[:1] == ["nll"]]
            check(rc == 0 and nll and close(float(nll[0][1]), float(c["test_nll"])),
                  f"vkvae eval on device {device} evaluates the test codes as training did "
                  f"({so.strip()[-200:]}{e.strip()[-200:]} / {c['test_nll']})")
            png = f"{tmp}/s-{device}.png"
            rc, so, e = run(vkvae, "sample", ckpt, "-n", "8", "-o", png, "--device", device)
            check(rc == 0, f"vkvae sample on device {device} (exit {rc}: {e.strip()[-200:]})")
            pngs.append(open(png, "rb").read() if rc == 0 else b"")
        check(pngs[0] and pngs[0] == pngs[1],
              "samples (code grids drawn, decoded by the VQ-VAE) are the same PNG on "
              "lavapipe and the CPU backend")
        # a grid of 3 columns of 28x28 images, not of 7x7 code grids (29 px
        # wide): the PNG's width (bytes 16..20)
        width = int.from_bytes(pngs[1][16:20], "big") if pngs[1] else 0
        check(width >= 3 * 28, f"the samples are the VQ-VAE's 28x28 images ({width} px wide)")

        rc, so, e = run(vkvae, "encode", vq, "--codes", "-n", "6", "-o", f"{tmp}/c.npy",
                        "--device", "cpu")
        data = open(f"{tmp}/c.npy", "rb").read() if rc == 0 else b""
        header_len = int.from_bytes(data[8:10], "little") if data else 0
        header = data[10:10 + header_len].decode() if data else ""
        body = data[10 + header_len:]
        rows = [body[i * 197:(i + 1) * 197] for i in range(6)]
        codes = [int.from_bytes(r[4 * j:4 * j + 4], "little") for r in rows for j in range(49)]
        check(rc == 0 and "('codes', '<i4', (7, 7))" in header and len(body) == 6 * 197 and
              all(0 <= k < 16 for k in codes),
              f"vkvae encode --codes writes int32 7x7 code grids below 16 ({header.strip()} "
              f"{e.strip()[-200:]})")

        # a resumed prior goes on with the codes of the VQ-VAE it names
        rc, so, e = run(vkvae, "train", prior, "--resume", ckpt, "--epochs", "2", "--limit", "512",
                        "--test-limit", "128", "--samples", "0", "--device", "cpu", "--out",
                        f"{tmp}/prior-resumed")
        check(rc == 0 and "epoch 2:" in so and "codes of 512 training" in e,
              f"--resume of the prior trains on the codes again (exit {rc}: {e.strip()[-200:]})")

        # refusals, one line each
        rc, _, e = run(vkvae, "train", prior, "--codes", ckpt, "--limit", "64",
                       "--device", "cpu", "--out", f"{tmp}/bad1")
        check(one_error(rc, e, "no codebook"),
              f"--codes of a checkpoint without a codebook is refused ({e.strip()[-200:]})")
        wrong = write(f"{tmp}/wrong.vae", PRIOR.replace("1x7x7 levels 16", "1x8x8 levels 16"))
        rc, _, e = run(vkvae, "train", wrong, "--codes", vq, "--limit", "64",
                       "--device", "cpu", "--out", f"{tmp}/bad2")
        check(one_error(rc, e, "input 1x7x7 levels 16"),
              f"a prior whose input is not the code grid is refused, naming the input line "
              f"it needs ({e.strip()[-200:]})")
        rc, _, e = run(vkvae, "train", prior, "--limit", "64", "--device", "cpu",
                       "--out", f"{tmp}/bad3")
        check(one_error(rc, e, "levels 16"),
              f"grey images as a 'levels' model's data are refused ({e.strip()[-200:]})")
        rc, _, e = run(vkvae, "encode", ckpt, "--codes", "-o", f"{tmp}/bad.npy",
                       "--device", "cpu")
        check(one_error(rc, e, "no codebook"),
              f"encode --codes of a model without a codebook is refused ({e.strip()[-200:]})")
        moved = f"{tmp}/vq-moved.safetensors"
        shutil.move(vq, moved)
        rc, _, e = run(vkvae, "sample", ckpt, "-n", "4", "-o", f"{tmp}/bad.png",
                       "--device", "cpu")
        check(one_error(rc, e, "--vq") and not os.path.exists(f"{tmp}/bad.png"),
              f"sample of a prior whose VQ-VAE has gone names it and --vq ({e.strip()[-200:]})")
        rc, _, e = run(vkvae, "sample", ckpt, "-n", "8", "-o", f"{tmp}/s-vq.png", "--vq", moved,
                       "--device", "cpu")
        same = rc == 0 and open(f"{tmp}/s-vq.png", "rb").read() == pngs[1]
        check(same, f"sample --vq names the moved VQ-VAE: the same samples ({e.strip()[-200:]})")


main()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
