#!/usr/bin/env python3
"""Semi-supervised training (M2) through the CLI (suite 'train'):

  test_m2.py VKVAE

A user's spec with 'condition label classes 10 unlabelled qy': a
classifier q(y|x), an encoder and a decoder that join the label, trained
with --keep-labels 20 on 600 images (the rest unlabelled: every class tried,
weighted by q(y|x)). On lavapipe and on the CPU backend:
- labelled.txt holds 20 training indices, 2 a class, the same on both;
- every term (rec, kl, ent, class, class_error) agrees within 1e-3
  relative, train and test; ent is negative (minus an entropy, on the
  unlabelled rows) and 0 on the test set (every row labelled);
- vkvae eval prints the test classification error training reported;
- sample --label K (the decoder's twin on the given label) gives the same
  PNG on both backends, another for another label; reconstruct runs, and
  with --label K decodes each code as class K;
- refusals in one line: --keep-labels on a model without 'unlabelled', and
  fewer labels than classes.
"""
import csv
import sys
import tempfile

from cli_test import check, close, failures, run

SPEC = """model m2_small
input 1x28x28 range 0..1
condition label classes 10 unlabelled qy
network cls
  flatten
  dense 32 relu
  dense 10
network enc
  flatten
  concat label
  dense 32 relu
  gaussian 4
network dec
  concat label
  dense 32 relu
  dense 784
  reshape 1x28x28
graph
  qy = cls x
  z = enc x
  logits = dec z
loss
  rec = bernoulli logits x
  kl = kl z
  ent = entropy qy
  class = ce qy y
update cls enc dec minimise rec + kl + ent + 20 class
train adam lr 2e-3 batch 32 epochs 1 seed 4
"""


def errors(stderr):
    return sum("error:" in line for line in stderr.splitlines())


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{tmp}/m2.vae"
        with open(spec, "w") as f:
            f.write(SPEC)
        metrics, kept = {}, {}
        for device in ("0", "cpu"):
            out = f"{tmp}/run-{device}"
            rc, so, e = run(vkvae, "train", spec, "--keep-labels", "20", "--limit", "600",
                            "--test-limit", "128", "--samples", "0", "--device", device,
                            "--out", out)
            check(rc == 0, f"trains with --keep-labels 20 on device {device} (exit {rc}: "
                  f"{e.strip()[-300:]})")
            if rc == 0:
                with open(f"{out}/metrics.csv") as f:
                    metrics[device] = list(csv.DictReader(f))[0]
                kept[device] = [int(l) for l in open(f"{out}/labelled.txt")]
        if len(metrics) < 2:
            return
        check(kept["0"] == kept["cpu"] and len(kept["cpu"]) == 20 and
              len(set(kept["cpu"])) == 20 and all(0 <= i < 600 for i in kept["cpu"]),
              f"labelled.txt: 20 distinct indices of the 600 rows, alike on both ({kept['cpu']})")
        g, c = metrics["0"], metrics["cpu"]
        for k in ("rec", "kl", "ent", "class", "class_error"):
            for part in ("train", "test"):
                key = f"{part}_{k}"
                check(key in g and key in c and close(float(g[key]), float(c[key])),
                      f"{key} agrees on lavapipe and the CPU backend ({g.get(key)} / "
                      f"{c.get(key)})")
        check(float(c["train_ent"]) < 0, f"train ent is minus an entropy ({c['train_ent']})")
        check(float(c["test_ent"]) == 0, f"test ent is 0: every test row has a label "
              f"({c['test_ent']})")
        check(0 <= float(c["test_class_error"]) < 0.9,
              f"the classifier learns ({c['test_class_error']} test error)")
        ckpt = f"{tmp}/run-cpu/checkpoint.safetensors"
        rc, so, e = run(vkvae, "eval", ckpt, "--limit", "128", "--device", "cpu")
        words = {l.split()[0]: l.split()[1] for l in so.splitlines() if len(l.split()) > 1}
        check(rc == 0 and close(float(words.get("class_error", "nan")),
                                float(c["test_class_error"])),
              f"vkvae eval prints training's test error ({so.strip()[-300:]}{e.strip()[-200:]})")
        pngs = {}
        for device in ("0", "cpu"):
            for label in ("3", "7"):
                png = f"{tmp}/s{label}-{device}.png"
                rc, _, e = run(vkvae, "sample", ckpt, "--label", label, "-n", "8", "--mean",
                               "-o", png, "--device", device)
                check(rc == 0, f"sample --label {label} on device {device} (exit {rc}: "
                      f"{e.strip()[-200:]})")
                pngs[label, device] = open(png, "rb").read() if rc == 0 else b""
        check(pngs["3", "0"] and pngs["3", "0"] == pngs["3", "cpu"],
              "samples of label 3 (the decoder's twin on the given label) are the same PNG on "
              "lavapipe and the CPU backend")
        check(pngs["3", "cpu"] != pngs["7", "cpu"], "another label decodes other images")
        rc, _, e = run(vkvae, "reconstruct", ckpt, "-n", "8", "-o", f"{tmp}/rec.png",
                       "--device", "cpu")
        check(rc == 0, f"reconstruct (encode with the given label, decode) ({e.strip()[-200:]})")
        rc, _, e = run(vkvae, "reconstruct", ckpt, "-n", "8", "--label", "7", "-o",
                       f"{tmp}/rec7.png", "--device", "cpu")
        check(rc == 0 and open(f"{tmp}/rec7.png", "rb").read() != open(f"{tmp}/rec.png",
                                                                         "rb").read(),
              f"reconstruct --label 7 decodes each code as class 7 ({e.strip()[-200:]})")
        rc, _, e = run(vkvae, "reconstruct", ckpt, "--label", "10", "-o", f"{tmp}/bad.png",
                       "--device", "cpu")
        check(rc != 0 and errors(e) == 1 and "--label 10" in e,
              f"reconstruct --label out of range is refused in one line ({e.strip()})")

        rc, _, e = run(vkvae, "train", "cvae_mlp", "--keep-labels", "20", "--limit", "600",
                       "--device", "cpu", "--out", f"{tmp}/cvae")
        check(rc != 0 and errors(e) == 1 and "unlabelled" in e,
              f"--keep-labels on a model without 'unlabelled' is refused in one line ({e.strip()})")
        rc, _, e = run(vkvae, "train", spec, "--keep-labels", "5", "--limit", "600",
                       "--device", "cpu", "--out", f"{tmp}/few")
        check(rc != 0 and errors(e) == 1 and "--keep-labels 5" in e,
              f"fewer labels than classes is refused in one line ({e.strip()})")


main()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
