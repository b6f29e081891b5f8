#!/usr/bin/env python3
"""A prior learned from an image's condition, through the CLI (suite
'train'):

  test_vunet.py VKVAE

A small Variational U-Net as a user's spec: the shape s is x's edge map
(fixed), q(a|x,s), p(a|s) learned from s, a U-Net decoder over s with a
at its bottleneck, and a call decoding the prior's draw on the same shape
('x_gen = dec s ap'). Its decode and sample programs read images (io.x)
besides the code. One epoch on 512 images on lavapipe and on the CPU
backend:
- the rec and kl terms agree within 1e-3 relative (train and test);
- vkvae eval prints training's test rec;
- vkvae transfer (shapes x appearances, and draws from p(a|s)), sample
  --mean, reconstruct and interpolate give the same images on both
  backends, to the level of a pixel's byte (the convolutions' sums run in
  another order: a mean within 1e-6 of a rounding boundary may round to
  the next byte); another appearance renders other images;
- refusals in one line: transfer of a model without an image's condition,
  items out of range or not a list.
"""
import sys
import tempfile

from cli_test import check, close, failures, read_png, run, train_both

SPEC = """model vunet_tiny
input 1x28x28 range 0..1
network shape
  edges threshold 0.5
network enc
  concat input2
  conv2d 4 kernel 4 stride 2 pad 1 relu
  flatten
  gaussian 4
network pri
  conv2d 4 kernel 4 stride 2 pad 1 relu
  flatten
  gaussian 4
network dec
  conv2d 4 kernel 4 stride 2 pad 1 relu name d1
  flatten
  concat input2
  dense 196 relu
  reshape 4x7x7
  convt2d 4 kernel 4 stride 2 pad 1 relu
  concat d1
  convt2d 4 kernel 4 stride 2 pad 1 relu
  concat input
  conv2d 1 kernel 3 pad 1
graph
  s = shape x
  a = enc x s
  ap = pri s
  logits = dec s a
  x_gen = dec s ap
loss
  rec = bernoulli logits x
  kl = kl a ap
update enc pri dec minimise rec + kl
train adam lr 2e-3 batch 32 epochs 1 seed 4
"""


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{tmp}/vunet_tiny.vae"
        with open(spec, "w") as f:
            f.write(SPEC)
        rc, so, e = run(vkvae, "check", spec, "--explain")
        progs = {p: so.split(f"program {p} ")[1].split("program ")[0]
                 for p in ("encode", "decode", "sample") if f"program {p} " in so}
        check(rc == 0 and len(progs) == 3 and "io.x" in progs["decode"] and
              "io.x" in progs["sample"] and "io.mu" in progs["encode"],
              f"the spec checks; encode gives io.mu, decode and sample read io.x (exit {rc}: "
              f"{e.strip()[-200:]})")
        metrics = train_both(vkvae, [spec, "--limit", "512", "--test-limit", "128", "--samples",
                                     "8"], f"{tmp}/run",
                             ("train_rec", "train_kl", "test_rec", "test_kl"),
                             "trains, samples on the test set's shapes")
        if not metrics:
            return
        c = metrics["cpu"]
        check(float(c["test_kl"]) > 0, f"the KL to the learned prior is positive "
              f"({c['test_kl']})")
        ckpt = f"{tmp}/run-cpu/checkpoint.safetensors"
        pngs = {}
        jobs = {
            "transfer": ["transfer", "--shape", "0-2", "--appearance", "3,5", "--samples", "2"],
            "transfer-other": ["transfer", "--shape", "0-2", "--appearance", "3,6",
                               "--samples", "2"],
            "sample": ["sample", "-n", "16", "--mean"],
            "reconstruct": ["reconstruct", "-n", "4"],
            "interpolate": ["interpolate", "--from", "1", "--to", "2", "--steps", "4"],
        }
        for device in ("0", "cpu"):
            rc, so, e = run(vkvae, "eval", ckpt, "--limit", "128", "--device", device)
            words = {l.split()[0]: l.split()[1] for l in so.splitlines() if len(l.split()) > 1}
            check(rc == 0 and close(float(words.get("rec", "nan")), float(c["test_rec"])),
                  f"vkvae eval on device {device} prints training's test rec "
                  f"({so.strip()[-200:]}{e.strip()[-200:]})")
            for job, args in jobs.items():
                png = f"{tmp}/{job}-{device}.png"
                rc, _, e = run(vkvae, *args, ckpt, "-o", png, "--device", device)
                check(rc == 0, f"{job} on device {device} (exit {rc}: {e.strip()[-200:]})")
                pngs[job, device] = read_png(png) if rc == 0 else None
        for job in jobs:
            a, b = pngs[job, "0"], pngs[job, "cpu"]
            same = a and b and a[:3] == b[:3]
            worst = max(abs(p - q) for ra, rb in zip(a[3], b[3]) for p, q in zip(ra, rb)) \
                if same else None
            check(same and worst <= 1, f"{job}: the same images on lavapipe and the CPU backend "
                  f"(the largest difference {worst} of 255)")
        check(pngs["transfer", "cpu"] != pngs["transfer-other", "cpu"],
              "another appearance renders other images")
        # refusals, one line each, nothing written
        other = f"{tmp}/run-ae"
        rc, _, e = run(vkvae, "train", "ae_mlp", "--limit", "64", "--test-limit", "64",
                       "--epochs", "1", "--samples", "0", "--device", "cpu", "--out", other)
        bad = [
            ([f"{other}/checkpoint.safetensors"], "decodes its code without an image's shape"),
            ([ckpt, "--shape", "99999"], "--shape 99999 is out of range"),
            ([ckpt, "--appearance", "1,x"], "is not a list of items"),
            ([ckpt, "--shape", "5-2"], "a range is I-J with I <= J"),
        ]
        for args, want in bad:
            png = f"{tmp}/bad.png"
            rc, _, e = run(vkvae, "transfer", *args, "--device", "cpu", "-o", png)
            lines = e.strip().splitlines()
            check(rc != 0 and len(lines) >= 1 and want in lines[-1] and
                  lines[-1].startswith("vkvae: error:"),
                  f"transfer {' '.join(args[1:]) or 'of ae_mlp'}: refused in one line with "
                  f"'{want}' ({e.strip()[-200:]})")


main()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
