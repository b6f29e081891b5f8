#!/usr/bin/env python3
"""The latent-space commands from the outside (vkvae sample, reconstruct,
interpolate, traverse, edit, encode) on a briefly trained model:

- the same --seed gives the same PNG bytes, another seed other bytes;
- interpolation's end frames are the decodes of the two items' codes (the
  reconstructions of those items), and traversal's centre column is the
  item's reconstruction;
- encode writes a NumPy file of the stated layout;
- sample --precision fp16 (fp16 products) gives the fp32 picture within 2
  grey levels, but not the same bytes (the fp16 kernels did run);
- a wrong item index, a label out of range, an unreadable checkpoint and an
  unwritable output path each fail with one line and exit status 1.

  test_latent_cli.py VKVAE
"""
import os
import stat
import struct
import subprocess
import sys
import tempfile

from cli_test import check, failures, read_png


def run(vkvae, *args):
    p = subprocess.run([vkvae, *args], capture_output=True, text=True)
    return p.returncode, p.stderr


def tile(png, col, row, side=28, pad=1):
    """Pixels of the tile at (col, row) of a grid with pad pixels around tiles."""
    _, _, _, rows = png
    x0, y0 = pad + col * (side + pad), pad + row * (side + pad)
    return b"".join(rows[y][x0:x0 + side] for y in range(y0, y0 + side))


