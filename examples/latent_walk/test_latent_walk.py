#!/usr/bin/env python3
"""examples/latent_walk end to end (suite 'example'): the demo under
xvfb-run on the Vulkan device (lavapipe here), with the validation layer
(VKVAE_VALIDATION=1 from tests/meson.build; any message is exit status 10).

- a checkpoint trained here for a moment (500 items, one epoch, CPU) walks
  for 45 frames on a 3x3 grid (about 5 s on lavapipe; the walk advances
  1/60 s a frame); the window is captured at frames 10 and 45, and the
  decoded image at frame 45:
  * neither capture is blank (pixel spread), every walker's cell has
    content, and the two captures differ (the walk moves);
  * the window shows vkvae's decoded image exactly: magnified 2x with
    nearest filtering, centred, the clear colour around it;
  * with --precision fp16 (the window enables shaderFloat16, vkvae's
    decoder multiplies in fp16) frame 45's decoded image is within 2 levels
    of fp32's, and not equal to it (skipped on a device without fp16);
- an untrained built-in conditional model (--model cvae_mlp --class 3)
  also renders, non-blank; keys typed through --press act: space pauses
  (two frames equal) and resumes (they differ), C changes the class and R
  reseeds (each changes the picture);
- an untrained colour model (--model vae_conv32) renders in colour;
- a missing checkpoint, an unknown model and a class out of range fail with
  their message before any window opens.

Skips (exit 77) when GLFW was not found at configure time, xvfb-run (Debian:
xvfb, xauth) is missing, or no display could be opened.

  test_latent_walk.py LATENT_WALK|none VKVAE
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def read_png(path):
    """8-bit grey/RGB/RGBA non-interlaced PNG -> (width, height, [rows of RGB tuples])."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, path + ": 8-bit non-interlaced expected"
            bpp = {0: 1, 2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, prev, rows = zlib.decompress(idat), width * bpp, bytearray(width * bpp), []
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        f, cur = line[0], bytearray(line[1:])
        for x in range(stride):
            a = cur[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: cur[x] = (cur[x] + a) & 255
            elif f == 2: cur[x] = (cur[x] + b) & 255
            elif f == 3: cur[x] = (cur[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        px = [tuple(cur[i:i + 3]) if bpp >= 3 else (cur[i],) * 3 for i in range(0, stride, bpp)]
        rows.append(px)
        prev = cur
    return width, height, rows


def grey(png, x0=0, y0=0, w=None, h=None):
    """Mean of R, G, B of each pixel in a rectangle, row-major."""
    width, height, rows = png
    w, h = w or width, h or height
    return [sum(rows[y][x]) / 3 for y in range(y0, y0 + h) for x in range(x0, x0 + w)]


def std(v):
    m = sum(v) / len(v)
    return (sum((x - m) ** 2 for x in v) / len(v)) ** 0.5


def placement(win_w, win_h, img_w, img_h):
    """Where gfx_placement puts the image: integer magnification, centred."""
    k = min(win_w // img_w, win_h // img_h)
    assert k >= 1
    return (win_w - img_w * k) // 2, (win_h - img_h * k) // 2, k


def main():
    walker, vkvae = sys.argv[1], sys.argv[2]
    if walker == "none":
        skip("GLFW (libglfw3-dev) was not found when the build was configured, "
             "so examples/latent_walk was not built")
    xvfb = shutil.which("xvfb-run")
    if not xvfb or not shutil.which("Xvfb") or not shutil.which("xauth"):
        skip("xvfb-run, Xvfb or xauth is not installed (Debian: xvfb, xauth; tools/setup.sh "
             "installs them): no display to open a window on")

    def run_walker(*args, display=True):
        cmd = [xvfb, "-a", "-s", "-screen 0 640x640x24", walker, *args] if display \
            else [walker, *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if display and p.returncode == 3 and "no display" in p.stderr:
            skip("xvfb-run gave no usable display: " + p.stderr.strip().splitlines()[-1])
        if display and p.returncode == 1 and "Xvfb failed to start" in p.stderr:
            skip("Xvfb failed to start: " + p.stderr.strip())
        return p

    with tempfile.TemporaryDirectory() as tmp:
        # ---- errors, before any window ----
        p = run_walker(os.path.join(tmp, "missing.safetensors"), display=False)
        check(p.returncode == 1 and "cannot open" in p.stderr and "--model vae_mlp" in p.stderr,
              "a missing checkpoint fails with a hint (exit %d: %s)" % (p.returncode,
                                                                         p.stderr.strip()))
        p = run_walker("--model", "no_such_model", display=False)
        check(p.returncode == 1 and "vae_mlp" in p.stderr,
              "an unknown model lists the built-in ones (exit %d)" % p.returncode)
        p = run_walker("--model", "cvae_mlp", "--class", "10", display=False)
        check(p.returncode == 2 and "out of range" in p.stderr,
              "--class 10 of a 10-class model is refused (exit %d)" % p.returncode)

        # ---- a briefly trained checkpoint ----
        run = os.path.join(tmp, "run")
        t = subprocess.run([vkvae, "train", "vae_mlp", "--epochs", "1", "--limit", "500",
                            "--device", "cpu", "--samples", "0", "--out", run],
                           capture_output=True, text=True, timeout=120)
        check(t.returncode == 0, "vkvae train (500 items, CPU): exit %d %s" %
              (t.returncode, t.stderr.strip()))
        if t.returncode:
            sys.exit(1)
        shot1, shot2, dec = (os.path.join(tmp, n) for n in ("f10.png", "f45.png", "dec.png"))
        p = run_walker(os.path.join(run, "checkpoint.safetensors"), "--grid", "3",
                       "--size", "256x200", "--frames", "45", "--screenshot-at", "10", shot1,
                       "--screenshot", shot2, "--decoded", dec)
        print(p.stdout.strip())
        check(p.returncode == 0 and "validation" not in p.stderr,
              "45 frames with the validation layer: exit %d %s" % (p.returncode,
                                                                    p.stderr.strip()[-2000:]))
        check("45 frames" in p.stdout, "it reports 45 frames")
        if p.returncode:
            sys.exit(1)
        a, b, d = read_png(shot1), read_png(shot2), read_png(dec)
        check(a[:2] == (256, 200) and b[:2] == (256, 200), "window captures are 256x200")
        check(d[:2] == (84, 84), "the decoded image is 3x3 cells of 28x28")
        x0, y0, k = placement(256, 200, 84, 84)
        ga, gb = grey(a, x0, y0, 84 * k, 84 * k), grey(b, x0, y0, 84 * k, 84 * k)
        sa, sb = std(ga), std(gb)
        check(sa > 10 and sb > 10, "neither capture is blank: pixel std %.1f, %.1f (> 10)" %
              (sa, sb))
        cells = [std(grey(d, 28 * (i % 3), 28 * (i // 3), 28, 28)) for i in range(9)]
        check(min(cells) > 5, "every walker's cell has content: min std %.1f (> 5)" % min(cells))
        diff = [abs(u - v) for u, v in zip(ga, gb)]
        moved = sum(1 for v in diff if v > 8) / len(diff)
        check(sum(diff) / len(diff) > 2 and moved > 0.05,
              "frames 10 and 45 differ: mean abs diff %.1f, %.0f%% of pixels by > 8 levels" %
              (sum(diff) / len(diff), 100 * moved))
        # The window shows vkvae's image, pixel for pixel (nearest, x k).
        worst = max(abs(b[2][y0 + y][x0 + x][c] - d[2][y // k][x // k][c])
                    for y in range(84 * k) for x in range(84 * k) for c in range(3))
        check(worst <= 1, "the window is the decoded image magnified %dx at (%d, %d): max "
              "difference %d levels" % (k, x0, y0, worst))
        corner = b[2][0][0]
        outside = sum(1 for y in range(200) for x in range(256)
                      if not (x0 <= x < x0 + 84 * k and y0 <= y < y0 + 84 * k)
                      and b[2][y][x] != corner)
        check(outside == 0 and all(abs(u - v) <= 1 for u, v in zip(corner, (20, 20, 26))),
              "the clear colour %s surrounds the image (%d other pixels)" % (corner, outside))

        # ---- the same walk with the decoder's products in fp16 ----
        dec16 = os.path.join(tmp, "dec16.png")
        p = run_walker(os.path.join(run, "checkpoint.safetensors"), "--grid", "3",
                       "--size", "256x200", "--frames", "45", "--precision", "fp16",
                       "--decoded", dec16)
        if p.returncode == 1 and "no fp16 arithmetic" in p.stderr:
            print("skipped: --precision fp16 (%s)" % p.stderr.strip())
        else:
            check(p.returncode == 0 and "validation" not in p.stderr,
                  "45 frames with fp16 products: exit %d %s" % (p.returncode,
                                                                p.stderr.strip()[-2000:]))
            if p.returncode == 0:
                h = read_png(dec16)
                diff = [abs(u - v) for r1, r2 in zip(d[2], h[2]) for p1, p2 in zip(r1, r2)
                        for u, v in zip(p1, p2)]
                check(h[:2] == d[:2] and 0 < max(diff) <= 2,
                      "fp16's decoded frame is within 2 levels of fp32's, not equal (max %d, "
                      "%d values differ)" % (max(diff), sum(1 for v in diff if v)))

        # ---- an untrained conditional built-in model, and the keys ----
        # Typed through --press, as the keyboard would: space at frame 6
        # pauses (frame 10 = frame 5), C at 11 moves to class 4 (frame 11
        # differs: the label reaches the decoder), R at 12 reseeds the
        # walk, space at 13 resumes (frame 20 moves on).
        shots = {f: os.path.join(tmp, "c%d.png" % f) for f in (5, 10, 11, 12, 20)}
        args = ["--model", "cvae_mlp", "--class", "3", "--grid", "2", "--size", "112x112",
                "--frames", "20", "--press", "6", " ", "--press", "11", "c", "--press", "12",
                "r", "--press", "13", " "]
        for f, path in shots.items():
            args += ["--screenshot-at", str(f), path]
        p = run_walker(*args)
        check(p.returncode == 0 and "validation" not in p.stderr,
              "cvae_mlp, untrained, class 3: exit %d %s" % (p.returncode,
                                                          p.stderr.strip()[-2000:]))
        if p.returncode == 0:
            g = {f: grey(read_png(path)) for f, path in shots.items()}

            def mad(f1, f2):
                return sum(abs(x - y) for x, y in zip(g[f1], g[f2])) / len(g[f1])
            check(min(std(v) for v in g.values()) > 3,
                  "untrained decodes are not blank: min std %.1f (> 3)" %
                  min(std(v) for v in g.values()))
            check(mad(5, 10) == 0, "paused (space): frames 5 and 10 are equal (%.2f)" %
                  mad(5, 10))
            check(mad(10, 11) > 0.5, "C (class 3 -> 4) changes the picture: %.2f" % mad(10, 11))
            check(mad(11, 12) > 0.5, "R (reseed) changes the picture: %.2f" % mad(11, 12))
            check(mad(12, 20) > 0.5, "space again: the walk moves on, frames 12 and 20 "
                  "differ: %.2f" % mad(12, 20))

        # A colour model: its cells show colour (the three channels differ),
        # not grey replicated.
        shot = os.path.join(tmp, "rgb.png")
        p = run_walker("--model", "vae_conv32", "--grid", "2", "--size", "128x128",
                       "--frames", "3", "--screenshot-at", "3", shot)
        check(p.returncode == 0 and "validation" not in p.stderr,
              "vae_conv32, untrained: exit %d %s" % (p.returncode, p.stderr.strip()[-2000:]))
        if p.returncode == 0:
            _, _, rows = read_png(shot)
            spread = max(max(px) - min(px) for row in rows for px in row)
            # grey replicated would give 0 everywhere
            check(spread > 2, "a colour model's frame is in colour: largest channel spread "
                  "in a pixel %d (> 2)" % spread)

    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
