#!/usr/bin/env python3
"""vkvae plot from the outside, on crafted metrics.csv files:

- the PNG has the asked size, is not blank, has both series' colours in
  the plot (away from the legend), the lower curve drawn lower;
- the same data gives the same bytes, other data other bytes; CRLF line
  ends change nothing;
- one epoch (a single point) plots; a resumed run's repeated epochs count
  with their last row (the same bytes as the file without the earlier rows);
- vkvae train writes curve.png, the same bytes as vkvae plot of its run,
  also when resuming into an empty metrics.csv (it writes the header);
- a missing, empty or malformed metrics.csv (naming file and line), an
  unwritable output and bad --width/--height values each fail with one
  line, exit 1, and leave no output or temporary file.

  test_plot_cli.py VKVAE
"""
import os
import subprocess
import sys
import tempfile

from cli_test import check, failures, read_png

TRAIN = (31, 119, 180)  # cli/plot.c's series colours
TEST = (255, 127, 14)
HEADER = "epoch,step,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds,images_per_s"


def run(vkvae, *args):
    p = subprocess.run([vkvae, *args], capture_output=True, text=True)
    return p.returncode, p.stderr


def error_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("vkvae: error:")]


def pixels_of(png, colour, x_max=None):
    """(x, y) of the pixels of exactly colour, left of x_max."""
    w, h, ch, rows = png
    x_max = w if x_max is None else x_max
    want = bytes(colour)
    return [(x, y) for y in range(h) for x in range(x_max) if rows[y][3 * x:3 * x + 3] == want]


def write_metrics(folder, rows, crlf=False):
    """rows: (epoch, train_loss, test_loss); other columns plausible."""
    os.makedirs(folder, exist_ok=True)
    lines = [HEADER] + [f"{e},{e * 8},{tr:.6f},{tr - 1:.6f},1.000000,{te:.6f},{te - 1:.6f},"
                        f"1.000000,0.500,2000.0" for e, tr, te in rows]
    end = "\r\n" if crlf else "\n"
    with open(f"{folder}/metrics.csv", "w", newline="") as f:
        f.write(end.join(lines) + end)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def leftovers(folder):
    return [n for n in os.listdir(folder) if ".tmp-" in n]


