#!/usr/bin/env python3
"""Crash safety of vkvae train: SIGKILL at random moments never leaves a
torn checkpoint, and --resume carries on from whatever is there.

Each trial starts `vkvae train` (resuming from the folder's checkpoint
once there is one) on a tiny CPU workload and kills it with SIGKILL:
odd trials at a uniformly random moment of start-up and the first two
epochs, even ones up to half an epoch after the run printed an epoch's
line, which train does just before it appends to metrics.csv and writes
the checkpoint (runtime/io/atomic.c: temporary file, fsync, rename). A
temporary file left behind proves the kill landed inside a checkpoint
write. After every kill:

- the checkpoint parses whole (its JSON header, and tensor data ending
  exactly at the file's end) and `vkvae sample` loads it strictly;
- it is the old one or the new one: its epoch is the previous trial's, or
  when the run printed epoch lines, the last one printed or the one before
  (whose save the kill interrupted) - never older, never torn;
- a resumed run's first epoch is the checkpoint's next.

At least 50 trials run, and more (up to 400, for at most 75 s) until 10
kills have landed inside checkpoint writes. Finally a resumed run trains
two more epochs to the end, leaves no temporary files (train removes
those of killed runs), and draws curve.png from the crash-ridden
metrics.csv.

  test_train_crash.py VKVAE
"""
import gzip
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

# A sanitizer build lands about 6% of its trials inside a write (9 in 150,
# one clean CI run): the bounds leave room for twice that many trials.
MIN_TRIALS, MAX_TRIALS, MIN_MID_WRITE = 50, 400, 10
EXTRA_TRIALS_UNTIL_S = 75  # trials beyond MIN_TRIALS start only before this
RUN_EPOCHS = 30  # far more than a trial lives, yet a run that escapes a kill ends
failures = []


def check(cond, what):
    if not cond:
        print("FAIL  " + what)
        failures.append(what)
    return cond


def write_idx(path, dims, data):
    kind = 0x0803 if len(dims) == 3 else 0x0801
    header = struct.pack(">I", kind) + b"".join(struct.pack(">I", d) for d in dims)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + bytes(data))


def make_set(folder, n=128, n_test=64):
    os.makedirs(folder)
    rng = random.Random(3)
    for prefix, count in (("train", n), ("t10k", n_test)):
        write_idx(f"{folder}/{prefix}-images-idx3-ubyte.gz", (count, 28, 28),
                  [rng.randrange(256) for _ in range(count * 784)])
        write_idx(f"{folder}/{prefix}-labels-idx1-ubyte.gz", (count,),
                  [rng.randrange(10) for _ in range(count)])


def checkpoint_epoch(path):
    """The epoch of a whole safetensors checkpoint, or None if torn."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        return None
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        return None
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        return None
    end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end != len(data):
        return None
    return int(header["__metadata__"]["epoch"])


class Run:
    """vkvae train in the background; stdout's epoch lines with their times."""

    def __init__(self, cmd, log):
        self.epochs, self.cond = [], threading.Condition()
        self.log = open(log, "wb")
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log)
        self.reader = threading.Thread(target=self._read)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith(b"epoch "):
                with self.cond:
                    self.epochs.append((time.monotonic(), int(line.split()[1].rstrip(b":"))))
                    self.cond.notify()

    def wait_epochs(self, k, timeout=20.0):
        with self.cond:
            self.cond.wait_for(lambda: len(self.epochs) >= k, timeout)
            return len(self.epochs) >= k

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        rc = self.proc.wait()
        self.reader.join()
        self.log.close()
        return rc


def train_cmd(vkvae, data, out, epochs, resume):
    cmd = [vkvae, "train", "vae_mlp", "--device", "cpu", "--data", data, "--out", out,
           "--epochs", str(epochs), "--limit", "128", "--test-limit", "64", "--samples", "0"]
    return cmd + (["--resume", f"{out}/checkpoint.safetensors"] if resume else [])


def temporaries(out):
    return sorted(n for n in os.listdir(out) if ".tmp-" in n)


