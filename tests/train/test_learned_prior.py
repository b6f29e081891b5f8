#!/usr/bin/env python3
"""A prior learned from the label, through the CLI (suite 'train'):

  test_learned_prior.py VKVAE

A user's spec of several networks with a condition: an encoder q(z|x,y),
a prior network p(z|y) on the label's one-hot y, a decoder of z and y,
the loss rec + KL(q || p) ('kl z zp': kl_gauss2, its gradient into both
networks), and a call decoding the prior's draw ('x_gen = dec zp'), which
makes the samples. One epoch on 512 images on lavapipe and on the CPU
backend:
- the rec and kl terms agree within 1e-3 relative (train and test);
- vkvae eval prints training's test terms, on both;
- vkvae sample --label K draws z from p(z|K) and decodes it: the same PNG
  on both backends, another PNG for another label;
- vkvae check --explain shows its decode and sample programs.
"""
import sys
import tempfile

from cli_test import check, close, failures, run, train_both

SPEC = """model cvae_learned_prior
input 1x28x28 range 0..1
condition label classes 10
network enc
  flatten
  concat label
  dense 32 relu
  gaussian 4
network pri
  dense 16 tanh
  gaussian 4
network dec
  concat label
  dense 32 relu
  dense 784
  reshape 1x28x28
graph
  z = enc x
  zp = pri y
  logits = dec z
  x_gen = dec zp
loss
  rec = bernoulli logits x
  kl = kl z zp
update enc dec pri minimise rec + kl
train adam lr 2e-3 batch 32 epochs 1 seed 4
"""


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{tmp}/lp.vae"
        with open(spec, "w") as f:
            f.write(SPEC)
        rc, so, e = run(vkvae, "check", spec, "--explain")
        check(rc == 0 and "program sample" in so and "program decode" in so,
              f"the spec checks, with decode and sample programs (exit {rc}: "
              f"{e.strip()[-200:]})")
        metrics = train_both(vkvae, [spec, "--limit", "512", "--test-limit", "128", "--samples",
                                     "0"], f"{tmp}/run",
                             ("train_rec", "train_kl", "test_rec", "test_kl"))
        if not metrics:
            return
        c = metrics["cpu"]
        check(float(c["test_kl"]) > 0, f"the KL to the learned prior is positive "
              f"({c['test_kl']})")
        ckpt = f"{tmp}/run-cpu/checkpoint.safetensors"
        pngs = {}
        for device in ("0", "cpu"):
            rc, so, e = run(vkvae, "eval", ckpt, "--limit", "128", "--device", device)
            words = {l.split()[0]: l.split()[1] for l in so.splitlines() if len(l.split()) > 1}
            check(rc == 0 and close(float(words.get("kl", "nan")), float(c["test_kl"])),
                  f"vkvae eval on device {device} prints training's test kl "
                  f"({so.strip()[-200:]}{e.strip()[-200:]})")
            for label in ("3", "7"):
                png = f"{tmp}/s{label}-{device}.png"
                rc, _, e = run(vkvae, "sample", ckpt, "--label", label, "-n", "8", "-o", png,
                               "--device", device)
                check(rc == 0, f"sample --label {label} on device {device} (exit {rc}: "
                      f"{e.strip()[-200:]})")
                pngs[label, device] = open(png, "rb").read() if rc == 0 else b""
        check(pngs["3", "0"] and pngs["3", "0"] == pngs["3", "cpu"],
              "samples of label 3 (z drawn from p(z|3), decoded) are the same PNG on lavapipe "
              "and the CPU backend")
        check(pngs["3", "cpu"] != pngs["7", "cpu"], "another label draws other images")


main()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