def chart(vkvae, t):
    curve = [(e, 250 - 10 * e, 300 - 4 * e) for e in range(1, 6)]  # train below test
    write_metrics(f"{t}/a", curve)
    rc, err = run(vkvae, "plot", f"{t}/a", "-o", f"{t}/a1.png", "--width", "500", "--height", "300")
    check(rc == 0, f"plot succeeds (exit {rc}: {error_lines(err)})")
    if rc:
        return
    png = read_png(f"{t}/a1.png")
    w, h, ch, rows = png
    check((w, h, ch) == (500, 300, 3), f"500x300 RGB as asked (got {w}x{h}, {ch} channels)")
    non_white = sum(1 for row in rows for x in range(w) if row[3 * x:3 * x + 3] != b"\xff\xff\xff")
    check(non_white > 0.01 * w * h, f"not blank: {non_white} non-white pixels")
    check(len(pixels_of(png, (0, 0, 0))) > 500, "black axes, ticks and labels are drawn")
    # The legend sits top right; the left 60% holds only the curves.
    tr, te = pixels_of(png, TRAIN, int(w * 0.6)), pixels_of(png, TEST, int(w * 0.6))
    check(len(tr) > 100 and len(te) > 100,
          f"both line colours in the plot: {len(tr)} train, {len(te)} test pixels")
    if tr and te:
        ty, sy = sum(y for _, y in tr) / len(tr), sum(y for _, y in te) / len(te)
        check(ty > sy + 20, f"the lower train loss is drawn lower (mean row {ty:.0f} vs {sy:.0f})")
    check(not leftovers(t), "no temporary files")

    rc, _ = run(vkvae, "plot", f"{t}/a", "-o", f"{t}/a2.png", "--width", "500", "--height", "300")
    check(rc == 0 and read_bytes(f"{t}/a1.png") == read_bytes(f"{t}/a2.png"),
          "the same data gives the same bytes")
    write_metrics(f"{t}/b", curve[:4] + [(5, 200, 290)])
    rc, _ = run(vkvae, "plot", f"{t}/b", "-o", f"{t}/b.png", "--width", "500", "--height", "300")
    check(rc == 0 and read_bytes(f"{t}/a1.png") != read_bytes(f"{t}/b.png"),
          "other data gives other bytes")
    write_metrics(f"{t}/crlf", curve, crlf=True)
    rc, _ = run(vkvae, "plot", f"{t}/crlf", "-o", f"{t}/crlf.png", "--width", "500", "--height", "300")
    check(rc == 0 and read_bytes(f"{t}/a1.png") == read_bytes(f"{t}/crlf.png"),
          "CRLF line ends give the same bytes")

    rc, err = run(vkvae, "plot", f"{t}/a")
    ok = rc == 0 and os.path.exists(f"{t}/a/curve.png")
    check(ok and read_png(f"{t}/a/curve.png")[:2] == (640, 480),
          f"default output RUN_DIR/curve.png, 640x480 (exit {rc}: {error_lines(err)})")
    rc, _ = run(vkvae, "plot", f"{t}/a", "-o", f"{t}/big.png", "--width", "1280", "--height", "960")
    check(rc == 0 and read_png(f"{t}/big.png")[:2] == (1280, 960), "1280x960 (font scale 2)")

    write_metrics(f"{t}/one", [(1, 540.5, 530.25)])
    rc, err = run(vkvae, "plot", f"{t}/one", "--width", "200", "--height", "200")
    if rc == 0:
        one = read_png(f"{t}/one/curve.png")
        # The point sits mid-width; the legend starts right of x = 110.
        check(one[:2] == (200, 200) and len(pixels_of(one, TRAIN, 110)) > 10 and
              len(pixels_of(one, TEST, 110)) > 10,
              "one epoch: a 200x200 chart with both points")
    else:
        check(False, f"one epoch plots (exit {rc}: {error_lines(err)})")

    # Resumed from epoch 1's checkpoint after epochs 1-3 were written: 2 and
    # 3 come again with other values, then 4. The last rows win.
    first = [(1, 300, 310), (2, 280, 300), (3, 270, 295)]
    again = [(2, 285, 305), (3, 260, 290), (4, 250, 288)]
    write_metrics(f"{t}/resumed", first + again)
    write_metrics(f"{t}/dedup", first[:1] + again)
    ra = run(vkvae, "plot", f"{t}/resumed")[0]
    rb = run(vkvae, "plot", f"{t}/dedup")[0]
    check(ra == rb == 0 and
          read_bytes(f"{t}/resumed/curve.png") == read_bytes(f"{t}/dedup/curve.png"),
          "repeated epochs: the last row of each counts (same bytes as without the earlier rows)")
    write_metrics(f"{t}/stale", first + [(2, 285, 305)])
    write_metrics(f"{t}/stale_ref", [(1, 300, 310), (2, 285, 305), (3, 270, 295)])
    ra = run(vkvae, "plot", f"{t}/stale")[0]
    rb = run(vkvae, "plot", f"{t}/stale_ref")[0]
    check(ra == rb == 0 and
          read_bytes(f"{t}/stale/curve.png") == read_bytes(f"{t}/stale_ref/curve.png"),
          "a repeated epoch before the end replaces its earlier row in epoch order")

    wide = [(e, 1e12 + 1000 * e, -5e11 - e) for e in range(1, 4)]  # exponent-form labels
    write_metrics(f"{t}/wide", wide)
    rc, err = run(vkvae, "plot", f"{t}/wide")
    check(rc == 0, f"huge and negative values plot (exit {rc}: {error_lines(err)})")


def train_writes_curve(vkvae, t):
    rc, err = run(vkvae, "train", "--device", "cpu", "--epochs", "2", "--limit", "128",
                  "--test-limit", "64", "--samples", "0", "--out", f"{t}/run")
    check(rc == 0, f"a 2-epoch CPU run succeeds (exit {rc}: {error_lines(err)})")
    if rc:
        return
    check(os.path.exists(f"{t}/run/curve.png") and read_png(f"{t}/run/curve.png")[:2] == (640, 480),
          "vkvae train writes a 640x480 curve.png")
    rc, _ = run(vkvae, "plot", f"{t}/run", "-o", f"{t}/replot.png")
    check(rc == 0 and read_bytes(f"{t}/run/curve.png") == read_bytes(f"{t}/replot.png"),
          "train's curve.png equals vkvae plot of the run")
    # A run killed before its first metrics line left the file empty; the
    # resumed run must still write the header, or no curve could be drawn.
    open(f"{t}/run/metrics.csv", "w").close()
    rc, err = run(vkvae, "train", "--device", "cpu", "--epochs", "3", "--limit", "128",
                  "--test-limit", "64", "--samples", "0", "--out", f"{t}/run",
                  "--resume", f"{t}/run/checkpoint.safetensors")
    with open(f"{t}/run/metrics.csv") as f:
        lines = f.read().splitlines()
    check(rc == 0 and len(lines) == 2 and lines[0].startswith("epoch,") and
          lines[1].startswith("3,"),
          f"resuming into an empty metrics.csv writes the header first (exit {rc}: "
          f"{error_lines(err)}, {lines[:1]})")


