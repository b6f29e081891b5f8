#!/usr/bin/env python3
"""Every vkvae subcommand against every kind of bad argument that applies to
it: a missing file, a folder where a file goes, a file of the wrong kind (a
CSV as checkpoint, a PNG as data, a checkpoint as spec), the wrong model (a
checkpoint of another model, a class of a model without classes), a data
set of the wrong size, a bad number, a number out of range, a bad word
(--precision, --resize, --split ...), an unknown flag and a missing value.

Each case asserts what docs/errors.md promises: the exit status (1 for
BAD_INPUT and IO, 4 for a device that matches nothing), exactly one line
starting `vkvae: error:` on stderr, naming the thing at fault (the file or
the flag), and no output written: the case's output (-o, --out, --json,
export's OUT) does not exist afterwards and its folder holds nothing, no
temporary file either. A spec whose text is wrong is the one exception by
design (README, docs/spec.md): it reports as the compiler does, lines of
`PATH:LINE:COL: error:` or `PATH: error:` and no `vkvae: error:` line; those
cases assert that form, naming the file, instead.

Fast on purpose: tiny vae_mlp, cvae_mlp and vunet checkpoints trained once
on the CPU backend (256 images, one epoch), tiny .npy files written here,
--device cpu wherever a device is needed; only the few cases about the
device itself (--device nosuch) touch Vulkan.

  test_cli_matrix.py VKVAE
"""
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

failures = []
counted = 0

# Defects this matrix found that are not fixed yet, by case: what the case
# sees instead of the promise. Such a case passes while it shows exactly
# that and the rest of its promise holds; it says so when the defect is
# gone (then remove the entry).
KNOWN = {}  # case id -> a known defect it may show; none now
known_seen = []


def fail(what):
    print("FAIL  " + what)
    failures.append(what)


def run(vkvae, args, cwd=None):
    p = subprocess.run([vkvae, *args], capture_output=True, text=True, errors="replace",
                       cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def npy(path, descr, shape, data):
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    header += " " * ((-(10 + len(header) + 1)) % 64) + "\n"
    write(path, b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)


def png(path, w, h):
    """An 8-bit grey PNG (zlib only)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes((x * 40 + y * 9) & 255 for x in range(w)) for y in range(h))
    write(path, b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
          + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Matrix:
    def __init__(self, vkvae, t):
        self.vkvae, self.t = vkvae, t
        self.ids = set()

    def case(self, cid, args, names, out=None, code=1, diag=False):
        """args: the command line after vkvae, with {out} standing for the
        case's output path (out: its file name in the case's own folder) and
        {t} for the fixtures' folder; names: what the error line must name."""
        global counted
        assert cid not in self.ids, cid
        self.ids.add(cid)
        counted += 1
        folder = os.path.join(self.t, "cases", cid)
        os.makedirs(folder)
        target = os.path.join(folder, out) if out else None
        argv = [a.format(t=self.t, out=target or "") for a in args]
        names = names.format(t=self.t, out=target or "")
        rc, _, err = run(self.vkvae, argv, cwd=folder)
        lines = err.splitlines()
        errors = [l for l in lines if l.startswith("vkvae: error:")]
        what = f"{cid}: vkvae {' '.join(argv)}"
        ok = True
        if rc != code:
            fail(f"{what}: exit {rc}, expected {code}; stderr: {err.strip()[-400:]}")
            ok = False
        if diag:
            # A spec's own diagnostics: the compiler's lines, naming the file.
            first = lines[0] if lines else ""
            if errors or not first.startswith(names + ":") or " error: " not in first:
                fail(f"{what}: expected the spec compiler's diagnostics naming {names}, got: "
                     f"{err.strip()[:400]}")
                ok = False
        elif len(errors) != 1:
            fail(f"{what}: {len(errors)} 'vkvae: error:' lines, expected 1: {err.strip()[-400:]}")
            ok = False
        elif names not in errors[0]:
            fail(f"{what}: the error does not name {names!r}: {errors[0]}")
            ok = False
        else:
            # what kind of fault it says, where the case's name tells
            says = ("unknown" if "unknown_flag" in cid else
                    "incomplete" if cid == "info_missing_value" else
                    "needs a value" if cid.endswith("missing_value") else None)
            if says and says not in errors[0]:
                fail(f"{what}: the error does not say {says!r}: {errors[0]}")
                ok = False
        left = sorted(os.listdir(folder))
        if (KNOWN.get(cid) == "empty run folder" and left == [out] and os.path.isdir(target)
                and not os.listdir(target)):
            known_seen.append(cid)
            print(f"known {cid}: left an empty {out}/ (cli/train.c makes --out too early)")
            left = []
        elif cid in KNOWN:
            print(f"note  {cid}: the known defect ({KNOWN[cid]}) is gone: remove it from KNOWN")
        if left:
            fail(f"{what}: left {left} in the case's folder (output {out})")
            ok = False
        if ok:
            print(f"ok    {cid}: {errors[0] if errors else lines[0][:120]}")