def fp16(vkvae, t, ck):
    mean = ["-n", "16", "--mean", "--seed", "7", "--pad", "1"]
    run(vkvae, "sample", ck, *mean, "-o", f"{t}/m32.png")
    rc, err = run(vkvae, "sample", ck, *mean, "--precision", "fp16", "-o", f"{t}/m16.png")
    if rc == 11 and "no fp16 arithmetic" in err:
        print("skipped: fp16 sampling (the device has no fp16)")
        return
    check(rc == 0, f"sample --precision fp16 (exit {rc}: {err.strip()[-200:]})")
    if rc:
        return
    a, b = read_png(f"{t}/m32.png")[3], read_png(f"{t}/m16.png")[3]
    diff = [abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)]
    check(len(a) == len(b) and 0 < max(diff) <= 2,
          f"fp16 decoder means within 2 grey levels of fp32's, not identical (max "
          f"{max(diff)}, {sum(1 for d in diff if d)} of {len(diff)} pixels differ)")


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="vkvae-latent-") as t:
        quick = ["--epochs", "1", "--limit", "512", "--test-limit", "64", "--samples", "0"]
        rc, err = run(vkvae, "train", "vae_mlp", "--out", f"{t}/vae", *quick)
        check(rc == 0, f"vae_mlp trains briefly (exit {rc}: {err.strip()[-200:]})")
        rc, err = run(vkvae, "train", "cvae_mlp", "--out", f"{t}/cvae", *quick)
        check(rc == 0, f"cvae_mlp trains briefly (exit {rc}: {err.strip()[-200:]})")
        ck, cck = f"{t}/vae/checkpoint.safetensors", f"{t}/cvae/checkpoint.safetensors"

        for i, seed in enumerate(("7", "7", "8")):
            run(vkvae, "sample", ck, "-n", "16", "--seed", seed, "-o", f"{t}/s{i}.png")
        s = [open(f"{t}/s{i}.png", "rb").read() for i in range(3)]
        check(s[0] == s[1], "the same --seed gives the same PNG bytes")
        check(s[0] != s[2], "another --seed gives another picture")
        rc, _ = run(vkvae, "sample", cck, "--label", "7", "-n", "8", "-o", f"{t}/c7.png")
        check(rc == 0, "sample --label 7 on the conditional model")
        fp16(vkvae, t, ck)

        pad = ["--pad", "1"]
        run(vkvae, "reconstruct", ck, "-n", "4", "--cols", "2", "-o", f"{t}/r.png", *pad)
        run(vkvae, "interpolate", ck, "--from", "0", "--to", "1", "--steps", "5", "--cols", "5",
            "-o", f"{t}/i.png", *pad)
        run(vkvae, "traverse", ck, "--item", "1", "--dims", "0-2", "--steps", "5", "--cols", "5",
            "-o", f"{t}/tr.png", *pad)
        r, i, tr = read_png(f"{t}/r.png"), read_png(f"{t}/i.png"), read_png(f"{t}/tr.png")
        rec0, rec1 = tile(r, 1, 0), tile(r, 1, 1)  # rows: (input, reconstruction)
        check(tile(i, 0, 0) == rec0, "interpolation's first frame decodes item 0's code")
        check(tile(i, 4, 0) == rec1, "interpolation's last frame decodes item 1's code")
        check(tile(i, 2, 0) not in (rec0, rec1), "the middle frame is neither end")
        check(all(tile(tr, 2, d) == rec1 for d in range(3)),
              "traversal's centre column is the item's reconstruction, in every row")
        check(tile(tr, 0, 0) != rec1, "traversal's outer column differs from it")
        rc, _ = run(vkvae, "interpolate", ck, "--from", "0", "--to", "1", "--slerp", "-o",
                    f"{t}/slerp.png")
        check(rc == 0, "interpolate --slerp")
        rc, _ = run(vkvae, "edit", ck, "--item", "0", "--from-class", "0", "--to-class", "7",
                    "-o", f"{t}/e.png")
        check(rc == 0, "edit from class 0 to class 7")

        rc, _ = run(vkvae, "encode", ck, "-n", "10", "-o", f"{t}/codes.npy")
        npy = open(f"{t}/codes.npy", "rb").read() if rc == 0 else b""
        header_len = struct.unpack("<H", npy[8:10])[0] if npy else 0
        header = npy[10:10 + header_len].decode() if npy else ""
        check(rc == 0 and npy[:6] == b"\x93NUMPY" and "('mu', '<f4', (20,))" in header
              and "'shape': (10,)" in header and (10 + header_len) % 64 == 0
              and len(npy) == 10 + header_len + 10 * (20 * 4 * 2 + 1),
              "encode writes a .npy of 10 records: mu[20], logvar[20], label")

        def expect_error(what, needle, *args):
            rc, err = run(vkvae, *args)
            lines = [l for l in err.splitlines() if l.startswith("vkvae: error:")]
            check(rc == 1 and len(lines) == 1 and needle in lines[0],
                  f"{what}: exit 1, one line containing '{needle}' (got {rc}: {lines})")

        expect_error("item out of range", "--to 10000 is out of range",
                     "interpolate", ck, "--from", "0", "--to", "10000", "-o", f"{t}/x.png")
        expect_error("label out of range", "--label 10 is out of range",
                     "sample", cck, "--label", "10", "-o", f"{t}/x.png")
        expect_error("unreadable checkpoint", "nosuch.safetensors",
                     "sample", f"{t}/nosuch.safetensors", "-o", f"{t}/x.png")
        expect_error("unwritable output", "cannot write there",
                     "sample", ck, "-o", f"{t}/no/such/dir/x.png")
        # Items of the wrong size: the message names the set and both sizes
        # (it once read them after freeing them: "(null): images are 0x0").
        d = "{'descr': '|u1', 'fortran_order': False, 'shape': (30, 20, 20), }"
        d += " " * (63 - (10 + len(d)) % 64) + "\n"
        with open(f"{t}/small.npy", "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(d).to_bytes(2, "little") + d.encode()
                    + bytes(30 * 400))
        expect_error("items of the wrong size", "small.npy (held-out test split): images are "
                     "1x20x20, model vae_mlp takes 1x28x28",
                     "reconstruct", ck, "--data", f"{t}/small.npy", "-o", f"{t}/x.png")
        # A device as output: written in place, never renamed over (as root
        # that would replace /dev/full with a file), and a full one fails.
        if os.path.exists("/dev/full"):
            expect_error("a full device", "No space left on device",
                         "sample", ck, "-n", "4", "-o", "/dev/full")
            check(stat.S_ISCHR(os.stat("/dev/full").st_mode)
                  and not [f for f in os.listdir("/dev") if f.startswith("full.tmp")],
                  "/dev/full is still the device, with no temporary file beside it")
        rc, err = run(vkvae, "sample", ck, "-n", "4", "-o", "/dev/null")
        check(rc == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode),
              f"sample -o /dev/null writes through the device (exit {rc})")
        check(not os.path.exists(f"{t}/x.png"), "no output file after the failures")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
