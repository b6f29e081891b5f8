#!/usr/bin/env python3
"""Data-parallel training over MPI (suite 'train'; built only where Meson
found MPI and mpirun):

  test_mpi.py VKVAE

- `mpirun -np 1` equals a run without mpirun byte for byte (the train
  program run in parts, cut at its optimizer step, changes nothing).
- 2 ranks equal one process at the same global batch: vae_mlp on the CPU
  backend (a last batch of one row: rank 0 has it, rank 1 none) and on
  lavapipe with the validation layer, and an MLP GAN of two updates a
  step: every metrics.csv figure within 1e-5 relative, every tensor of
  the checkpoint within 1e-5 in norm (same_run says why).
- Resume across group sizes: one epoch on 2 ranks resumed for a second
  on 1 equals two epochs on 1, and the reverse.
- Refusals in one line: ranks with different data (mpirun's MPMD form);
  a codebook moved by moving averages.
- Ctrl-C on mpirun stops both ranks at the same step: one message (rank
  0's), and the checkpoint resumes.
- kill -9 of a rank mid-epoch ends the job within 60 s with mpirun's
  message, and the last checkpoint loads (vkvae eval).
"""
import math
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

from cli_test import check, close, failures, read_safetensors, run

MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none"]
# Open MPI refuses root without these; CI's containers run as root.
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")

GAN_MLP = """model gan_mlp
input 1x28x28 range 0..1
noise 16
network gen
  dense 64 relu
  dense 784 sigmoid
  reshape 1x28x28
network dis
  flatten
  dense 64 leaky_relu 0.2
  dense 1
graph
  fake = gen noise
  d_real = dis x
  d_fake = dis fake
loss
  d_loss = bce d_real real + bce d_fake fake
  g_loss = bce d_fake real
update dis minimise d_loss
update gen minimise g_loss
train adam lr 2e-4 betas 0.5 0.999 batch 32 epochs 2 seed 3
"""


def train(vkvae, out, ranks, *args):
    """vkvae train, on `ranks` ranks under mpirun (0: without mpirun)."""
    cmd = [vkvae, "train", *args, "--out", out, "--samples", "0"]
    if ranks:
        cmd = MPIRUN + ["-np", str(ranks)] + cmd
    return run(*cmd)


def metrics(out):
    with open(f"{out}/metrics.csv") as f:
        lines = f.read().split()
    head = lines[0].split(",")
    skip = {"seconds", "images_per_s"}
    return [{k: float(v) for k, v in zip(head, line.split(",")) if k not in skip}
            for line in lines[1:]]


def weights(out):
    _, tensors = read_safetensors(f"{out}/checkpoint.safetensors")
    return {name: struct.unpack(f"<{len(data) // 4}f", data)
            for name, (dtype, _, data) in tensors.items() if dtype == "F32"}


def same_run(a, b, what, rel=1e-5):
    """Each metrics.csv figure within rel, and each tensor of the checkpoint
    (weights and Adam's moments) within rel in the L2 norm of the
    difference over the tensor's own. Not element by element: Adam divides
    by the root of the second moment, so an element whose gradient is near
    zero, summed in another order, moves by a visible part of lr (vae_mlp's
    worst weight ends 5.6e-5 of its tensor's largest apart in the resume
    case, while the tensor is 1e-7 apart in norm)."""
    ma, mb = metrics(a), metrics(b)
    worst = max((abs(x[k] - y[k]) / max(abs(x[k]), abs(y[k]), 1e-12)
                 for x, y in zip(ma, mb) for k in x), default=1.0)
    wa, wb = weights(a), weights(b)
    apart = {n: math.sqrt(sum((p - q) ** 2 for p, q in zip(wa[n], wb.get(n, ()))) /
                          max(sum(p * p for p in wa[n]), 1e-30)) for n in wa}
    far = max(apart.values(), default=1.0)
    check(len(ma) == len(mb) and ma and worst <= rel and far <= rel and set(wa) == set(wb),
          f"{what}: metrics agree within {worst:.1e}, the checkpoint's tensors within "
          f"{far:.1e} in norm ({max(apart, key=apart.get) if apart else '-'}; bound {rel:g})")