def fixtures(vkvae, t):
    quick = ["--epochs", "1", "--limit", "256", "--test-limit", "64", "--samples", "0",
             "--device", "cpu"]
    for model in ("vae_mlp", "cvae_mlp", "vunet"):
        rc, _, err = run(vkvae, ["train", model, "--out", f"{t}/{model}", *quick])
        if rc:
            fail(f"{model} trains briefly (exit {rc}: {err.strip()[-300:]})")
            return False
    write(f"{t}/table.csv", b"a,b,c\n1,2,3\n4,5,6\n")
    png(f"{t}/img.png", 4, 4)
    os.makedirs(f"{t}/adir")
    os.makedirs(f"{t}/spec_dir.vae")
    os.makedirs(f"{t}/ckpt_dir.safetensors")
    os.makedirs(f"{t}/labels_dir.npy")
    n = 100   # 10 of each class: a held-out tenth leaves one test image a class
    npy(f"{t}/good.npy", "|u1", (n, 28, 28), bytes((i * 7) & 255 for i in range(n * 784)))
    npy(f"{t}/labels.npy", "|u1", (n,), bytes(i % 10 for i in range(n)))
    npy(f"{t}/wrong_size.npy", "|u1", (n, 32, 32), bytes(n * 1024))
    npy(f"{t}/colour.npy", "|u1", (n, 3, 28, 28), bytes(n * 3 * 784))
    npy(f"{t}/labels_short.npy", "|u1", (5,), bytes(5))
    npy(f"{t}/labels_float.npy", "<f4", (n,), struct.pack("<%df" % n, *([0.0] * n)))
    # a run folder whose metrics.csv is a PNG
    os.makedirs(f"{t}/png_run")
    png(f"{t}/png_run/metrics.csv", 4, 4)
    with open(f"{t}/my_vae.vae", "w") as f:
        f.write("model my_vae\ninput 1x28x28 range 0..1 likelihood bernoulli\n"
                "latent 4 gaussian\nencoder\n  flatten\n  dense 32 relu\ndecoder\n"
                "  dense 784\n  reshape 1x28x28\nobjective elbo\n"
                "train adam lr 1e-3 batch 32 epochs 1 seed 1\n")
    return True


