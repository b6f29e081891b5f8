#!/usr/bin/env python3
"""Data sets larger than the device holds at once (suite 'train'):

  test_stream.py VKVAE

vae_mlp and cvae_mlp (whose labels stream too) train 2 epochs on 1000
Fashion-MNIST images and evaluate on 500, once with the whole set on the
device, once with --data-rows 300, which streams both sets through it in
chunks of 128 in two slots (the next chunk copied into one while the other
trains), and once with --data-rows 200, one slot of 128 (each chunk copied
after the one before): on the CPU backend, on the Vulkan device, and on it
described as a discrete GPU (VKVAE_LIMITS=discrete: nothing mapped, every
chunk through a staging mirror and a copy at the start of its steps), the
runs' losses are the same to the last digit metrics.csv keeps, and the
weights they save are the same bytes. A --data-rows smaller than a batch is
refused in one line.
"""
import os
import subprocess
import sys
import tempfile

from cli_test import check, failures


def run(*args, env=None):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def losses(folder):
    with open(f"{folder}/metrics.csv") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    head = rows[0]
    cols = [head.index(c) for c in ("train_loss", "train_kl", "test_loss", "test_kl")]
    return [[r[c] for c in cols] for r in rows[1:]]


def weights(folder):
    with open(f"{folder}/checkpoint.safetensors", "rb") as f:
        return f.read()


def main():
    vkvae = sys.argv[1]
    quick = ["--epochs", "2", "--limit", "1000", "--test-limit", "500", "--samples", "0"]
    with tempfile.TemporaryDirectory(prefix="vkvae-stream-") as tmp:
        discrete = dict(os.environ, VKVAE_LIMITS="discrete")
        devices = (("cpu", "cpu", None), ("vulkan", "vulkan", None),
                   ("discrete", "vulkan", discrete))
        kinds = (("whole", [], None),
                 ("two slots", ["--data-rows", "300"], "128 at a time, the next copied in"),
                 ("one slot", ["--data-rows", "200"], "128 at a time\n"))
        for model in ("vae_mlp", "cvae_mlp"):
            for label, device, env in devices:
                out = {}
                for name, extra, said in kinds:
                    folder = f"{tmp}/{model}-{label}-{name.replace(' ', '_')}"
                    rc, _, e = run(vkvae, "train", model, *quick, *extra, "--device", device,
                                   "--out", folder, env=env)
                    streamed = "stream through the device" in e
                    check(rc == 0 and streamed == (said is not None)
                          and (said is None or said in e),
                          f"{model} on {label}, {name} (exit {rc}: {e.strip()[-200:]})")
                    out[name] = folder if rc == 0 else None
                for name in ("two slots", "one slot"):
                    if out["whole"] and out[name]:
                        a, b = losses(out["whole"]), losses(out[name])
                        check(a == b and len(a) == 2,
                              f"{model} on {label}, {name}: streamed losses equal the "
                              f"resident ones ({a} / {b})")
                        check(weights(out["whole"]) == weights(out[name]),
                              f"{model} on {label}, {name}: and so do the weights")
        out = f"{tmp}/tiny"
        rc, _, e = run(vkvae, "train", "vae_mlp", *quick, "--data-rows", "100", "--device", "cpu",
                       "--out", out)
        errors = [line for line in e.splitlines() if "error" in line]
        check(rc == 1 and len(errors) == 1 and "fewer than a batch of 128" in errors[0]
              and not os.path.exists(out),
              f"--data-rows below a batch is refused in one line (exit {rc}: {e.strip()})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
