#!/usr/bin/env python3
"""classifier_conv, the built-in classifier (objective classify; suite 'train'):

  test_classifier.py VKVAE

- One epoch on 2,000 Fashion-MNIST images on lavapipe and on the CPU
  backend: the two train losses agree within 1e-3 relative, metrics.csv
  names the classifier's columns (train_ce, train_error, test_ce,
  test_error) and its test error is a rate in [0, 1].
- vkvae eval prints the accuracy of the 500 test images both backends
  agree on, as train's last test error says (100 - error); it is far above
  chance (10%).
- sample refuses the classifier in one line (exit 11: it generates
  nothing); encode gives its features (the head's input).
- Where python3-torch is installed, bench/pytorch_classifier.py's twin
  takes the checkpoint with a strict load_state_dict (batch norms, layers
  without bias) and gets vkvae eval's accuracy image for image (else a
  skip note).
- vkvae eval --fd: a briefly trained vae_mlp's samples against the test
  images in this classifier's features: the same distance on both
  backends; a classifier that is none, a model without samples, a missing
  file and too few samples are refused in one line.
The full run's accuracy (>= 90% in 5 epochs) is in BENCHMARKS.md: too slow
for the suite.
"""
import csv
import os
import subprocess
import sys
import tempfile

from cli_test import check, failures, run


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def torch_check(vkvae, ckpt):
    """Where Debian's python3-torch is installed: the checkpoint loads into
    bench/pytorch_classifier.py's twin (BatchNorm2d/1d, bias=False layers)
    with a strict load_state_dict, and PyTorch's eval-mode accuracy on the
    10,000 test images is vkvae eval's, image for image."""
    python = "/usr/bin/python3"
    if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0:
        print("skipped: PyTorch's strict load_state_dict of the classifier (no python3-torch)")
        return
    root = os.environ.get("VKVAE_SOURCE_ROOT", f"{os.path.dirname(__file__)}/../..")
    rc, so, e = run(python, f"{root}/bench/pytorch_classifier.py", "--check", ckpt)
    rc2, so2, e2 = run(vkvae, "eval", ckpt, "--device", "cpu")
    got = [l.split("(")[1].split()[0] for l in so.splitlines() if l.startswith("accuracy")]
    want = [l.split("(")[1].split()[0] for l in so2.splitlines() if l.startswith("accuracy")]
    check(rc == 0 and rc2 == 0 and got and got == want,
          f"PyTorch's twin takes the checkpoint (strict) and classifies as many test images "
          f"right as vkvae eval ({got} / {want}; {(e + e2).strip()[-300:]})")


def fd_of(text):
    line = [l for l in text.splitlines() if l.startswith("Frechet distance")]
    return float(line[0].split()[2]) if line else None


def frechet(vkvae, tmp, classifier, quick):
    """vkvae eval --fd: a VAE's samples against the test images in the
    classifier's features, the same on lavapipe and the CPU backend (the
    same draws); its bad inputs, one line each."""
    vae = f"{tmp}/vae"
    rc, _, e = run(vkvae, "train", "vae_mlp", *quick, "--device", "cpu", "--samples", "0",
                   "--out", vae)
    check(rc == 0, f"vae_mlp trains for the distance (exit {rc}: {e.strip()[-200:]})")
    ckpt = f"{vae}/checkpoint.safetensors"
    fds = []
    for device in ("0", "cpu"):
        rc, so, e = run(vkvae, "eval", ckpt, "--limit", "500", "--fd", classifier,
                        "--fd-samples", "300", "--device", device)
        fds.append(fd_of(so) if rc == 0 else None)
        check(rc == 0 and fds[-1] is not None and fds[-1] > 0 and
              "300 samples against 500 test images, in the 128 penultimate features of "
              "classifier_conv" in so,
              f"eval --fd on device {device}: {fds[-1]} (exit {rc}: {e.strip()[-200:]})")
    if None not in fds:
        check(abs(fds[0] - fds[1]) <= 1e-3 * fds[1],
              f"the distance is the same on lavapipe and the CPU backend ({fds})")
    ae = f"{tmp}/ae"
    run(vkvae, "train", "ae_mlp", *quick, "--device", "cpu", "--samples", "0", "--out", ae)
    for args, says in (([ckpt, "--fd", ckpt], "is not a classifier"),
                       ([f"{ae}/checkpoint.safetensors", "--fd", classifier],
                        "has no samples to measure"),
                       ([ckpt, "--fd", f"{tmp}/none.safetensors"], "none.safetensors"),
                       ([ckpt, "--fd", classifier, "--fd-samples", "1"], "--fd-samples")):
        rc, so, e = run(vkvae, "eval", *args, "--device", "cpu")
        errors = [l for l in e.splitlines() if "error" in l]
        check(rc == 1 and len(errors) == 1 and says in errors[0] and "Frechet" not in so,
              f"eval {' '.join(args[1:])}: one line, exit 1 (exit {rc}: {e.strip()[-200:]})")


def main():
    vkvae = sys.argv[1]
    quick = ["--epochs", "1", "--limit", "2000", "--test-limit", "500"]
    with tempfile.TemporaryDirectory(prefix="vkvae-classifier-") as tmp:
        out = {}
        for device in ("0", "cpu"):
            folder = f"{tmp}/{device}"
            rc, so, e = run(vkvae, "train", "classifier_conv", *quick, "--device", device,
                            "--out", folder)
            check(rc == 0 and "accuracy" in so and "no samples" in e and
                  "a classifier generates nothing" in e,
                  f"classifier_conv trains on device {device} (exit {rc}: {e.strip()[-300:]})")
            out[device] = rows(f"{folder}/metrics.csv") if rc == 0 else []
        g, c = out["0"], out["cpu"]
        if g and c:
            cols = {"train_loss", "train_ce", "train_error", "test_loss", "test_ce", "test_error"}
            check(cols <= set(g[0]) and "train_kl" not in g[0],
                  f"metrics.csv has the classifier's columns ({sorted(g[0])})")
            lg, lc = float(g[0]["train_loss"]), float(c[0]["train_loss"])
            check(abs(lg - lc) / lc < 1e-3, f"GPU and CPU train losses agree ({lg} / {lc})")
            err = float(c[0]["test_error"])
            check(0 <= err <= 1 and float(c[0]["train_loss"]) == float(c[0]["train_ce"]),
                  f"the test error is a rate ({err}) and the loss is the cross-entropy")
            ckpt = f"{tmp}/cpu/checkpoint.safetensors"
            accs = []
            for device in ("0", "cpu"):
                rc, so, e = run(vkvae, "eval", ckpt, "--limit", "500", "--device", device)
                line = [l for l in so.splitlines() if l.startswith("accuracy")]
                acc = float(line[0].split()[1].rstrip("%")) if rc == 0 and line else -1
                accs.append(acc)
            want = 100 * (1 - err)
            check(accs[0] == accs[1] and abs(accs[1] - want) < 0.01 and accs[1] > 50,
                  f"vkvae eval: accuracy {accs} on both backends, train's test error says "
                  f"{want:.2f}%")
            torch_check(vkvae, ckpt)
            frechet(vkvae, tmp, ckpt, quick)
            rc, _, e = run(vkvae, "sample", ckpt, "-o", f"{tmp}/s.png", "--device", "cpu")
            errors = [l for l in e.splitlines() if "error" in l]
            check(rc == 11 and len(errors) == 1 and "classifier_conv has no" in errors[0],
                  f"vkvae sample refuses the classifier in one line (exit {rc}: {e.strip()})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
