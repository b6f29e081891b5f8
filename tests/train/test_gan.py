#!/usr/bin/env python3
"""gan_dcgan and vaegan_conv, the models of several networks (suite 'train'):

  test_gan.py VKVAE

- gan_dcgan, one epoch on 640 Fashion-MNIST images on lavapipe and on the
  CPU backend: the two runs' loss terms agree within 1e-3 relative;
  metrics.csv has a column per term (train_d_loss, train_g_loss,
  test_d_loss, test_g_loss) and train_loss is their sum; vkvae prints the
  terms; the curve is drawn.
- vkvae eval prints each term, the same on both backends; vkvae sample
  writes the generator's images (the same on both backends: one draw);
  encode and reconstruct refuse the model in one line (it has no encoder).
- A second epoch resumed from the checkpoint equals one run of two epochs
  (the optimizer state and the running averages of every network saved).
- vaegan_conv (three updates, a tapped layer, a weighted term) trains 64
  images on both backends with equal terms (1e-3), the columns kl, llike,
  d_loss, g_loss.
- Where python3-torch is installed, bench/pytorch_gan.py's and
  bench/pytorch_vaegan.py's twins take the checkpoints with a strict
  load_state_dict (else a skip note).
"""
import csv
import os
import subprocess
import sys
import tempfile

from cli_test import check, close, failures, run


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def terms_of(text):
    """vkvae eval's term lines: {name: value}."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "nats/image":
            out[parts[0]] = float(parts[1])
    return out


def torch_load(script, ckpt, tmp):
    python = "/usr/bin/python3"
    if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0:
        print(f"skipped: PyTorch's strict load_state_dict in {script} (no python3-torch)")
        return
    root = os.environ.get("VKVAE_SOURCE_ROOT", f"{os.path.dirname(__file__)}/../..")
    rc, so, e = run(python, f"{root}/bench/{script}", "--check", ckpt, "--png",
                    f"{tmp}/{script}.png")
    check(rc == 0 and "strictly" in so and os.path.getsize(f"{tmp}/{script}.png") > 0,
          f"{script}'s twin takes the checkpoint with a strict load_state_dict "
          f"(exit {rc}: {e.strip()[-300:]})")


def gan(vkvae, tmp):
    quick = ["--limit", "640", "--test-limit", "256", "--samples", "16"]
    out = {}
    for device in ("0", "cpu"):
        folder = f"{tmp}/gan-{device}"
        rc, so, e = run(vkvae, "train", "gan_dcgan", "--epochs", "1", *quick, "--device",
                        device, "--out", folder)
        check(rc == 0 and "d_loss" in so and "g_loss" in so and
              os.path.getsize(f"{folder}/curve.png") > 0,
              f"gan_dcgan trains on device {device} and prints its terms "
              f"(exit {rc}: {e.strip()[-300:]})")
        out[device] = rows(f"{folder}/metrics.csv") if rc == 0 else []
    g, c = out["0"], out["cpu"]
    if not (g and c):
        return
    cols = ["train_loss", "train_d_loss", "train_g_loss", "test_loss", "test_d_loss",
            "test_g_loss"]
    check(all(k in g[0] for k in cols) and "train_kl" not in g[0],
          f"metrics.csv has a column per term ({sorted(g[0])})")
    for k in cols:
        check(close(float(g[0][k]), float(c[0][k])),
              f"{k} agrees on lavapipe and the CPU backend ({g[0][k]} / {c[0][k]})")
    total = float(c[0]["train_d_loss"]) + float(c[0]["train_g_loss"])
    check(close(float(c[0]["train_loss"]), total, 1e-5),
          f"train_loss is the terms' sum ({c[0]['train_loss']} / {total})")
    ckpt = f"{tmp}/gan-cpu/checkpoint.safetensors"
    evals = []
    for device in ("0", "cpu"):
        rc, so, e = run(vkvae, "eval", ckpt, "--limit", "256", "--device", device)
        evals.append(terms_of(so) if rc == 0 else {})
    check(set(evals[1]) == {"d_loss", "g_loss"} and
          all(close(evals[0].get(k, 0), v) for k, v in evals[1].items()),
          f"vkvae eval prints each term, alike on both backends ({evals})")
    pngs = []
    for device in ("0", "cpu"):
        png = f"{tmp}/s-{device}.png"
        rc, _, e = run(vkvae, "sample", ckpt, "-o", png, "-n", "16", "--device", device)
        check(rc == 0 and os.path.getsize(png) > 0,
              f"vkvae sample on device {device} (exit {rc}: {e.strip()[-200:]})")
        pngs.append(open(png, "rb").read() if rc == 0 else b"")
    check(pngs[0] == pngs[1], "the samples are the same on lavapipe and the CPU backend")
    for cmd in (["reconstruct", ckpt, "-o", f"{tmp}/r.png"],
                ["encode", ckpt, "-o", f"{tmp}/e.npy"]):
        rc, _, e = run(vkvae, *cmd, "--device", "cpu")
        errors = [l for l in e.splitlines() if "error" in l]
        check(rc != 0 and len(errors) == 1 and "gan_dcgan has no" in errors[0],
              f"vkvae {cmd[0]} refuses the GAN in one line (exit {rc}: {e.strip()[-200:]})")
    # resume: one epoch, then a second from its checkpoint, equals two at once
    two = f"{tmp}/gan-two"
    rc, _, e = run(vkvae, "train", "gan_dcgan", "--epochs", "2", *quick, "--device", "cpu",
                   "--out", two)
    rc2, _, e2 = run(vkvae, "train", "gan_dcgan", "--epochs", "2", *quick, "--device", "cpu",
                     "--out", f"{tmp}/gan-cpu", "--resume", ckpt)
    if rc == 0 and rc2 == 0:
        a, b = rows(f"{two}/metrics.csv")[-1], rows(f"{tmp}/gan-cpu/metrics.csv")[-1]
        check(a["train_d_loss"] == b["train_d_loss"] and a["test_g_loss"] == b["test_g_loss"],
              f"a resumed second epoch equals two at once ({a['train_d_loss']} / "
              f"{b['train_d_loss']})")
    else:
        check(False, f"the resume runs (exit {rc}, {rc2}: {(e + e2).strip()[-300:]})")
    torch_load("pytorch_gan.py", ckpt, tmp)


def vaegan(vkvae, tmp):
    out = {}
    for device in ("0", "cpu"):
        folder = f"{tmp}/vaegan-{device}"
        rc, so, e = run(vkvae, "train", "vaegan_conv", "--epochs", "1", "--limit", "64",
                        "--test-limit", "64", "--samples", "0", "--device", device,
                        "--out", folder)
        check(rc == 0, f"vaegan_conv trains on device {device} (exit {rc}: {e.strip()[-300:]})")
        out[device] = rows(f"{folder}/metrics.csv") if rc == 0 else []
    g, c = out["0"], out["cpu"]
    if not (g and c):
        return
    for k in ("train_kl", "train_llike", "train_d_loss", "train_g_loss", "test_llike"):
        check(k in g[0] and close(float(g[0][k]), float(c[0][k])),
              f"vaegan_conv's {k} agrees on lavapipe and the CPU backend "
              f"({g[0].get(k)} / {c[0].get(k)})")
    torch_load("pytorch_vaegan.py", f"{tmp}/vaegan-cpu/checkpoint.safetensors", tmp)


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="vkvae-gan-") as tmp:
        gan(vkvae, tmp)
        vaegan(vkvae, tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