def train_cases(m):
    q = ["--epochs", "1", "--limit", "64", "--test-limit", "16", "--samples", "0"]
    cpu = ["--device", "cpu"]
    out = ["--out", "{out}"]

    def c(cid, args, names, **kw):
        m.case("train_" + cid, ["train", *args, *out], names, out="run", **kw)
    c("missing_spec", ["{t}/nosuch.vae", *q, *cpu], "{t}/nosuch.vae")
    c("folder_spec", ["{t}/spec_dir.vae", *q, *cpu], "{t}/spec_dir.vae")
    c("csv_spec", ["{t}/table.csv", *q, *cpu], "{t}/table.csv", diag=True)
    c("ckpt_spec", ["{t}/vae_mlp/checkpoint.safetensors", *q, *cpu],
      "{t}/vae_mlp/checkpoint.safetensors", diag=True)
    c("unknown_model", ["vae_nosuch", *q, *cpu], "vae_nosuch")
    c("two_models", ["vae_mlp", "cvae_mlp", *q, *cpu], "cvae_mlp")
    c("missing_data", ["vae_mlp", "--data", "{t}/nosuch", *q, *cpu], "{t}/nosuch")
    c("empty_data_folder", ["vae_mlp", "--data", "{t}/adir", *q, *cpu], "{t}/adir")
    c("csv_data", ["vae_mlp", "--data", "{t}/table.csv", *q, *cpu], "{t}/table.csv")
    c("png_data", ["vae_mlp", "--data", "{t}/img.png", *q, *cpu], "{t}/img.png")
    c("wrong_size_data", ["vae_mlp", "--data", "{t}/wrong_size.npy", *q, *cpu],
      "{t}/wrong_size.npy")
    c("colour_data", ["vae_mlp", "--data", "{t}/colour.npy", *q, *cpu], "{t}/colour.npy")
    c("labels_missing", ["cvae_mlp", "--data", "{t}/good.npy", "--labels", "{t}/nosuch.npy",
                         *q, *cpu], "{t}/nosuch.npy")
    c("labels_folder", ["cvae_mlp", "--data", "{t}/good.npy", "--labels", "{t}/labels_dir.npy",
                        *q, *cpu], "{t}/labels_dir.npy")
    c("labels_short", ["cvae_mlp", "--data", "{t}/good.npy", "--labels",
                       "{t}/labels_short.npy", *q, *cpu], "{t}/labels_short.npy")
    c("labels_float", ["cvae_mlp", "--data", "{t}/good.npy", "--labels",
                       "{t}/labels_float.npy", *q, *cpu], "{t}/labels_float.npy")
    c("conditional_no_labels", ["cvae_mlp", "--data", "{t}/good.npy", *q, *cpu],
      "{t}/good.npy")
    c("resume_missing", ["vae_mlp", "--resume", "{t}/nosuch.safetensors", *q, *cpu],
      "{t}/nosuch.safetensors")
    c("resume_folder", ["vae_mlp", "--resume", "{t}/ckpt_dir.safetensors", *q, *cpu],
      "{t}/ckpt_dir.safetensors")
    c("resume_csv", ["vae_mlp", "--resume", "{t}/table.csv", *q, *cpu], "{t}/table.csv")
    c("resume_other_model", ["vae_mlp", "--resume", "{t}/cvae_mlp/checkpoint.safetensors",
                             *q, *cpu], "{t}/cvae_mlp/checkpoint.safetensors")
    c("epochs_word", ["vae_mlp", "--epochs", "ten", *cpu], "--epochs")
    c("batch_word", ["vae_mlp", "--batch", "1.5", *q, *cpu], "--batch")
    c("lr_word", ["vae_mlp", "--lr", "fast", *q, *cpu], "--lr")
    c("seed_negative", ["vae_mlp", "--seed", "-1", *q, *cpu], "--seed")
    c("limit_word", ["vae_mlp", "--limit", "1e3", "--epochs", "1", *cpu], "--limit")
    c("samples_word", ["vae_mlp", "--samples", "x", *q, *cpu], "--samples")
    c("val_split_word", ["vae_mlp", "--val-split", "tenth", *q, *cpu], "--val-split")
    c("val_split_range", ["vae_mlp", "--data", "{t}/good.npy", "--val-split", "1.5", *q, *cpu],
      "--val-split")
    c("batch_zero", ["vae_mlp", "--batch", "0", *q, *cpu], "--batch")
    c("lr_negative", ["vae_mlp", "--lr", "-1", *q, *cpu], "--lr")
    c("precision_word", ["vae_mlp", "--precision", "bf16", *q], "--precision")
    c("precision_cpu", ["vae_mlp", "--precision", "fp16", *q, *cpu], "--precision")
    c("resize_word", ["vae_mlp", "--resize", "squash", *q, *cpu], "squash")
    c("background_word", ["vae_mlp", "--background", "plaid", *q, *cpu], "plaid")
    c("on_bad_word", ["vae_mlp", "--on-bad-image", "ignore", *q, *cpu], "ignore")
    c("unknown_flag", ["vae_mlp", "--bogus", "1", *q, *cpu], "--bogus")
    # the missing value: the option is last (--out comes before it here)
    m.case("train_missing_value", ["train", "vae_mlp", "--out", "{out}", *q, *cpu, "--epochs"],
           "--epochs", out="run")
    m.case("train_unknown_flag_last", ["train", "vae_mlp", "--out", "{out}", *q, *cpu, "--bogus"],
           "--bogus", out="run")
    m.case("train_out_is_file", ["train", "vae_mlp", *q, *cpu, "--out", "{t}/table.csv"],
           "{t}/table.csv")
    m.case("train_device_nosuch", ["train", "vae_mlp", *q, "--device", "nosuch", *out],
           "nosuch", out="run", code=4)


