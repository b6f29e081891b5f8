#!/usr/bin/env python3
"""A recurrent VAE over text through the CLI (suite 'train'):

  test_text.py VKVAE

A small rvae (a GRU encoder, a GRU decoder with word dropout and z at
every step) written as a user's spec, on a word list the test writes
(accented letters among them, a word longer than the model's steps):
- one epoch on lavapipe and on the CPU backend: the rec and kl columns
  agree within 1e-3; the load line names the counts; samples.txt holds
  --samples lines of the vocabulary's characters;
- vkvae sample prints lines of text, the same on both backends, at
  temperature 1 and 0 (greedy), and -o writes them; reconstruct (input ->
  output) and interpolate (of two items, or of --from-text and --to-text)
  print greedy decodings alike on both backends; traverse refuses text;
- vkvae eval prints the negative ELBO per sequence and per token alike on
  both backends, the tokens counted as the test lines' characters and
  <eos>s; --iwae K its IWAE estimate alike on both, below the bound at
  K = 30 and within 0.05 of it at K = 1;
- --resume reads the text with the checkpoint's vocabulary, whatever the
  file holds now;
- words as tokens (--tokens words) train;
- free bits (kl z free 0.25) train alike on both backends, training's kl
  at least 0.25 a latent dim, eval's the whole KL;
- bad text and flags fail in one line naming the file and line.
"""
import os
import sys
import tempfile

from cli_test import check, close, failures, run, train_both

SPEC = """model text_tiny
input 12 vocab 20
noise 4
network enc
  embed 8
  gru 16 last
  gaussian 4
network dec
  shift dropout 0.25
  embed 8
  concat input2
  gru 16
  dense 20
graph
  z = enc x
  logits = dec x z
  x_gen = dec x noise
loss
  rec = categorical logits x
  kl = kl z
update enc dec minimise rec + kl
train adam lr 3e-3 batch 16 epochs 1 seed 5 anneal logistic 0.5 4
"""

LETTERS = "abcdeilmnorstuéü"


def words(n):
    """n made-up words of the letters above, deterministic; one longer than
    the model's 11 tokens."""
    out, state = [], 12345

    def draw(k):  # an LCG's high bits (its low bits repeat quickly)
        nonlocal state
        state = (state * 1103515245 + 12345) % (1 << 31)
        return (state >> 16) % k
    for _ in range(n):
        out.append("".join(LETTERS[draw(len(LETTERS))] for _ in range(2 + draw(8))))
    out.append("incomprehensibilities")
    return out


def last_number(line, before):
    parts = line.split()
    return float(parts[parts.index(before) - 1])


