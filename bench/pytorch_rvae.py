#!/usr/bin/python3
"""The PyTorch twin of vkvae's rvae_chars (models/rvae_chars.vae): a
recurrent VAE over words spelled as characters (Bowman et al. 2016), timed
per epoch, with its test negative ELBO, words sampled from the prior, an
interpolation between two words, and a cross-check of vkvae's checkpoint.

The data as vkvae's loader reads it (runtime/io/text.c, cli/text.c): a
UTF-8 file, one sequence a line (default Debian's wamerican word list); a
byte order mark on line 1 and a trailing "\\r" are dropped; lines without a
token are skipped; every Unicode code point is a token. A line goes to the
test set when the FNV-1a 32-bit hash of its bytes (the "\\r" dropped, the
whole line even when it is cut) modulo 100 is below 10. A row is the line's
first 19 tokens, <eos>, then <pad> up to 20 ids. The vocabulary: ids 0
<pad>, 1 <bos>, 2 <eos>, 3 <unk>, then the tokens the training rows store,
by descending count, ties in byte order, cut to 64 ids in all; the others
read as <unk>. The counts are printed as vkvae prints them.

The same layers with vkvae's names (`vkvae-gen models/rvae_chars.vae
--explain`), in the spec's order, PyTorch's default initialisation (which
is vkvae's `init pytorch`; nn.Embedding's is normal(0, 1)). enc, q(z|x):
embed1 = Embedding(64, 32); gru1 = GRU(32, 128) over all 20 steps, padding
included (no packing), from a zero state; mu, logvar = Linear(128, 16) on
its last state; z = mu + exp(logvar / 2) * eps. dec, p(x|z): the inputs
shifted (<bos>, x[0..18]); in training each real token (id > 3) among them
becomes <unk> with probability 0.25 (word dropout); embed1 = Embedding(64,
32); [embedding | z] at every step into gru1 = GRU(48, 128) from a zero
state; fc1 = Linear(128, 64): the logits of each step's token.

Loss per row: the softmax cross-entropy of the logits summed over the steps
whose target is not <pad> (the <eos> counts), plus the KL weight times
KL(q(z|x) || N(0, I)) = 0.5 * sum(mu^2 + exp(logvar) - 1 - logvar); summed
over the batch's rows as vkvae sums. The KL weight follows the spec's
`anneal logistic 0.0025 2500` (Bowman et al.'s schedule): 1 / (1 +
exp(-K (s - X0))) at optimizer step s (0-based), --anneal-logistic K X0
to change it; --anneal-linear E makes it min(1, (e + 1) / E) in epoch e
(0-based), --no-anneal 1 throughout. Adam lr 1e-3, batch 64, 10 epochs, seed 1; every epoch shuffled,
the last batch partial.

The figures: train loss per row (rec + weight * kl, and its parts) and the
epoch's seconds and sequences per second; after training the test set's
negative ELBO (rec + kl, weight 1, one z a row) per sequence and per token
(over the non-<pad> targets, <eos> included); 20 words from the prior (z ~
N(0, I), fed <bos> then each token drawn from softmax(logits /
--temperature), the argmax at 0, up to 20 steps or <eos>); and a greedy
interpolation between the means of --from and --to (default the first two
test lines) at 8 evenly spaced points, both ends included.

--check CKPT: load a checkpoint vkvae wrote for rvae_chars with a strict
load_state_dict (reading the file with the checkpoint's vocabulary when it
holds one, as `vkvae eval` does), print the test figures, samples and the
interpolation. The kl depends on mu and logvar alone; rec reads z with eps
drawn by another generator than vkvae's, so it agrees only within that
draw's noise.

--iwae K: also the test set's IWAE estimate of -log p(x) with K samples a
sequence (as `vkvae eval --iwae K`), after training or with --check.

--grad-check W0 W1 --lr LR --limit N: W0 and W1 are vkvae's checkpoints
around one SGD step of LR on its first N training lines (a spec variant
with `train sgd lr 1e-30 ...` and `lr LR`, one batch); (W0 - W1) / LR is
vkvae's gradient, compared with PyTorch's on the same rows in the same
order with the same eps and word dropout: vkvae's Philox draws,
bench/vkvae_random.py. --replay W0 W1 --epochs E --limit N: vkvae's run
from W0 to W1 (the spec's Adam and schedule) trained again here on those
draws; each tensor's update against the twin's, then the test figures.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_rvae.py --epochs 1
    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_rvae.py --check runs/rvae_chars/checkpoint.safetensors
"""
import argparse
import collections
import json
import math
import os
import re
import struct
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vkvae_random  # noqa: E402
from twin_util import (add_input_options, add_run_options, epoch_speed,  # noqa: E402
                       grad_check_verdict, load_checkpoint, median_summary, read_checkpoint,
                       set_threads_and_seed, worst_relative_error)

