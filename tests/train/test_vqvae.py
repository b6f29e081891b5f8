#!/usr/bin/env python3
"""A VQ-VAE (a codebook latent) through the CLI (suite 'train'):

  test_vqvae.py VKVAE

A small VQ-VAE written as a user's own spec (a 7x7 grid of 4-value
vectors, 16 codes), one epoch on 512 Fashion-MNIST images on lavapipe and
on the CPU backend:
- the recon and vq terms agree within 1e-3 relative, and so do the
  codebook's usage columns (train_z_perplexity, test_z_perplexity: the
  codes' choices are the same on both backends, so the counts are);
  perplexity lies in [1, 16] and the dead codes in [0, 15];
- vkvae eval prints the terms and a codebook line whose perplexity is
  metrics.csv's test_z_perplexity, on both backends;
- the built-in vqvae_conv's checkpoint names are PyTorch's
  (enc.codebook.weight [128, 16]);
- bad specs: a codebook not last, in the one-network form, a vq part on a
  network without a codebook, an update that trains a codebook without
  its vq part: each refused in one line by vkvae check, exit 1;
- reconstruct (encode to z_e, then quantise and decode) gives the same PNG
  on both backends; encode writes z_e (196 values an image); interpolate
  walks z_e;
- sample refuses the model in one line (no prior);
- with `restart` (codes no position chose move onto a z_e after each
  step): alike on both backends, fewer dead codes on the test set;
- with `ema 0.95` (codes as moving averages): the terms and usage alike on
  both backends, the checkpoint's state named enc.codebook.ema_count and
  .ema_sum;
- where python3-torch is installed, one SGD step of vqvae_conv equals
  PyTorch's autograd of the paper's loss (bench/pytorch_vqvae.py
  --grad-check: every gradient within 1e-4) on both backends, and with
  `ema 0.99` the moving averages and codes too.
"""
import os
import subprocess
import sys
import tempfile

from cli_test import check, close, failures, run
from cli_test import train_both as on_both_backends

SPEC = """model vq_small
input 1x28x28 range 0..1
network enc
  conv2d 8 kernel 4 stride 2 pad 1 relu
  conv2d 8 kernel 4 stride 2 pad 1 relu
  conv2d 4 kernel 1
  codebook 16 beta 0.25
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

BAD = {
    "not_last": (SPEC.replace("  conv2d 4 kernel 1\n  codebook 16 beta 0.25\n",
                              "  codebook 16\n  conv2d 4 kernel 1\n"), "last layer"),
    "no_vq": (SPEC.replace("update enc dec minimise recon + vq",
                           "update enc dec minimise recon"), "no 'vq' part"),
    "vq_of_decoder": (SPEC.replace("vq = vq z", "vq = vq x_rec"), "ending in 'codebook'"),
    "beta_negative": (SPEC.replace("beta 0.25", "beta -1"), "beta"),
}

ONE_NETWORK = """model vq_one
input 1x28x28 range 0..1
latent 16 deterministic
encoder
  flatten
  dense 16
  codebook 8
decoder
  dense 784 sigmoid