def equal_runs(vkvae, tmp):
    base = ["vae_mlp", "--device", "cpu", "--limit", "513", "--test-limit", "200",
            "--batch", "64", "--epochs", "2"]
    rc0, _, e0 = train(vkvae, f"{tmp}/alone", 0, *base)
    rc1, _, e1 = train(vkvae, f"{tmp}/np1", 1, *base)
    same = rc0 == 0 and rc1 == 0 and open(f"{tmp}/alone/checkpoint.safetensors", "rb").read() \
        == open(f"{tmp}/np1/checkpoint.safetensors", "rb").read()
    check(same, f"mpirun -np 1 writes the checkpoint of a run alone byte for byte "
          f"(exit {rc0}, {rc1}: {(e0 + e1).strip()[-300:]})")
    rc, so, e = train(vkvae, f"{tmp}/np2", 2, *base)
    check(rc == 0 and so.count("epoch 2:") == 1 and "rank 1 of 2" in e,
          f"2 ranks train; rank 0 alone prints the epochs (exit {rc}: {e.strip()[-300:]})")
    if rc == 0:
        same_run(f"{tmp}/alone", f"{tmp}/np2", "vae_mlp, CPU backend, 2 ranks = 1 process "
                 "(last batch of one row)")

    env_dev = ["--device", os.environ.get("VKVAE_DEVICE", "vulkan")]
    gpu = ["vae_mlp", *env_dev, "--limit", "256", "--test-limit", "128", "--batch", "64",
           "--epochs", "2"]
    rc0, _, e0 = train(vkvae, f"{tmp}/gpu1", 0, *gpu)
    rc2, _, e2 = train(vkvae, f"{tmp}/gpu2", 2, *gpu)
    check(rc0 == 0 and rc2 == 0, f"vae_mlp on {env_dev[1]} with the validation layer, alone and "
          f"on 2 ranks (exit {rc0}, {rc2}: {(e0 + e2).strip()[-300:]})")
    if rc0 == 0 and rc2 == 0:
        same_run(f"{tmp}/gpu1", f"{tmp}/gpu2", f"vae_mlp on {env_dev[1]}, 2 ranks = 1 process")

    spec = f"{tmp}/gan_mlp.vae"
    with open(spec, "w") as f:
        f.write(GAN_MLP)
    gan = [spec, "--device", "cpu", "--limit", "200", "--test-limit", "64"]
    rc0, _, e0 = train(vkvae, f"{tmp}/gan1", 0, *gan)
    rc2, _, e2 = train(vkvae, f"{tmp}/gan2", 2, *gan)
    check(rc0 == 0 and rc2 == 0, f"an MLP GAN (two updates a step) alone and on 2 ranks "
          f"(exit {rc0}, {rc2}: {(e0 + e2).strip()[-300:]})")
    if rc0 == 0 and rc2 == 0:
        same_run(f"{tmp}/gan1", f"{tmp}/gan2", "the MLP GAN, 2 ranks = 1 process")


def resume_across(vkvae, tmp):
    base = ["vae_mlp", "--device", "cpu", "--limit", "384", "--test-limit", "128",
            "--batch", "64"]
    rc, _, e = train(vkvae, f"{tmp}/two", 0, *base, "--epochs", "2")
    for first, second in ((2, 0), (0, 2)):
        out = f"{tmp}/resume_{first}_{second}"
        rc1, _, e1 = train(vkvae, out, first, *base, "--epochs", "1")
        rc2, _, e2 = train(vkvae, out, second, *base, "--epochs", "2", "--resume",
                           f"{out}/checkpoint.safetensors")
        ok = rc == 0 and rc1 == 0 and rc2 == 0
        check(ok, f"one epoch on {first or 1} rank(s), resumed on {second or 1} "
              f"(exit {rc}, {rc1}, {rc2}: {(e + e1 + e2).strip()[-300:]})")
        if ok:
            same_run(f"{tmp}/two", out, f"1 epoch on {first or 1} + 1 on {second or 1} = "
                     "2 epochs in one process")