WORDS = "/usr/share/dict/american-english"
STEPS, VOCAB, EMBED, HIDDEN, LATENT, BATCH = 20, 64, 32, 128, 16, 64
DROPOUT, TEST_PERCENT = 0.25, 10
PAD, BOS, EOS, UNK = range(4)
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]


def fnv1a32(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def read_lines(path):
    """The file's lines as (tokens, test, text), the counts vkvae prints:
    lines in the file, lines cut."""
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    seqs, cut = [], 0
    for number, line in enumerate(lines, 1):
        line = line[:-1] if line.endswith(b"\r") else line
        if b"\0" in line:
            sys.exit(f"{path}:{number}: a NUL byte (a UTF-16 or binary file?)")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            sys.exit(f"{path}:{number}:{e.start + 1}: invalid UTF-8: {e.reason}")
        if text:
            cut += len(text) > STEPS - 1
            seqs.append((list(text[:STEPS - 1]), fnv1a32(line) % 100 < TEST_PERCENT, text))
    return seqs, len(lines), cut


def build_vocab(seqs):
    """The specials, then the training rows' tokens by descending count, ties
    in byte order, VOCAB ids in all."""
    counts = collections.Counter(t for tokens, test, _ in seqs if not test for t in tokens)
    ranked = sorted(counts, key=lambda t: (-counts[t], t.encode("utf-8")))
    return SPECIALS + ranked[:VOCAB - len(SPECIALS)]


def encode(tokens, ids):
    """A row: the tokens' ids (<unk> when out of the vocabulary), <eos>, <pad>."""
    row = [ids.get(t, UNK) for t in tokens[:STEPS - 1]] + [EOS]
    return row + [PAD] * (STEPS - len(row))


def decode(row, vocab):
    """The text of a row of ids, as vkvae_text_decode: <pad> and <bos>
    skipped, the first <eos> ends it, <unk> reads "<unk>"."""
    out = []
    for k in row:
        if k == EOS:
            break
        if k not in (PAD, BOS):
            out.append(vocab[k] if UNK < k < len(vocab) else "<unk>")
    return "".join(out)


def load_text(path, vocab=None):
    """Train and test rows ([n, STEPS] ids), the vocabulary (built from the
    training rows unless given), the test lines' text and the counts."""
    seqs, lines, cut = read_lines(path)
    vocab = vocab or build_vocab(seqs)
    ids = {t: k for k, t in enumerate(vocab) if k >= len(SPECIALS)}
    parts = {False: [], True: []}
    for tokens, test, _ in seqs:
        parts[test].append(encode(tokens, ids))
    train, test = (torch.tensor(parts[s], dtype=torch.long).view(-1, STEPS) for s in (False, True))
    stored = torch.cat([train, test])
    counts = {"lines": lines, "train": len(train), "test": len(test), "vocab": len(vocab),
              "tokens": int((stored > EOS).sum()), "unknown": int((stored == UNK).sum()),
              "cut": cut}
    line = (f"{path}: {lines} lines as chars: {len(train)} train, {len(test)} test; a vocabulary "
            f"of {len(vocab)} ({counts['unknown']} of {counts['tokens']} tokens <unk>)")
    if cut:
        line += f"; {cut} lines past {STEPS - 1} tokens cut"
    print(line, flush=True)
    return train, test, vocab, [text for _, t, text in seqs if t], counts


def checkpoint_vocab(path):
    """The vocabulary vkvae keeps in a checkpoint's metadata ("vocab"), or
    None."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        text = json.loads(f.read(n)).get("__metadata__", {}).get("vocab")
    if text is None:
        return None
    head, *rest = text.split("\n")
    if head.split()[:3] != ["vkvae-vocab", "1", "chars"]:
        sys.exit(f"{path}: metadata 'vocab' is not a character vocabulary: {head!r}")
    unescape = {"n": "\n", "r": "\r", "\\": "\\"}
    return [re.sub(r"\\(.)", lambda m: unescape[m.group(1)], t)
            for t in rest[:int(head.split()[3])]]


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed1 = nn.Embedding(VOCAB, EMBED)
        self.gru1 = nn.GRU(EMBED, HIDDEN, batch_first=True)
        self.mu = nn.Linear(HIDDEN, LATENT)
        self.logvar = nn.Linear(HIDDEN, LATENT)

    def forward(self, x):
        _, last = self.gru1(self.embed1(x))
        return self.mu(last[0]), self.logvar(last[0])


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed1 = nn.Embedding(VOCAB, EMBED)
        self.gru1 = nn.GRU(EMBED + LATENT, HIDDEN, batch_first=True)
        self.fc1 = nn.Linear(HIDDEN, VOCAB)

    def forward(self, inputs, z, state=None):
        """Logits of each step's token after INPUTS ([n, steps] ids), and the
        GRU's state (to go on a step at a time)."""
        e = self.embed1(inputs)
        e = torch.cat([e, z.unsqueeze(1).expand(-1, e.shape[1], -1)], 2)
        h, state = self.gru1(e, state)
        return self.fc1(h), state


class RVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()
        self.dec = Decoder()


def shifted(x, dropout, draws=None):
    """The decoder's inputs: <bos>, x[0..STEPS-2]; real tokens -> <unk> with
    probability DROPOUT (where DRAWS, uniforms shaped as x, fall under it)."""
    inputs = torch.cat([torch.full_like(x[:, :1], BOS), x[:, :-1]], 1)
    if dropout:
        u = torch.rand(inputs.shape) if draws is None else draws
        inputs = inputs.masked_fill((inputs > UNK) & (u < dropout), UNK)
    return inputs


def losses(model, x, dropout=0.0, eps=None, drop_draws=None, free_bits=0.0):
    """rec and kl, each summed over the rows of x; z's noise EPS and the
    word dropout's uniforms DROP_DRAWS are drawn here unless given. With
    FREE_BITS a latent dimension whose KL summed over the rows is under
    FREE_BITS a row counts that and passes no gradient (`kl z free F`)."""
    mu, logvar = model.enc(x)
    z = mu + (0.5 * logvar).exp() * (torch.randn_like(mu) if eps is None else eps)
    logits, _ = model.dec(shifted(x, dropout, drop_draws), z)
    rec = F.cross_entropy(logits.flatten(0, 1), x.flatten(), ignore_index=PAD, reduction="sum")
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(0)
    if free_bits:
        floor = torch.full_like(kl, free_bits * len(x))
        kl = torch.where(kl < floor, floor, kl)
    return rec, kl.sum()


def evaluate(model, test, batch=1000):
    """Test rec, kl and -ELBO per sequence, and -ELBO per token."""
    model.eval()
    rec = kl = 0.0
    with torch.no_grad():
        for i in range(0, len(test), batch):
            r, k = losses(model, test[i:i + batch])
            rec, kl = rec + r.item(), kl + k.item()
    n, tokens = len(test), int((test != PAD).sum())
    return {"rec": rec / n, "kl": kl / n, "nelbo": (rec + kl) / n,
            "nelbo_per_token": (rec + kl) / tokens, "test_tokens": tokens}


def iwae_estimate(model, test, k, rows=1024):
    """The IWAE estimate of -log p(x) per sequence and per token with K
    samples a sequence: log w = log p(x|z) + log p(z) - log q(z|x) of each
    draw, their log-mean-exp in double (vkvae eval --iwae K)."""
    model.eval()
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(test), max(1, rows // k)):
            x = test[i:i + max(1, rows // k)].repeat_interleave(k, 0)
            mu, logvar = model.enc(x)
            eps = torch.randn_like(mu)
            z = mu + (0.5 * logvar).exp() * eps
            logits, _ = model.dec(shifted(x, 0.0), z)
            nll = F.cross_entropy(logits.flatten(0, 1), x.flatten(), ignore_index=PAD,
                                  reduction="none").view(len(x), -1).sum(1)
            log_pz = (-0.5 * z.pow(2) - half_log_2pi).sum(1)
            log_qz = (-0.5 * eps.pow(2) - 0.5 * logvar - half_log_2pi).sum(1)
            logw = (log_pz - log_qz - nll).double().view(-1, k)
            total -= (torch.logsumexp(logw, 1) - math.log(k)).sum().item()
    tokens = int((test != PAD).sum())
    return {"k": k, "nll": total / len(test), "nll_per_token": total / tokens}


def print_iwae(est):
    print(f"test IWAE -log p(x) {est['nll']:.4f} nats/sequence, {est['nll_per_token']:.4f} "
          f"nats/token (K={est['k']})", flush=True)


def generate(model, z, temperature):
    """[n, STEPS] ids decoded from z a step at a time: <bos> first, then each
    token drawn fed back; the argmax when temperature is 0."""
    model.eval()
    token, state, out = torch.full((len(z), 1), BOS), None, []
    with torch.no_grad():
        for _ in range(STEPS):
            logits, state = model.dec(token, z, state)
            logits = logits[:, -1]
            if temperature == 0:
                token = logits.argmax(1, keepdim=True)
            else:
                token = torch.multinomial(F.softmax(logits / temperature, 1), 1)
            out.append(token)
    return torch.cat(out, 1)


def report_samples(model, vocab, test_text, a):
    """20 words from the prior, and the interpolation; returns both."""
    words = [decode(r, vocab) for r in generate(model, torch.randn(20, LATENT), a.temperature)
             .tolist()]
    print(f"20 words from the prior (temperature {a.temperature:g}): {' '.join(words)}")
    ends = [a.from_word or test_text[0], a.to_word or test_text[1]]
    ids = {t: k for k, t in enumerate(vocab) if k >= len(SPECIALS)}
    model.eval()
    with torch.no_grad():
        mu, _ = model.enc(torch.tensor([encode(list(w), ids) for w in ends]))
    t = torch.linspace(0, 1, 8).unsqueeze(1)
    path = [decode(r, vocab) for r in generate(model, (1 - t) * mu[0] + t * mu[1], 0).tolist()]
    print(f"interpolation {ends[0]!r} -> {ends[1]!r} (greedy): {' | '.join(path)}")
    return words, {"from": ends[0], "to": ends[1], "words": path}


def print_test(ev):
    print(f"test -elbo {ev['nelbo']:.4f} nats/sequence (rec {ev['rec']:.4f}, kl {ev['kl']:.4f}); "
          f"{ev['nelbo_per_token']:.4f} nats/token over {ev['test_tokens']} tokens", flush=True)


def kl_weight(a, epoch, step):
    if a.no_anneal:
        return 1.0
    if a.anneal_linear:
        return min(1.0, (epoch + 1) / a.anneal_linear)
    if a.anneal_logistic:
        k, x0 = a.anneal_logistic
        return 1 / (1 + math.exp(-k * (step - x0)))
    return 1.0


def vkvae_draws(seed, step, n):
    """z's eps and the word dropout's uniforms of n rows as vkvae draws them
    at optimizer step STEP (a batch's row r draws elements from r * width)."""
    eps = vkvae_random.normal(seed, vkvae_random.STREAM_EPS, step,
                              np.arange(n * LATENT, dtype=np.uint64))
    drops = vkvae_random.uniform(seed, vkvae_random.STREAM_WORD_DROPOUT, step,
                                 np.arange(n * STEPS, dtype=np.uint64))
    return torch.from_numpy(eps.reshape(n, LATENT)), torch.from_numpy(drops.reshape(n, STEPS))


def replay(a, train, test):
    """vkvae's training run from W0 to W1 (--epochs over --limit rows, the
    spec's Adam and schedule) done again here with vkvae's shuffles and
    draws: each tensor's update W1 - W0 against the twin's."""
    w0, w1 = read_checkpoint(a.replay[0]), read_checkpoint(a.replay[1])
    model = RVAE()
    model.load_state_dict(w0, strict=True)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    n, step = len(train), 0
    for epoch in range(a.epochs):
        order = vkvae_random.shuffle(n, a.seed, epoch)
        for i in range(0, n, a.batch):
            x = train[order[i:i + a.batch]]
            rec, kl = losses(model, x, a.dropout, *vkvae_draws(a.seed, step, len(x)),
                             free_bits=a.free_bits)
            loss = rec + kl_weight(a, epoch, step) * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        print(f"epoch {epoch + 1}: {step} steps, last rec {rec.item() / len(x):.4f} "
              f"kl {kl.item() / len(x):.4f} nats/sequence")
    worst = worst_relative_error(((name, w1[name] - w0[name], p.detach() - w0[name])
                                  for name, p in model.named_parameters()), "update")
    print(f"worst relative error of the updates {worst:.2e}")
    print_test(evaluate(model, test))
    return 0


def grad_check(a, train):
    """vkvae's one SGD step against PyTorch's gradient at the same weights,
    on the same rows in the same order, with the same noise: vkvae's draws
    (bench/vkvae_random.py) for the shuffle, z's eps and the word dropout,
    at the KL weight of step 0."""
    w0, w1 = read_checkpoint(a.grad_check[0]), read_checkpoint(a.grad_check[1])
    model = RVAE()
    model.load_state_dict(w0, strict=True)
    model.train()
    n = len(train)
    if n > a.batch:
        sys.exit(f"--grad-check: {n} training rows are more than one batch of {a.batch}: "
                 "give --limit (as vkvae's run had)")
    x = train[vkvae_random.shuffle(n, a.seed, 0)]
    weight = kl_weight(a, 0, 0)
    rec, kl = losses(model, x, a.dropout, *vkvae_draws(a.seed, 0, n), free_bits=a.free_bits)
    (rec + weight * kl).backward()
    print(f"{n} rows, kl weight {weight:.6g}, dropout {a.dropout}: rec {rec.item():.4f} "
          f"kl {kl.item():.4f}")
    return grad_check_verdict(worst_relative_error(
        ((name, (w0[name] - w1[name]) / a.lr, p.grad) for name, p in model.named_parameters()),
        "grad"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap, limit=False)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N training lines only")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=BATCH)
    anneal = ap.add_mutually_exclusive_group()
    anneal.add_argument("--anneal-linear", type=int, default=0, metavar="E",
                        help="KL weight min(1, (e+1)/E) in epoch e (0-based)")
    anneal.add_argument("--anneal-logistic", type=float, nargs=2, metavar=("K", "X0"),
                        default=[0.0025, 2500.0],
                        help="KL weight 1/(1+exp(-K(s-X0))) at optimizer step s (default: "
                             "the spec's 0.0025 2500)")
    anneal.add_argument("--no-anneal", action="store_true", help="KL weight 1 throughout")
    ap.add_argument("--dropout", type=float, default=DROPOUT,
                    help="word dropout (default the spec's 0.25)")
    ap.add_argument("--free-bits", type=float, default=0.0, metavar="F",
                    help="free bits in training, F nats a latent dimension (a spec's "
                         "'kl z free F'; default none, as rvae_chars)")
    ap.add_argument("--temperature", type=float, default=1.0, help="sampling; 0: greedy")
    ap.add_argument("--iwae", type=int, default=0, metavar="K",
                    help="also the test set's IWAE estimate of -log p(x) with K samples")
    ap.add_argument("--from", dest="from_word", help="interpolate from this word "
                    "(default the first test line)")
    ap.add_argument("--to", dest="to_word", help="to this one (default the second test line)")
    add_input_options(ap, "evaluate and sample vkvae's rvae_chars checkpoint")
    ap.set_defaults(data=WORDS)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--grad-check", nargs=2, metavar=("W0", "W1"),
                    help="vkvae's checkpoints around one SGD step of --lr (with --limit)")
    ap.add_argument("--replay", nargs=2, metavar=("W0", "W1"),
                    help="vkvae's checkpoints before and after its run of --epochs on --limit "
                         "rows: train the same steps with vkvae's draws and compare")
    a = ap.parse_args()
    set_threads_and_seed(a)
    model = RVAE()
    train, test, vocab, test_text, counts = load_text(
        a.data, checkpoint_vocab(a.check) if a.check else None)
    if a.check:
        load_checkpoint(model, a.check)
        print(f"loaded {a.check} strictly (PyTorch {torch.__version__}); "
              f"{len(test)} test sequences")
        print_test(evaluate(model, test))
        if a.iwae:
            print_iwae(iwae_estimate(model, test, a.iwae))
        report_samples(model, vocab, test_text, a)
        return 0
    if a.limit:
        train = train[:a.limit]
    if a.grad_check:
        return grad_check(a, train)
    if a.replay:
        return replay(a, train, test)
    n = len(train)
    print(f"rvae_chars: {n} training sequences, {len(test)} test sequences, batch {a.batch}; "
          f"PyTorch {torch.__version__}, {a.threads} threads", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    figures, step = [], 0
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(n)
        start = time.perf_counter()
        total = total_r = total_k = 0.0
        for i in range(0, n, a.batch):
            weight = kl_weight(a, epoch, step)
            rec, kl = losses(model, train[order[i:i + a.batch]], a.dropout,
                             free_bits=a.free_bits)
            loss = rec + weight * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            total, total_r, total_k = total + loss.item(), total_r + rec.item(), total_k + kl.item()
        seconds = time.perf_counter() - start
        figures.append({"epoch": epoch + 1, "seconds": seconds, "train_loss": total / n,
                        "train_rec": total_r / n, "train_kl": total_k / n, "kl_weight": weight})
        print(f"epoch {epoch + 1}: train loss {total / n:.4f} (rec {total_r / n:.4f}, kl "
              f"{total_k / n:.4f}, kl weight {weight:.3g}) nats/sequence  "
              f"{epoch_speed(seconds, n, 'seq')}", flush=True)
    result = {"model": "rvae_chars", "torch": torch.__version__, "threads": a.threads,
              "data": a.data, "counts": counts, "train_sequences": n, "batch": a.batch,
              "epochs": figures}
    if figures:
        result["train_s_median"], line = median_summary([r["seconds"] for r in figures], n,
                                                        "seq")
        print(f"rvae_chars: {line}")
    result["test"] = evaluate(model, test)
    print_test(result["test"])
    if a.iwae:
        result["iwae"] = iwae_estimate(model, test, a.iwae)
        print_iwae(result["iwae"])
    result["samples"], result["interpolation"] = report_samples(model, vocab, test_text, a)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