objective ae
train adam
"""


def train_epoch(vkvae, spec, tag, keys):
    """One epoch of spec on 512 images on lavapipe and the CPU backend, the
    usage printed; each of keys alike on both. Their metrics, or None."""
    return on_both_backends(vkvae, [spec, "--limit", "512", "--test-limit", "128",
                                    "--samples", "0"],
                            f"{os.path.dirname(spec)}/{tag}", keys,
                            f"{tag}: trains and prints the codebook's usage",
                            lambda so, out: "codebook z: perplexity" in so)


def train_both(vkvae, tmp):
    spec = f"{tmp}/vq_small.vae"
    with open(spec, "w") as f:
        f.write(SPEC)
    metrics = train_epoch(vkvae, spec, "run", ("train_recon", "train_vq", "test_recon",
                                               "test_vq", "train_z_perplexity",
                                               "test_z_perplexity", "train_z_dead",
                                               "test_z_dead"))
    if not metrics:
        return None
    c = metrics["cpu"]
    for k in ("train_z_perplexity", "test_z_perplexity"):
        check(1 <= float(c.get(k, 0)) <= 16, f"{k} lies in [1, 16] ({c.get(k)})")
    for k in ("train_z_dead", "test_z_dead"):
        check(0 <= int(c.get(k, -1)) <= 15, f"{k} lies in [0, 15] ({c.get(k)})")
    ckpt = f"{tmp}/run-cpu/checkpoint.safetensors"
    for device in ("0", "cpu"):
        rc, so, e = run(vkvae, "eval", ckpt, "--limit", "128", "--device", device)
        words = [l.split() for l in so.splitlines()]
        book = [w for w in words if w[:2] == ["codebook", "z"]]
        recon = [w for w in words if w[:1] == ["recon"]]
        check(rc == 0 and book and recon and
              close(float(book[0][3]), float(c["test_z_perplexity"])) and
              close(float(recon[0][1]), float(c["test_recon"])),
              f"vkvae eval on device {device} prints recon and the codebook's usage as "
              f"training's test pass ({so.strip()[-300:]}{e.strip()[-200:]})")
    pngs = []
    for device in ("0", "cpu"):
        png = f"{tmp}/r-{device}.png"
        rc, so, e = run(vkvae, "reconstruct", ckpt, "-n", "8", "-o", png, "--device", device)
        check(rc == 0, f"vkvae reconstruct on device {device} (exit {rc}: {e.strip()[-200:]})")
        pngs.append(open(png, "rb").read() if rc == 0 else b"")
    check(pngs[0] and pngs[0] == pngs[1],
          "reconstructions (z_e quantised, decoded) are the same PNG on lavapipe and the CPU "
          "backend")
    rc, so, e = run(vkvae, "encode", ckpt, "-n", "5", "-o", f"{tmp}/z.npy", "--device", "cpu")
    check(rc == 0 and "5 codes of 196 dimensions" in e + so,
          f"vkvae encode writes z_e, 4x7x7 = 196 values an image ({(e + so).strip()[-200:]})")
    rc, so, e = run(vkvae, "interpolate", ckpt, "--from", "0", "--to", "1", "-o",
                    f"{tmp}/i.png", "--device", "cpu")
    check(rc == 0, f"vkvae interpolate walks z_e (exit {rc}: {e.strip()[-200:]})")
    rc, _, e = run(vkvae, "sample", ckpt, "-o", f"{tmp}/s.png", "--device", "cpu")
    errors = [l for l in e.splitlines() if "error" in l]
    check(rc != 0 and len(errors) == 1,
          f"vkvae sample refuses a VQ-VAE in one line (exit {rc}: {e.strip()[-200:]})")
    return int(c["test_z_dead"])


def restart_both(vkvae, tmp, dead_without):
    """Codes no position chose restart from z_e after each step: alike on
    both backends, and fewer dead codes on the test set than without."""
    spec = f"{tmp}/vq_restart.vae"
    with open(spec, "w") as f:
        f.write(SPEC.replace("codebook 16 beta 0.25", "codebook 16 beta 0.25 restart")
                .replace("model vq_small", "model vq_restart"))
    metrics = train_epoch(vkvae, spec, "restart", ("train_recon", "train_vq", "test_recon",
                                                   "test_vq", "test_z_perplexity",
                                                   "test_z_dead"))
    if metrics and dead_without is not None:
        dead = int(metrics["cpu"]["test_z_dead"])
        check(dead < dead_without, f"restart: {dead} dead codes on the test set, fewer than "
              f"{dead_without} without")


def ema_both(vkvae, tmp):
    """The codes as moving averages: terms and usage alike on both backends,
    the checkpoint's state named as the twin's buffers."""
    spec = f"{tmp}/vq_ema.vae"
    with open(spec, "w") as f:
        f.write(SPEC.replace("codebook 16 beta 0.25", "codebook 16 beta 0.25 ema 0.95")
                .replace("model vq_small", "model vq_ema"))
    if not train_epoch(vkvae, spec, "ema", ("train_recon", "train_vq", "test_recon",
                                             "test_vq", "test_z_perplexity")):
        return
    with open(f"{tmp}/ema-cpu/checkpoint.safetensors", "rb") as f:
        head = f.read(4096)
    check(all(n in head for n in (b"enc.codebook.weight", b"enc.codebook.ema_count",
                                  b"enc.codebook.ema_sum")),
          "ema: the checkpoint holds enc.codebook.weight, .ema_count and .ema_sum")


def grad_check(vkvae, tmp):
    """Where python3-torch is installed: one SGD step of vqvae_conv on 128
    images against PyTorch's autograd (bench/pytorch_vqvae.py --grad-check),
    straight-through and codebook included, on both backends; then the EMA
    codebook's step (from a checkpoint whose averages moved once)."""
    python = "/usr/bin/python3"
    if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0:
        print("skipped: the gradient check against PyTorch (no python3-torch)")
        return
    root = os.environ.get("VKVAE_SOURCE_ROOT", f"{os.path.dirname(__file__)}/../..")
    with open(f"{root}/models/vqvae_conv.vae") as f:
        text = f.read()
    line = "train adam lr 1e-3 batch 128 epochs 10 seed 1"
    twin = f"{root}/bench/pytorch_vqvae.py"
    quick = ["--limit", "128", "--test-limit", "64", "--samples", "0"]
    for ema in ("", " ema 0.99"):
        specs = {}
        for name, lr in (("w0", "1e-30"), ("w1", "1e-3")):
            specs[name] = f"{tmp}/g{name}{ema and '_ema'}.vae"
            with open(specs[name], "w") as f:
                f.write(text.replace(line, f"train sgd lr {lr} batch 128 epochs 1 seed 1")
                        .replace("codebook 128 beta 0.25", "codebook 128 beta 0.25" + ema))
        for device in (("cpu", "0") if not ema else ("cpu",)):
            out = {k: f"{tmp}/g{k}-{device}{ema and '-ema'}" for k in ("w0", "w1")}
            rc0, _, e0 = run(vkvae, "train", specs["w0"], *quick, "--device", device,
                             "--out", out["w0"])
            w0 = f"{out['w0']}/checkpoint.safetensors"
            if ema:  # the averages moved in w0's step: w1 is one step further
                rc1, _, e1 = run(vkvae, "train", specs["w0"], *quick, "--device", device,
                                 "--resume", w0, "--epochs", "2", "--lr", "1e-3",
                                 "--out", out["w1"])
            else:
                rc1, _, e1 = run(vkvae, "train", specs["w1"], *quick, "--device", device,
                                 "--out", out["w1"])
            args = [python, twin, "--grad-check", w0, f"{out['w1']}/checkpoint.safetensors",
                    "--lr", "1e-3"] + (["--ema", "0.99"] if ema else [])
            rc, so, e = run(*args) if rc0 == 0 and rc1 == 0 else (1, "", e0 + e1)
            check(rc == 0 and "agree" in so,
                  f"one SGD step of vqvae_conv{ema} on device {device} is PyTorch's "
                  f"(exit {rc}: {so.strip()[-120:]}{e.strip()[-300:]})")


