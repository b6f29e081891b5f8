#!/usr/bin/env python3
"""Ctrl-C during training (suite 'train'):

  test_train_stop.py VKVAE

vae_mlp trains 2 epochs on 6,000 Fashion-MNIST images, unbroken, on the CPU
backend and on the Vulkan device (lavapipe here). The same run gets SIGINT (and once SIGTERM) part way
through an epoch: it exits 130 after saving the checkpoint of the last
complete step (metadata epoch_step), the samples and the curve, and says
where they are in its last line. Resumed with --resume, it finishes with
weights identical, byte for byte, to the unbroken run's: the stop changed
nothing. A signal that lands before or after training is retried later.
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

from cli_test import check, failures


def tensors_and_meta(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}, meta


def main():
    vkvae = sys.argv[1]
    common = ["vae_mlp", "--epochs", "2", "--limit", "6000", "--test-limit", "500",
              "--samples", "4"]
    with tempfile.TemporaryDirectory(prefix="vkvae-stop-") as tmp:
        for device, sig in (("cpu", signal.SIGINT), ("vulkan", signal.SIGINT),
                            ("cpu", signal.SIGTERM)):
            name = f"{device}-{sig.name}"
            ref = f"{tmp}/{name}-ref"
            t0 = time.monotonic()
            p = subprocess.run([vkvae, "train", *common, "--device", device, "--out", ref],
                               capture_output=True, text=True)
            whole = time.monotonic() - t0
            check(p.returncode == 0, f"{name}: the unbroken run (exit {p.returncode})")
            if p.returncode:
                continue
            # Stop a second run part way. Start-up (pipelines, validation, a
            # sanitizer build) and the epochs take different shares of the run
            # on each machine, so the delays are fractions of the unbroken
            # run's own time, early to late, until one lands inside an epoch.
            stopped = None
            for delay in (whole * f / 20 for f in range(2, 20)):
                out = f"{tmp}/{name}-{delay:.2f}"
                q = subprocess.Popen([vkvae, "train", *common, "--device", device, "--out", out],
                                     stderr=subprocess.PIPE, text=True)
                time.sleep(delay)
                q.send_signal(sig)
                _, err = q.communicate()
                ckpt = f"{out}/checkpoint.safetensors"
                if q.returncode == 130 and os.path.exists(ckpt):
                    meta = tensors_and_meta(ckpt)[1]
                    if int(meta.get("epoch_step", "0")) > 0:
                        stopped = (out, err, meta)
                        break
            check(stopped is not None, f"{name}: a signal landed part way through an epoch")
            if not stopped:
                continue
            out, err, meta = stopped
            last = err.strip().splitlines()[-1]
            check(f"stopped by {sig.name} at step {meta['epoch_step']} of epoch "
                  f"{int(meta['epoch']) + 1}" in last and "--resume" in last
                  and os.path.exists(f"{out}/samples.png"),
                  f"{name}: exit 130, saved at step {meta['epoch_step']} of epoch "
                  f"{int(meta['epoch']) + 1}, samples written, said so: {last!r}")
            p = subprocess.run([vkvae, "train", *common, "--device", device, "--out", out,
                                "--resume", f"{out}/checkpoint.safetensors"],
                               capture_output=True, text=True)
            a, ma = tensors_and_meta(f"{ref}/checkpoint.safetensors")
            b, mb = tensors_and_meta(f"{out}/checkpoint.safetensors")
            same = p.returncode == 0 and a.keys() == b.keys() and all(a[k] == b[k] for k in a)
            check(same and ma["step"] == mb["step"] and "epoch_step" not in mb,
                  f"{name}: resumed, it ends with the unbroken run's weights (exit "
                  f"{p.returncode}, steps {ma['step']} / {mb.get('step')})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