def check_cases(m):
    c = lambda cid, args, names, **kw: m.case("check_" + cid, ["check", *args], names, **kw)
    c("missing", ["{t}/nosuch.vae"], "{t}/nosuch.vae")
    c("folder", ["{t}/spec_dir.vae"], "{t}/spec_dir.vae")
    c("csv", ["{t}/table.csv"], "{t}/table.csv", diag=True)
    c("png", ["{t}/img.png"], "{t}/img.png", diag=True)
    c("ckpt", ["{t}/vae_mlp/checkpoint.safetensors"], "{t}/vae_mlp/checkpoint.safetensors",
      diag=True)
    c("no_spec", [], "which spec")
    c("two_specs", ["{t}/my_vae.vae", "{t}/table.csv"], "{t}/table.csv")
    c("batch_word", ["{t}/my_vae.vae", "--batch", "many"], "--batch")
    c("batch_zero", ["{t}/my_vae.vae", "--batch", "0"], "--batch")
    c("batch_range", ["{t}/my_vae.vae", "--batch", "70000"], "--batch")
    c("unknown_flag", ["{t}/my_vae.vae", "--explian"], "--explian")
    c("missing_value", ["{t}/my_vae.vae", "--batch"], "--batch")


LATENT = {
    # command: the arguments that make it run (before the case's own)
    "sample": ["-n", "4"],
    "reconstruct": ["-n", "4", "--data", "{t}/good.npy"],
    "interpolate": ["--from", "0", "--to", "1", "--steps", "3", "--data", "{t}/good.npy"],
    "traverse": ["--item", "0", "--dims", "0-1", "--steps", "3", "--data", "{t}/good.npy"],
    "edit": ["--item", "0", "--from-class", "0", "--to-class", "1", "--steps", "3",
             "--data", "{t}/good.npy", "--labels", "{t}/labels.npy"],
    "encode": ["--data", "{t}/good.npy"],
    "transfer": ["--shape", "0-1", "--appearance", "0,1", "--data", "{t}/good.npy"],
}


