"""What the CLI tests of this folder share: a check that prints and
counts, a command run with its output, a relative comparison, a PNG's
pixels, a checkpoint's tensors, a model trained on both backends.

    from cli_test import check, close, failures, read_png, read_safetensors, run, train_both
"""
import csv
import json
import struct
import subprocess
import zlib

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def close(a, b, rel=1e-3):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def read_png(path):
    """8-bit grey or RGB non-interlaced PNG -> (width, height, channels, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (0, 2), "8-bit grey or RGB expected"
            ch = 1 if colour == 0 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, rows, stride = zlib.decompress(idat), [], width * ch
    prev = bytes(stride)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        f, cur = line[0], bytearray(line[1:])
        for x in range(stride):
            a = cur[x - ch] if x >= ch else 0
            b, c = prev[x], prev[x - ch] if x >= ch else 0
            if f == 1: cur[x] = (cur[x] + a) & 255
            elif f == 2: cur[x] = (cur[x] + b) & 255
            elif f == 3: cur[x] = (cur[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(cur))
        prev = cur
    return width, height, ch, rows


def read_safetensors(path):
    """(metadata, {name: (dtype, shape, data bytes)}): an 8-byte little-endian
    header length, the JSON header, then the tensors' bytes."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta, body = header.pop("__metadata__", {}), raw[8 + n:]
    return meta, {name: (t["dtype"], t["shape"], body[t["data_offsets"][0]:t["data_offsets"][1]])
                  for name, t in header.items()}


def train_both(vkvae, args, out_prefix, terms, what="trains", ok=None):
    """vkvae train ARGS on lavapipe (device 0) and on the CPU backend, into
    OUT_PREFIX-0 and OUT_PREFIX-cpu: each run checked (exit 0, and ok(stdout,
    out) where given), then each of terms, a metrics.csv column, checked to
    agree within close()'s 1e-3 in the first epoch. Returns {device: that
    row}, or None when a run failed."""
    metrics = {}
    for device in ("0", "cpu"):
        out = f"{out_prefix}-{device}"
        rc, so, e = run(vkvae, "train", *args, "--device", device, "--out", out)
        good = rc == 0 and (ok is None or ok(so, out))
        check(good, f"{what} on device {device} (exit {rc}: {e.strip()[-300:]})")
        if good:
            with open(f"{out}/metrics.csv") as f:
                metrics[device] = list(csv.DictReader(f))[0]
    if len(metrics) < 2:
        return None
    g, c = metrics["0"], metrics["cpu"]
    for k in terms:
        check(k in g and k in c and close(float(g[k]), float(c[k])),
              f"{k} agrees on lavapipe and the CPU backend ({g.get(k)} / {c.get(k)})")
    return metrics
