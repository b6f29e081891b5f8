#!/usr/bin/env python3
"""Training on a folder of images (suite 'train'):

  test_data_images.py VKVAE

Writes PNG files with zlib alone (no imaging library): 150 colour images of
odd sizes (40x30 and 30x40, RGB and RGBA) in three class folders, a README
the loader ignores, and once a broken PNG.
- vae_conv32 (3x32x32) trains on the folder on the Vulkan device and on the CPU
  backend: every image scaled to cover 32x32 and centre-cropped, a tenth of
  each class held out; the loss curves agree within 1e-3 relative; the start
  names the classes; the checkpoint keeps them (metadata class_names);
  samples.png is a colour PNG.
- cvae_mlp (1x28x28, conditional) trains on the same folder: colour turned
  grey, the class folders as labels.
- The decoded folder is cached: the next run reads it back (same losses);
  a changed file or a damaged cache decodes anew; --cache off uses none.
- A broken image stops the load naming the file (exit 1, nothing written);
  --on-bad-image skip trains on the rest and says how many were skipped.
"""
import json
import os
import struct
import sys
import tempfile
import zlib

from cli_test import check, failures, run


def png(path, width, height, pixels, channels):
    """An 8-bit RGB (3) or RGBA (4) PNG of rows of bytes."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\0" + bytes(pixels[y * width * channels:(y + 1) * width * channels])
                   for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
                + chunk(b"IEND", b""))


def image(cls, i, width, height, channels):
    """A gradient in the class's colour with a bright square that moves with i."""
    base = [(200, 40, 40), (40, 200, 40), (40, 40, 200)][cls]
    sx, sy = (i * 7) % (width - 10), (i * 5) % (height - 10)
    out = []
    for y in range(height):
        for x in range(width):
            square = sx <= x < sx + 10 and sy <= y < sy + 10
            for c in range(3):
                v = 255 if square else (base[c] * (x + y + 10) // (width + height + 10))
                out.append(v)
            if channels == 4:
                out.append(255 if (x + y + i) % 7 else 128)
    return out


def make_folder(root):
    for cls, name in enumerate(("cats", "dogs", "owls")):
        os.makedirs(f"{root}/{name}", exist_ok=True)
        for i in range(50):
            w, h = (40, 30) if i % 2 else (30, 40)
            ch = 4 if i % 5 == 0 else 3
            png(f"{root}/{name}/{i:03d}.png", w, h, image(cls, i, w, h, ch), ch)
    with open(f"{root}/README.txt", "w") as f:
        f.write("not an image\n")


def losses(folder):
    with open(f"{folder}/metrics.csv") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    head = rows[0]
    return [(float(r[head.index("train_loss")]), float(r[head.index("test_loss")]))
            for r in rows[1:]]


def metadata(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)).get("__metadata__", {})


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="vkvae-images-") as tmp:
        folder = f"{tmp}/pets"
        make_folder(folder)
        common = ["--data", folder, "--epochs", "2", "--batch", "32", "--samples", "8"]
        runs = {}
        for device in ("cpu", "vulkan"):
            out = f"{tmp}/rgb-{device}"
            rc, _, e = run(vkvae, "train", "vae_conv32", *common, "--device", device,
                           "--out", out)
            check(rc == 0 and "135 training and 15 test images of 3x32x32, classes 0 cats, "
                  "1 dogs, 2 owls" in e,
                  f"vae_conv32 trains on the folder on {device}, naming its classes (exit {rc}: "
                  f"{e.strip()[-300:]})")
            runs[device] = losses(out) if rc == 0 else []
        a, b = runs["cpu"], runs["vulkan"]
        worst = max((abs(x - y) / abs(x) for p, q in zip(a, b) for x, y in zip(p, q)), default=1)
        check(len(a) == len(b) == 2 and worst < 1e-3,
              f"the Vulkan device's losses follow the CPU's ({a} / {b}, worst {worst:.1e})")
        ckpt = f"{tmp}/rgb-cpu/checkpoint.safetensors"
        if os.path.exists(ckpt):
            check(metadata(ckpt).get("class_names") == "cats\ndogs\nowls",
                  f"the checkpoint keeps the class names ({metadata(ckpt).get('class_names')!r})")
            with open(f"{tmp}/rgb-cpu/samples.png", "rb") as f:
                head = f.read(26)
            check(head[:8] == b"\x89PNG\r\n\x1a\n" and head[25] == 2,
                  f"samples.png of a colour model is an RGB PNG (colour type {head[25]})")
            rc, _, e = run(vkvae, "reconstruct", ckpt, "--data", folder, "-n", "6",
                           "-o", f"{tmp}/r.png")
            check(rc == 0, f"reconstruct reads the folder (exit {rc}: {e.strip()[-200:]})")

        rc, _, e = run(vkvae, "train", "cvae_mlp", "--data", folder, "--epochs", "1",
                       "--samples", "0", "--device", "cpu", "--out", f"{tmp}/grey")
        check(rc == 0 and "of 1x28x28, classes 0 cats" in e,
              f"cvae_mlp trains on it in grey, the folders as labels (exit {rc}: "
              f"{e.strip()[-200:]})")

        # The decoded folder is cached: a second run reads it back and trains
        # to the same losses; a changed file, or a damaged cache, decodes anew.
        cache = f"{tmp}/cache"
        cached = ["train", "vae_conv32", *common, "--device", "cpu", "--cache", cache]
        first = run(vkvae, *cached, "--out", f"{tmp}/c1")
        second = run(vkvae, *cached, "--out", f"{tmp}/c2")
        files = os.listdir(cache) if os.path.isdir(cache) else []
        check(first[0] == second[0] == 0 and "decoded; cached for the next run" in first[2]
              and "images from the data cache" in second[2] and len(files) == 1
              and losses(f"{tmp}/c1") == losses(f"{tmp}/c2"),
              f"a second run reads the cache and trains the same ({files}; "
              f"{second[2].strip()[-200:]})")
        os.utime(f"{folder}/owls/003.png", ns=(1, 1))
        rc, _, e = run(vkvae, *cached, "--out", f"{tmp}/c3")
        check(rc == 0 and "out of date or damaged: decoded again" in e,
              f"a changed file is seen ({e.strip()[-200:]})")
        if files:
            with open(f"{cache}/{files[0]}", "r+b") as f:
                f.seek(5000)
                f.write(b"\xff\xff\xff\xff")
        rc, _, e = run(vkvae, *cached, "--out", f"{tmp}/c4")
        check(rc == 0 and "decoded again" in e and losses(f"{tmp}/c4") == losses(f"{tmp}/c1"),
              f"a damaged cache is decoded anew, the same ({e.strip()[-200:]})")
        rc, _, e = run(vkvae, *cached[:-2], "--cache", "off", "--out", f"{tmp}/c5")
        check(rc == 0 and "cache" not in e, f"--cache off leaves it alone (exit {rc})")

        with open(f"{folder}/dogs/017.png", "r+b") as f:
            f.truncate(60)
        out = f"{tmp}/stopped"
        rc, _, e = run(vkvae, "train", "vae_conv32", *common, "--device", "cpu", "--out", out)
        errors = [line for line in e.splitlines() if "error" in line]
        check(rc == 1 and len(errors) == 1 and "dogs/017.png" in errors[0]
              and not os.path.exists(out),
              f"a broken image stops the load, naming it, nothing written ({rc}: {errors})")
        rc, _, e = run(vkvae, "train", "vae_conv32", *common, "--device", "cpu",
                       "--on-bad-image", "skip", "--out", f"{tmp}/skipped")
        check(rc == 0 and "skipped 1 of 150 images" in e and "dogs/017.png" in e
              and "149" not in e.split("skipped")[0][-5:],
              f"--on-bad-image skip trains on the rest and says so (exit {rc}: "
              f"{e.strip()[-300:]})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