def latent_cases(m):
    vae, cvae = "{t}/vae_mlp/checkpoint.safetensors", "{t}/cvae_mlp/checkpoint.safetensors"
    cpu = ["--device", "cpu"]
    for cmd, base in LATENT.items():
        ext = ".npy" if cmd == "encode" else ".png"
        # edit needs a model that was trained with the classes' labels,
        # transfer one whose prior is learned from an image's shape
        ck = {"edit": cvae, "transfer": "{t}/vunet/checkpoint.safetensors"}.get(cmd, vae)

        def c(cid, args, names, ckpt=ck, **kw):
            m.case(f"{cmd}_{cid}", [cmd, ckpt, *base, *cpu, *args, "-o", "{out}"], names,
                   out="out" + ext, **kw)
        c("missing_ckpt", [], "{t}/nosuch.safetensors", ckpt="{t}/nosuch.safetensors")
        c("folder_ckpt", [], "{t}/ckpt_dir.safetensors", ckpt="{t}/ckpt_dir.safetensors")
        c("csv_ckpt", [], "{t}/table.csv", ckpt="{t}/table.csv")
        c("png_ckpt", [], "{t}/img.png", ckpt="{t}/img.png")
        c("seed_word", ["--seed", "x"], "--seed")
        c("precision_word", ["--precision", "bf16"], "--precision")
        c("unknown_flag", ["--bogus", "1"], "--bogus")
        c("cols_word", ["--cols", "-2"], "--cols")
        c("scale_range", ["--scale", "65"], "--scale")
        c("pad_range", ["--pad", "300"], "--pad")
        m.case(f"{cmd}_out_missing_folder", [cmd, ck, *base, *cpu, "-o", "{t}/nosuch/out" + ext],
               "{t}/nosuch/out" + ext)
        m.case(f"{cmd}_missing_value", [cmd, ck, *base, *cpu, "-o"], "-o")
        m.case(f"{cmd}_unknown_flag_last", [cmd, ck, *base, *cpu, "-o", "{out}", "--bogus"],
               "--bogus", out="out" + ext)
        m.case(f"{cmd}_no_ckpt", [cmd, "-o", "{out}"], "checkpoint", out="out" + ext)
        m.case(f"{cmd}_out_is_folder", [cmd, ck, *base, *cpu, "-o", "{t}/adir"], "{t}/adir")
        m.case(f"{cmd}_device_nosuch", [cmd, ck, *base, "--device", "nosuch", "-o", "{out}"],
               "nosuch", out="out" + ext, code=4)
        if cmd != "sample":
            # data of the wrong size, missing, of the wrong kind; --split
            d = [a for a in base]
            i = d.index("--data") + 1

            def with_data(path):
                e = list(d)
                e[i] = path
                if not path.endswith(".npy") and "--labels" in e:
                    # a labels file goes with a .npy only (a refusal of its own)
                    k = e.index("--labels")
                    del e[k:k + 2]
                return e
            for cid, path in (("wrong_size_data", "{t}/wrong_size.npy"),
                              ("missing_data", "{t}/nosuch.npy"),
                              ("csv_data", "{t}/table.csv"),
                              ("empty_data_folder", "{t}/adir")):
                m.case(f"{cmd}_{cid}", [cmd, ck, *with_data(path), *cpu, "-o", "{out}"], path,
                       out="out" + ext)
            c("split_word", ["--split", "validation"], "validation")
            c("val_split_range", ["--val-split", "2"], "--val-split")
    c = lambda cid, args, names, ckpt=vae: m.case(
        "sample_" + cid, ["sample", ckpt, *cpu, *args, "-o", "{out}"], names, out="out.png")
    c("n_word", ["-n", "many"], "-n")
    c("n_zero", ["-n", "0"], "-n")
    c("label_not_conditional", ["--label", "3"], "--label")          # the wrong model
    c("label_range", ["--label", "10"], "--label", ckpt=cvae)
    c = lambda cid, args, names, ckpt=vae: m.case(
        "reconstruct_" + cid, ["reconstruct", ckpt, "--data", "{t}/good.npy", *cpu, *args,
                               "-o", "{out}"], names, out="out.png")
    c("n_zero", ["-n", "0"], "-n")
    c("labels_short", ["--labels", "{t}/labels_short.npy"], "{t}/labels_short.npy", ckpt=cvae)
    c("conditional_no_labels", [], "{t}/good.npy", ckpt=cvae)
    c = lambda cid, args, names: m.case(
        "interpolate_" + cid, ["interpolate", vae, "--data", "{t}/good.npy", *cpu, *args,
                               "-o", "{out}"], names, out="out.png")
    c("from_range", ["--from", "99999", "--to", "1"], "--from")
    c("to_word", ["--from", "0", "--to", "one"], "--to")
    c("to_missing", ["--from", "0"], "--to")
    c("steps_range", ["--from", "0", "--to", "1", "--steps", "1"], "--steps")
    c = lambda cid, args, names: m.case(
        "traverse_" + cid, ["traverse", vae, "--data", "{t}/good.npy", *cpu, *args,
                            "-o", "{out}"], names, out="out.png")
    c("item_range", ["--item", "99999"], "--item")
    c("item_missing", [], "--item")
    c("dims_range", ["--item", "0", "--dims", "0-99"], "--dims")
    c("dims_word", ["--item", "0", "--dims", "all"], "--dims")
    c("steps_even", ["--item", "0", "--steps", "4"], "--steps")
    c("range_word", ["--item", "0", "--range", "wide"], "--range")
    c = lambda cid, args, names, ckpt=cvae: m.case(
        "edit_" + cid, ["edit", ckpt, "--data", "{t}/good.npy", *cpu, *args, "-o", "{out}"],
        names, out="out.png")
    lab = ["--labels", "{t}/labels.npy"]
    c("class_range", [*lab, "--item", "0", "--from-class", "0", "--to-class", "99"], "99")
    c("class_missing", [*lab, "--item", "0", "--from-class", "0"], "--to-class")
    c("strength_word", [*lab, "--item", "0", "--from-class", "0", "--to-class", "1",
                        "--strength", "lots"], "--strength")
    c("item_range", [*lab, "--item", "99999", "--from-class", "0", "--to-class", "1"],
      "--item")
    c("no_labels", ["--item", "0", "--from-class", "0", "--to-class", "1"], "{t}/good.npy",
      ckpt=vae)
    c = lambda cid, args, names: m.case(
        "encode_" + cid, ["encode", vae, "--data", "{t}/good.npy", *cpu, *args, "-o", "{out}"],
        names, out="out.npy")
    c("n_word", ["-n", "all"], "-n")