def text_model(vkvae, tmp):
    spec = f"{tmp}/text_tiny.vae"
    with open(spec, "w") as f:
        f.write(SPEC)
    data = f"{tmp}/words.txt"
    with open(data, "w", encoding="utf-8") as f:
        f.write("\n".join(words(400)) + "\n")
    loads = []
    metrics = train_both(vkvae, [spec, "--data", data, "--samples", "6"], f"{tmp}/run",
                         ("train_rec", "train_kl", "test_rec", "test_kl"), "text_tiny trains",
                         lambda so, out: os.path.exists(f"{out}/samples.txt"))
    if not metrics:
        return
    rc, so, e = run(vkvae, "train", spec, "--data", data, "--device", "cpu", "--epochs", "1",
                    "--samples", "0", "--out", f"{tmp}/again", "--seed", "5")
    load = [l for l in e.splitlines() if "lines as chars" in l]
    check(rc == 0 and load and "401 lines" in load[0] and "1 lines past 11 tokens cut" in load[0],
          f"the load line counts the lines and the cut one ({load})")
    for device in ("0", "cpu"):
        with open(f"{tmp}/run-{device}/samples.txt", encoding="utf-8") as f:
            lines = f.read().split("\n")
        check(len(lines) == 7 and lines[-1] == "" and
              all(set(l) <= set(LETTERS + "<unk>") for l in lines[:-1]),
              f"samples.txt on device {device}: 6 lines of the words' letters ({lines})")
    ckpt = f"{tmp}/run-cpu/checkpoint.safetensors"

    for temperature in ("1", "0"):
        outs = []
        for device in ("0", "cpu"):
            rc, so, e = run(vkvae, "sample", ckpt, "-n", "5", "--temperature", temperature,
                            "--device", device)
            outs.append(so if rc == 0 else None)
            check(rc == 0 and len(so.split("\n")) == 6,
                  f"vkvae sample --temperature {temperature} prints 5 lines on device {device} "
                  f"(exit {rc}: {e.strip()[-200:]})")
        check(outs[0] is not None and outs[0] == outs[1],
              f"the samples at temperature {temperature} are the same on both backends "
              f"({outs})")
    rc, so, e = run(vkvae, "sample", ckpt, "-n", "3", "-o", f"{tmp}/s.txt", "--device", "cpu")
    check(rc == 0 and so == "" and open(f"{tmp}/s.txt", encoding="utf-8").read().count("\n") == 3,
          f"vkvae sample -o writes the lines to the file (exit {rc})")
    rc, _, e = run(vkvae, "sample", ckpt, "--temperature", "-1", "--device", "cpu")
    check(rc != 0 and len(e.strip().splitlines()) == 1,
          f"a negative --temperature is refused in one line ({e.strip()})")

    cases = [(["reconstruct", ckpt, "--data", data, "-n", "3"], 3, " -> ", "reconstruct"),
             (["interpolate", ckpt, "--from-text", "lime", "--to-text", "subordinate",
               "--steps", "5"], 5, "", "interpolate --from-text --to-text"),
             (["interpolate", ckpt, "--data", data, "--from", "0", "--to", "2", "--steps", "4"],
              4, "", "interpolate --from --to")]
    for args, lines, sep, what in cases:
        outs = []
        for device in ("0", "cpu"):
            # (drawn at temperature 1: the tiny model's greedy words are mostly empty)
            rc, so, e = run(vkvae, *args, "--temperature", "1", "--device", device)
            outs.append(so if rc == 0 else None)
            check(rc == 0 and so.count("\n") == lines and all(sep in l for l in so.splitlines()),
                  f"vkvae {what} prints {lines} lines on device {device} (exit {rc}: "
                  f"{so[-200:]} {e.strip()[-200:]})")
        check(outs[0] is not None and outs[0] == outs[1] and
              any(l.split(" -> ")[-1] for l in outs[0].splitlines()),
              f"vkvae {what}: the same words on both backends ({outs})")
    rc, _, e = run(vkvae, "traverse", ckpt, "--item", "0", "-o", f"{tmp}/t.png", "--device", "cpu")
    check(rc != 0 and len(e.strip().splitlines()) == 1 and "reads text" in e,
          f"traverse refuses a text model in one line ({e.strip()})")

    evals = []
    for device in ("0", "cpu"):
        rc, so, e = run(vkvae, "eval", ckpt, "--data", data, "--device", device)
        line = [l for l in so.splitlines() if l.startswith("negative ELBO")]
        ok = rc == 0 and line and "nats/token" in line[0]
        check(ok, f"vkvae eval prints the bound per sequence and per token on device {device} "
              f"(exit {rc}: {e.strip()[-200:]})")
        if ok:
            evals.append((last_number(line[0], "nats/sequence,"),
                          last_number(line[0], "nats/token")))
    if len(evals) == 2:
        check(close(evals[0][0], evals[1][0]) and close(evals[0][1], evals[1][1]),
              f"the bound agrees on both backends ({evals})")
    # the IWAE estimate (a row an item, k runs): the same draws on both
    # backends; below the negative ELBO with 30 samples, near it with 1
    iwae = {}
    for device, k in (("0", "30"), ("cpu", "30"), ("cpu", "1")):
        rc, so, e = run(vkvae, "eval", ckpt, "--data", data, "--device", device, "--iwae", k)
        line = [l for l in so.splitlines() if l.startswith("IWAE") and "nats/sequence" in l]
        per_token = [l for l in so.splitlines() if l.startswith("IWAE") and "nats/token" in l]
        ok = rc == 0 and line and per_token and f"K={k}," in line[0]
        check(ok, f"vkvae eval --iwae {k} prints the estimate per sequence and per token on "
                  f"device {device} (exit {rc}: {e.strip()[-200:]})")
        if ok:
            iwae[device, k] = last_number(line[0], "nats/sequence")
    if len(iwae) == 3 and len(evals) == 2:
        check(close(iwae["0", "30"], iwae["cpu", "30"]),
              f"the IWAE estimate agrees on both backends ({iwae})")
        check(iwae["cpu", "30"] < evals[1][0] and abs(iwae["cpu", "1"] - evals[1][0]) < 0.05,
              f"IWAE K=30 below the negative ELBO, K=1 near it ({iwae}, {evals[1][0]})")

    # the vocabulary is the checkpoint's: a file with a new letter reads it as <unk>
    changed = f"{tmp}/changed.txt"
    with open(changed, "w", encoding="utf-8") as f:
        f.write("\n".join(["zzz" + w for w in words(400)]) + "\n")
    rc, so, e = run(vkvae, "train", spec, "--data", changed, "--device", "cpu", "--epochs", "2",
                    "--resume", ckpt, "--out", f"{tmp}/run-cpu", "--samples", "0")
    load = [l for l in e.splitlines() if "lines as chars" in l]
    unknown = int(load[0].split("(")[1].split()[0]) if load else 0
    rows = [l for l in open(f"{tmp}/run-cpu/metrics.csv")]
    check(rc == 0 and load and "a vocabulary of 20" in load[0] and unknown >= 1200 and
          len(rows) == 3,
          f"--resume reads a changed file with the checkpoint's vocabulary: its new letter "
          f"is <unk> ({load}, exit {rc}: {e.strip()[-200:]})")