def expect_error(vkvae, t, what, needle, *args, folder=None):
    rc, err = run(vkvae, "plot", *args)
    lines = error_lines(err)
    check(rc == 1 and len(lines) == 1 and needle in lines[0],
          f"{what}: exit 1 with one error line containing '{needle}' (got {rc}: {lines})")
    if folder:
        made = [n for n in os.listdir(folder) if n.endswith(".png") or ".tmp-" in n]
        check(not made, f"{what}: no output or temporary file left ({made})")


def errors(vkvae, t):
    os.makedirs(f"{t}/missing")
    expect_error(vkvae, t, "no metrics.csv", "missing/metrics.csv: No such file or directory",
                 f"{t}/missing", folder=f"{t}/missing")
    os.makedirs(f"{t}/empty")
    open(f"{t}/empty/metrics.csv", "w").close()
    expect_error(vkvae, t, "empty metrics.csv", "empty/metrics.csv: empty file", f"{t}/empty",
                 folder=f"{t}/empty")
    write_metrics(f"{t}/header", [])
    expect_error(vkvae, t, "header only", "header/metrics.csv:2: no epochs", f"{t}/header",
                 folder=f"{t}/header")

    def crafted(name, text):
        os.makedirs(f"{t}/{name}")
        with open(f"{t}/{name}/metrics.csv", "w") as f:
            f.write(text)
        return f"{t}/{name}"

    good = "1,8,300.0,299.0,1.0,310.0,309.0,1.0,0.5,2000.0\n"
    d = crafted("nocol", "epoch,step,train_loss\n1,8,300.0\n")
    expect_error(vkvae, t, "no test_loss column", "nocol/metrics.csv:1: the header has no column "
                 "'test_loss'", d, folder=d)
    d = crafted("short", HEADER + "\n" + good + "2,16,290.0,289.0\n")
    expect_error(vkvae, t, "a short row", "short/metrics.csv:3: 4 fields where the header has 10",
                 d, folder=d)
    d = crafted("long", HEADER + "\n" + good + good.strip() + ",7\n")
    expect_error(vkvae, t, "a long row", "long/metrics.csv:3: more than 10 fields", d, folder=d)
    d = crafted("word", HEADER + "\n" + good + good + "3,24,280.0,279.0,1.0,abc,1,1,0.5,2000\n")
    expect_error(vkvae, t, "a word for a loss", "word/metrics.csv:4: test_loss 'abc' is not a number",
                 d, folder=d)
    d = crafted("nan", HEADER + "\n" + "1,8,nan,299.0,1.0,310.0,309.0,1.0,0.5,2000.0\n")
    expect_error(vkvae, t, "a NaN loss", "nan/metrics.csv:2: train_loss 'nan' is not a finite number",
                 d, folder=d)
    d = crafted("epoch0", HEADER + "\n" + "0" + good[1:])
    expect_error(vkvae, t, "epoch 0", "epoch0/metrics.csv:2: epoch '0' is not a whole epoch number",
                 d, folder=d)
    d = crafted("epochx", HEADER + "\n" + good + "2.5" + good[1:])
    expect_error(vkvae, t, "a fractional epoch", "epochx/metrics.csv:3: epoch '2.5'", d, folder=d)

    write_metrics(f"{t}/ok", [(1, 300, 310), (2, 290, 305)])
    expect_error(vkvae, t, "output in a missing folder", "nowhere/x.png: cannot create temporary file",
                 f"{t}/ok", "-o", f"{t}/nowhere/x.png", folder=f"{t}/ok")
    os.makedirs(f"{t}/ok/adir")
    expect_error(vkvae, t, "output is a folder", "adir: is a folder, not a file",
                 f"{t}/ok", "-o", f"{t}/ok/adir", folder=f"{t}/ok")
    for flag, value, needle in (("--width", "0", "--width 0 is outside 200..8192"),
                                ("--width", "199", "--width 199 is outside 200..8192"),
                                ("--height", "8193", "--height 8193 is outside 200..8192"),
                                ("--width", "abc", "--width 'abc' is not a whole number"),
                                ("--width", "-5", "--width '-5' is not a whole number")):
        expect_error(vkvae, t, f"{flag} {value}", needle, f"{t}/ok", flag, value, folder=f"{t}/ok")
    expect_error(vkvae, t, "--width without a value", "option --width needs a value", f"{t}/ok",
                 "--width", folder=f"{t}/ok")
    expect_error(vkvae, t, "an unknown option", "unknown option '--colour'", f"{t}/ok",
                 "--colour", "red", folder=f"{t}/ok")
    expect_error(vkvae, t, "no RUN_DIR", "RUN_DIR is required")


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="vkvae-plot-") as t:
        for part in (chart, errors, train_writes_curve):
            os.makedirs(f"{t}/{part.__name__}")
            part(vkvae, f"{t}/{part.__name__}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