def eval_cases(m):
    vae, cvae = "{t}/vae_mlp/checkpoint.safetensors", "{t}/cvae_mlp/checkpoint.safetensors"
    cpu = ["--device", "cpu"]
    data = ["--data", "{t}/good.npy"]
    c = lambda cid, args, names, **kw: m.case("eval_" + cid, ["eval", *args], names, **kw)
    c("missing_ckpt", ["{t}/nosuch.safetensors", *data, *cpu], "{t}/nosuch.safetensors")
    c("folder_ckpt", ["{t}/ckpt_dir.safetensors", *data, *cpu], "{t}/ckpt_dir.safetensors")
    c("csv_ckpt", ["{t}/table.csv", *data, *cpu], "{t}/table.csv")
    c("spec_ckpt", ["{t}/my_vae.vae", *data, *cpu], "{t}/my_vae.vae")
    c("no_ckpt", [*data, *cpu], "checkpoint")
    c("wrong_size_data", [vae, "--data", "{t}/wrong_size.npy", *cpu], "{t}/wrong_size.npy")
    c("missing_data", [vae, "--data", "{t}/nosuch.npy", *cpu], "{t}/nosuch.npy")
    c("png_data", [vae, "--data", "{t}/img.png", *cpu], "{t}/img.png")
    c("conditional_no_labels", [cvae, *data, *cpu], "{t}/good.npy")
    c("labels_short", [cvae, *data, "--labels", "{t}/labels_short.npy", *cpu],
      "{t}/labels_short.npy")
    c("iwae_word", [vae, *data, "--iwae", "many", *cpu], "--iwae")
    c("iwae_zero", [vae, *data, "--iwae", "0", *cpu], "--iwae")
    c("limit_word", [vae, *data, "--limit", "-3", *cpu], "--limit")
    c("seed_word", [vae, *data, "--seed", "0x", *cpu], "--seed")
    c("val_split_range", [vae, *data, "--val-split", "0", *cpu], "--val-split")
    c("unknown_flag", [vae, *data, "--bogus", *cpu], "--bogus")
    c("unknown_flag_last", [vae, *data, *cpu, "--bogus"], "--bogus")
    c("missing_value", [vae, *data, *cpu, "--limit"], "--limit")
    c("device_nosuch", [vae, *data, "--device", "nosuch"], "nosuch", code=4)


def bench_cases(m):
    j = ["--json", "{out}"]
    c = lambda cid, args, names, **kw: m.case("bench_" + cid, ["bench", *args, *j], names,
                                              out="bench.json", **kw)
    c("unknown_model", ["vae_nosuch", "--runs", "1"], "vae_nosuch")
    c("missing_spec", ["{t}/nosuch.vae", "--runs", "1"], "{t}/nosuch.vae")
    c("folder_spec", ["{t}/spec_dir.vae", "--runs", "1"], "{t}/spec_dir.vae")
    c("csv_spec", ["{t}/table.csv", "--runs", "1"], "{t}/table.csv", diag=True)
    c("runs_zero", ["vae_mlp", "--runs", "0"], "--runs")
    c("runs_word", ["vae_mlp", "--runs", "few"], "--runs")
    c("precision_word", ["vae_mlp", "--runs", "1", "--precision", "bf16"], "--precision")
    c("device_cpu", ["vae_mlp", "--runs", "1", "--device", "cpu"], "cpu")
    c("unknown_flag", ["vae_mlp", "--runs", "1", "--bogus"], "--bogus")
    m.case("bench_missing_value", ["bench", "vae_mlp", "--runs"], "--runs")
    m.case("bench_json_missing_folder", ["bench", "vae_mlp", "--runs", "1", "--json",
                                         "{t}/nosuch/b.json"], "{t}/nosuch/b.json")