def word_tokens(vkvae, tmp):
    spec = f"{tmp}/text_words.vae"
    with open(spec, "w") as f:
        f.write(SPEC.replace("text_tiny", "text_words").replace("input 12", "input 6"))
    data = f"{tmp}/sentences.txt"
    ws = words(60)
    with open(data, "w", encoding="utf-8") as f:
        for i in range(300):
            f.write(" ".join(ws[(i * 7 + k) % 23] for k in range(2 + i % 4)) + "\n")
    rc, so, e = run(vkvae, "train", spec, "--data", data, "--tokens", "words", "--device", "cpu",
                    "--out", f"{tmp}/words", "--samples", "4")
    load = [l for l in e.splitlines() if "lines as words" in l]
    lines = open(f"{tmp}/words/samples.txt", encoding="utf-8").read().split("\n") if rc == 0 else []
    check(rc == 0 and load and "a vocabulary of 20" in load[0] and len(lines) == 5 and
          all(w in ws[:23] or w == "<unk>" for l in lines for w in l.split()),
          f"--tokens words trains on words and samples them ({load}, {lines}, exit {rc}: "
          f"{e.strip()[-200:]})")


def free_bits(vkvae, tmp):
    """kl z free 0.25 over 4 latent dims: a dim whose batch mean is under
    0.25 counts 0.25, so training's kl column is at least 1 a row; the
    same on both backends; eval measures the whole KL."""
    spec = f"{tmp}/text_free.vae"
    with open(spec, "w") as f:
        f.write(SPEC.replace("text_tiny", "text_free").replace("kl = kl z", "kl = kl z free 0.25"))
    data = f"{tmp}/words.txt"
    rc, so, e = run(vkvae, "check", spec, "--explain")
    check(rc == 0 and "kl = kl z free 0.25" in so, f"check --explain shows the free bits ({rc})")
    metrics = train_both(vkvae, [spec, "--data", data, "--samples", "0"], f"{tmp}/free",
                         ("train_rec", "train_kl", "test_rec", "test_kl"), "free bits train")
    if not metrics:
        return
    kl = float(metrics["cpu"]["train_kl"])
    check(kl >= 1 - 1e-5, f"training's kl under free bits is at least 4 x 0.25 a row ({kl})")
    ckpt = f"{tmp}/free-cpu/checkpoint.safetensors"
    rc, so, e = run(vkvae, "eval", ckpt, "--data", data, "--device", "cpu")
    kl_eval = [l for l in so.splitlines() if l.strip().startswith("kl")]
    check(rc == 0 and kl_eval and abs(last_number(kl_eval[0], "nats/sequence") -
                                       float(metrics["cpu"]["test_kl"])) < 1e-3,
          f"eval's kl is the test pass's whole KL ({kl_eval}, {metrics['cpu']['test_kl']})")


def refusals(vkvae, tmp):
    spec = f"{tmp}/text_tiny.vae"
    bad = f"{tmp}/bad.txt"
    with open(bad, "wb") as f:
        f.write(b"good\nbetter\nba\xffd\n")
    empty = f"{tmp}/empty.txt"
    open(empty, "w").close()
    long = f"{tmp}/long.txt"
    with open(long, "w") as f:
        f.write("\n".join(words(50)) + "\n")
    cases = [
        ([spec, "--data", bad], "bad.txt:3", "invalid UTF-8 names the file and line"),
        ([spec, "--data", empty], "empty.txt", "an empty file is refused"),
        ([spec, "--data", long, "--long", "refuse"], "long.txt:51",
         "--long refuse names the long line"),
        ([spec, "--data", long, "--long", "trim"], "--long", "an unknown --long is refused"),
        ([spec, "--data", long, "--tokens", "bytes"], "--tokens", "an unknown --tokens is refused"),
        ([spec, "--data", f"{tmp}/none.txt"], "none.txt", "a missing file is refused"),
    ]
    for args, want, what in cases:
        out = f"{tmp}/refused"
        rc, so, e = run(vkvae, "train", *args, "--device", "cpu", "--out", out, "--overwrite")
        lines = e.strip().splitlines()
        check(rc != 0 and len(lines) == 1 and want in lines[0] and
              not os.path.exists(f"{out}/checkpoint.safetensors"),
              f"{what} in one line (exit {rc}: {e.strip()[-300:]})")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        text_model(sys.argv[1], tmp)
        word_tokens(sys.argv[1], tmp)
        free_bits(sys.argv[1], tmp)
        refusals(sys.argv[1], tmp)


main()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
