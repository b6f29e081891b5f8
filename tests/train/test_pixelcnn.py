#!/usr/bin/env python3
"""A pixel model (PixelCNN) through the CLI (suite 'train'):

  test_pixelcnn.py VKVAE

Two small PixelCNNs written as a user's own specs (masks A and B, a gate,
a residual add): the bernoulli term on binarised images, and a categorical
of 4 grey levels on the images as they are. For each:
- one epoch on 256 Fashion-MNIST images on lavapipe and on the CPU
  backend: train and test nll agree within 1e-3 relative, and the column
  is train_nll;
- vkvae eval prints the nll in nats a test image, alike on both backends;
- vkvae sample draws pixel by pixel (785 runs of the sample program) and
  writes the same PNG on both backends; the images are binary;
- reconstruct refuses the model in one line (it has no encoder).
"""
import os
import sys
import tempfile

from cli_test import check, close, failures, run, train_both

SPEC = """model {name}
input 1x28x28 range 0..1{binarize}
network p
  conv2d 8 kernel 7 pad 3 mask A name r0
  conv2d 8 kernel 3 pad 1 mask B
  gate
  conv2d 8 kernel 1
  add r0 relu
  conv2d {classes} kernel 1
graph
  logits = p x
loss
  nll = {likelihood} logits x
update p minimise nll
train adam lr 1e-3 batch 16 epochs 1 seed 3
"""
SPECS = {
    "pixel_binary": SPEC.format(name="pixel_binary", binarize=" binarize", classes=1,
                                likelihood="bernoulli"),
    "pixel_levels": SPEC.format(name="pixel_levels", binarize="", classes=4,
                                likelihood="categorical"),
}


def pixel_model(vkvae, name, text):
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{tmp}/{name}.vae"
        with open(spec, "w") as f:
            f.write(text)
        if not train_both(vkvae, [spec, "--limit", "256", "--test-limit", "64", "--samples", "0"],
                          f"{tmp}/run", ("train_nll", "test_nll"), f"{name} trains",
                          lambda so, out: "nll" in so):
            return
        ckpt = f"{tmp}/run-cpu/checkpoint.safetensors"
        evals = []
        for device in ("0", "cpu"):
            rc, so, e = run(vkvae, "eval", ckpt, "--limit", "64", "--device", device)
            line = [l.split() for l in so.splitlines() if l.split()[:1] == ["nll"]]
            evals.append(float(line[0][1]) if rc == 0 and line else None)
        check(None not in evals and close(evals[0], evals[1]),
              f"{name}: vkvae eval prints the nll alike on both backends ({evals})")
        pngs = []
        for device in ("0", "cpu"):
            png = f"{tmp}/s-{device}.png"
            rc, so, e = run(vkvae, "sample", ckpt, "-o", png, "-n", "4", "--device", device)
            check(rc == 0 and os.path.getsize(png) > 0,
                  f"{name}: vkvae sample draws pixel by pixel on device {device} "
                  f"(exit {rc}: {e.strip()[-200:]})")
            pngs.append(open(png, "rb").read() if rc == 0 else b"")
        check(pngs[0] == pngs[1], f"{name}: the samples are the same on lavapipe and the CPU "
              "backend")
        rc, _, e = run(vkvae, "reconstruct", ckpt, "-o", f"{tmp}/r.png", "--device", "cpu")
        errors = [l for l in e.splitlines() if "error" in l]
        check(rc != 0 and len(errors) == 1,
              f"{name}: vkvae reconstruct refuses it in one line (exit {rc}: "
              f"{e.strip()[-200:]})")


def main():
    for name, text in SPECS.items():
        pixel_model(sys.argv[1], name, text)


main()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