def export_cases(m):
    vae = "{t}/vae_mlp/checkpoint.safetensors"
    c = lambda cid, args, names, **kw: m.case("export_" + cid, ["export", *args], names, **kw)
    c("missing_ckpt", ["{t}/nosuch.safetensors", "{out}"], "{t}/nosuch.safetensors",
      out="w.safetensors")
    c("folder_ckpt", ["{t}/ckpt_dir.safetensors", "{out}"], "{t}/ckpt_dir.safetensors",
      out="w.safetensors")
    c("csv_ckpt", ["{t}/table.csv", "{out}"], "{t}/table.csv", out="w.safetensors")
    c("png_ckpt", ["{t}/img.png", "{out}"], "{t}/img.png", out="w.safetensors")
    c("no_out", [vae], "OUT")
    c("no_args", [], "export")
    c("out_missing_folder", [vae, "{t}/nosuch/w.safetensors"], "{t}/nosuch/w.safetensors")
    c("out_is_folder", [vae, "{t}/adir"], "{t}/adir")
    c("third_arg", [vae, "{out}", "extra"], "extra", out="w.safetensors")
    c("unknown_flag", [vae, "{out}", "--bogus"], "--bogus", out="w.safetensors")


def plot_cases(m):
    run_dir = "{t}/vae_mlp"
    c = lambda cid, args, names, **kw: m.case("plot_" + cid, ["plot", *args], names, **kw)
    c("missing_run", ["{t}/nosuch", "-o", "{out}"], "{t}/nosuch", out="c.png")
    c("file_as_run", ["{t}/table.csv", "-o", "{out}"], "{t}/table.csv", out="c.png")
    c("no_metrics", ["{t}/adir", "-o", "{out}"], "{t}/adir/metrics.csv", out="c.png")
    c("png_metrics", ["{t}/png_run", "-o", "{out}"], "{t}/png_run/metrics.csv", out="c.png")
    c("width_word", [run_dir, "--width", "wide", "-o", "{out}"], "--width", out="c.png")
    c("width_range", [run_dir, "--width", "100", "-o", "{out}"], "--width", out="c.png")
    c("height_range", [run_dir, "--height", "9000", "-o", "{out}"], "--height", out="c.png")
    c("out_missing_folder", [run_dir, "-o", "{t}/nosuch/c.png"], "{t}/nosuch/c.png")
    c("out_is_folder", [run_dir, "-o", "{t}/adir"], "{t}/adir")
    c("unknown_flag", [run_dir, "--bogus", "1", "-o", "{out}"], "--bogus", out="c.png")
    c("missing_value", [run_dir, "-o"], "-o")
    c("unknown_flag_last", [run_dir, "-o", "{out}", "--bogus"], "--bogus", out="c.png")
    c("no_run", ["-o", "{out}"], "plot", out="c.png")


def other_cases(m):
    m.case("info_unknown_flag", ["info", "--bogus"], "--bogus")
    m.case("info_missing_value", ["info", "--device"], "--device")
    m.case("info_device_nosuch", ["info", "--device", "nosuch"], "nosuch", code=4)
    m.case("models_unknown_flag", ["models", "--bogus"], "--bogus")
    m.case("models_extra_arg", ["models", "vae_mlp"], "vae_mlp")
    m.case("unknown_command", ["trian", "vae_mlp"], "trian")


def main():
    vkvae = os.path.abspath(sys.argv[1])
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="vkvae-matrix-") as t:
        if not fixtures(vkvae, t):
            sys.exit(1)
        m = Matrix(vkvae, t)
        for group in (train_cases, check_cases, latent_cases, eval_cases, bench_cases,
                      export_cases, plot_cases, other_cases):
            group(m)
        # the fixtures are as they were: no case wrote over an input
        if sorted(os.listdir(f"{t}/adir")) != []:
            fail("a case wrote into the empty folder adir")
    print(f"{counted} cases, {len(failures)} failed, {len(known_seen)} with a known defect, "
          f"{time.time() - start:.1f} s")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