def main():
    vkvae = sys.argv[1]
    rng = random.Random(20261123)
    with tempfile.TemporaryDirectory(prefix="vkvae-crash-") as t:
        data, out, ckpt = f"{t}/data", f"{t}/run", f"{t}/run/checkpoint.safetensors"
        make_set(data)
        began = time.monotonic()

        # Calibration, also the first trial: a fresh run killed after its
        # third epoch line gives the start-up time and the epoch period.
        run = Run(train_cmd(vkvae, data, out, RUN_EPOCHS, False), f"{t}/calibrate.log")
        check(run.wait_epochs(3), "the first run prints three epochs")
        rc = run.kill()
        if len(run.epochs) < 3 or not check(rc == -signal.SIGKILL, f"killed (exit {rc})"):
            print(open(f"{t}/calibrate.log").read())
            return 1
        period = (run.epochs[2][0] - run.epochs[0][0]) / 2
        startup = max(run.epochs[0][0] - run.start - period, 0.0)
        print(f"start-up {startup * 1e3:.0f} ms, epoch period {period * 1e3:.0f} ms")
        prev = checkpoint_epoch(ckpt) if os.path.exists(ckpt) else None
        check(prev in (2, 3), f"the first run's checkpoint is whole, of epoch 2 or 3 ({prev})")
        if prev is None:
            return 1

        trials = mid_write = 0
        verified = None
        while trials < MIN_TRIALS or (mid_write < MIN_MID_WRITE and trials < MAX_TRIALS and
                                      time.monotonic() - began < EXTRA_TRIALS_UNTIL_S):
            trials += 1
            resume = os.path.exists(ckpt)
            run = Run(train_cmd(vkvae, data, out, prev + RUN_EPOCHS, resume), f"{t}/trial.log")
            if trials % 2:  # anywhere: start-up, training, evaluation, saving
                time.sleep(rng.uniform(0, startup + 2 * period))
                how = "uniform"
            else:  # inside the save that follows an epoch line, often
                check(run.wait_epochs(1), f"trial {trials}: the run prints an epoch")
                time.sleep(rng.uniform(0, period / 2))
                how = "after an epoch line"
            rc = run.kill()
            log = open(f"{t}/trial.log").read()
            if not check(rc == -signal.SIGKILL, f"trial {trials}: train ran until killed "
                         f"(exit {rc}): {log.strip()[-300:]}"):
                break
            left = temporaries(out)
            mid_write += any(n.startswith("checkpoint.safetensors.tmp-") for n in left)
            printed = [e for _, e in run.epochs]
            if printed:
                check(printed[0] == prev + 1, f"trial {trials}: the run continues at epoch "
                      f"{prev + 1} (printed {printed[0]})")
            if not os.path.exists(ckpt):
                check(prev == 0, f"trial {trials}: the checkpoint of epoch {prev} is gone")
                continue
            # An unchanged file (same inode and time) was verified already.
            st = os.stat(ckpt)
            identity = (st.st_ino, st.st_mtime_ns, st.st_size)
            if identity == verified:
                check(printed == [] or prev in (printed[-1] - 1, printed[-1]),
                      f"trial {trials}: the checkpoint of epoch {prev} is the newest")
                continue
            epoch = checkpoint_epoch(ckpt)
            allowed = {prev} if not printed else {printed[-1] - 1, printed[-1]}
            check(epoch in allowed, f"trial {trials} ({how}): the checkpoint is whole and of "
                  f"epoch {sorted(allowed)} (epoch {epoch}; None: torn)")
            p = subprocess.run([vkvae, "sample", ckpt, "-n", "1", "--device", "cpu",
                                "-o", f"{t}/sample.png"], capture_output=True, text=True)
            check(p.returncode == 0, f"trial {trials}: vkvae sample loads the checkpoint "
                  f"(exit {p.returncode}: {p.stderr.strip()})")
            prev, verified = (epoch, identity) if epoch is not None else (prev, verified)
            if failures:
                break
        print(f"{trials} trials, {mid_write} killed inside a checkpoint write, "
              f"checkpoint at epoch {prev}, {time.monotonic() - began:.1f} s")
        check(trials >= MIN_TRIALS, f"at least {MIN_TRIALS} trials ({trials})")
        check(mid_write >= MIN_MID_WRITE,
              f"at least {MIN_MID_WRITE} kills inside a checkpoint write ({mid_write})")

        stale = temporaries(out)
        p = subprocess.run(train_cmd(vkvae, data, out, prev + 2, True), capture_output=True,
                           text=True)
        check(p.returncode == 0, f"--resume after the kills trains to the end "
              f"(exit {p.returncode}: {p.stderr.strip()[-300:]})")
        lines = [l.split()[1] for l in p.stdout.splitlines() if l.startswith("epoch ")]
        check(lines == [f"{prev + 1}:", f"{prev + 2}:"],
              f"it trains epochs {prev + 1} and {prev + 2} ({lines})")
        check(checkpoint_epoch(ckpt) == prev + 2, "its checkpoint is whole, of the last epoch")
        check(not temporaries(out), f"no temporary files remain (before: {stale}, after: "
              f"{temporaries(out)})")
        check(os.path.exists(f"{out}/curve.png"), "curve.png drawn from the resumed metrics.csv")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