def builtin_names(vkvae):
    spec = os.path.join(os.environ.get("VKVAE_SOURCE_ROOT", "."), "models", "vqvae_conv.vae")
    rc, so, e = run(vkvae, "check", spec, "--explain")
    check(rc == 0 and "enc.codebook.weight    [128,16]" in so,
          f"vqvae_conv's codebook is enc.codebook.weight [128, 16] (exit {rc}: {e.strip()[-200:]})")


def bad_specs(vkvae, tmp):
    for name, (text, words) in list(BAD.items()) + [("one_network", (ONE_NETWORK, "'codebook' ends a network"))]:
        spec = f"{tmp}/{name}.vae"
        with open(spec, "w") as f:
            f.write(text)
        rc, so, e = run(vkvae, "check", spec)
        errors = [l for l in e.splitlines() if ": error: " in l]
        check(rc == 1 and len(errors) == 1 and words in errors[0],
              f"bad spec {name}: refused in one line naming '{words}' (exit {rc}: "
              f"{e.strip()[-300:]})")


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        dead = train_both(vkvae, tmp)
        restart_both(vkvae, tmp, dead)
        ema_both(vkvae, tmp)
        grad_check(vkvae, tmp)
        builtin_names(vkvae)
        bad_specs(vkvae, tmp)


main()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