def refusals(vkvae, tmp):
    common = ["train", "vae_mlp", "--device", "cpu", "--batch", "64", "--epochs", "1",
              "--samples", "0", "--out", f"{tmp}/mixed"]
    rc, so, e = run(*MPIRUN, "-np", "1", vkvae, *common, "--limit", "256", ":",
                    "-np", "1", vkvae, *common, "--limit", "128")
    check(rc != 0 and "differ in their model, data set, flags or vkvae version" in e
          and not os.path.exists(f"{tmp}/mixed/checkpoint.safetensors"),
          f"ranks with different data are refused before training (exit {rc}: "
          f"{e.strip()[-300:]})")

    root = os.environ.get("VKVAE_SOURCE_ROOT", f"{os.path.dirname(__file__)}/../..")
    with open(f"{root}/models/vqvae_conv.vae") as f:
        text = f.read()
    spec = f"{tmp}/vq_ema.vae"
    with open(spec, "w") as f:
        f.write(text.replace("codebook 128 beta 0.25", "codebook 128 beta 0.25 ema 0.99"))
    rc, so, e = train(vkvae, f"{tmp}/vq_ema", 2, spec, "--device", "cpu", "--limit", "128",
                      "--epochs", "1")
    check(rc != 0 and "does not train in a group" in e,
          f"a codebook of moving averages is refused on 2 ranks (exit {rc}: {e.strip()[-300:]})")


def start_long_run(vkvae, out):
    """2 ranks on an epoch of 200 steps, 50 epochs; returns once the first
    checkpoint is written and the job is part way into the next epoch."""
    cmd = MPIRUN + ["-np", "2", vkvae, "train", "vae_mlp", "--device", "cpu", "--limit", "6400",
                    "--test-limit", "64", "--batch", "32", "--epochs", "50", "--samples", "0",
                    "--out", out]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None and \
            not os.path.exists(f"{out}/checkpoint.safetensors"):
        time.sleep(0.2)
    time.sleep(0.3)
    return p


def stop_the_job(vkvae, tmp):
    out = f"{tmp}/stopped"
    p = start_long_run(vkvae, out)
    p.send_signal(signal.SIGINT)  # mpirun passes it on to the ranks as SIGTERM
    try:
        _, e = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, e = p.communicate()
    check(e.count("stopped by") == 1 and "--resume" in e,
          f"Ctrl-C on mpirun stops both ranks at one step, rank 0 saying so once "
          f"({e.count('stopped by')} messages: {e.strip()[-200:]})")
    words = e.split("stopped by")[-1].split()
    epoch = int(words[words.index("epoch") + 1].rstrip(";")) if "epoch" in words else 1
    rc, so, e = run(vkvae, "train", "vae_mlp", "--device", "cpu", "--limit", "6400",
                    "--test-limit", "64", "--batch", "32", "--epochs", str(epoch), "--samples",
                    "0", "--out", out, "--resume", f"{out}/checkpoint.safetensors")
    check(rc == 0 and f"epoch {epoch}:" in so, f"the stopped job's checkpoint resumes in one "
          f"process, finishing epoch {epoch} (exit {rc}: {e.strip()[-200:]})")


def ranks_of(out, launcher):
    """The pids of the vkvae processes writing to out, but the launcher
    (read from /proc: minimal containers lack pgrep)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if entry.isdigit() and int(entry) != launcher and out.encode() in argv and \
                any(a.endswith(b"vkvae") for a in argv[:1]):
            pids.append(int(entry))
    return pids


def kill_a_rank(vkvae, tmp):
    out = f"{tmp}/killed"
    p = start_long_run(vkvae, out)
    ckpt = f"{out}/checkpoint.safetensors"
    ranks = ranks_of(out, p.pid)
    if ranks:
        os.kill(max(ranks), signal.SIGKILL)
    t0 = time.time()
    try:
        _, e = p.communicate(timeout=60)
        ended = time.time() - t0
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, e = p.communicate()
        ended = None
    check(len(ranks) >= 2 and ended is not None and p.returncode != 0 and "signal 9" in e,
          f"kill -9 of a rank ends the job within 60 s with mpirun's message "
          f"({ended if ended is None else round(ended, 1)} s, exit {p.returncode}: "
          f"{e.strip()[-200:]})")
    rc, so, e = run(vkvae, "eval", ckpt, "--device", "cpu", "--limit", "64")
    check(rc == 0 and "nats" in so, f"the last checkpoint loads (vkvae eval exit {rc}: "
          f"{e.strip()[-200:]})")


def main():
    vkvae = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        equal_runs(vkvae, tmp)
        resume_across(vkvae, tmp)
        refusals(vkvae, tmp)
        stop_the_job(vkvae, tmp)
        kill_a_rank(vkvae, tmp)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
