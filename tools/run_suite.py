#!/usr/bin/env python3
"""Run a Meson build's test suite without Meson: every test that
`meson-info/intro-tests.json` lists, with its command, environment, working
folder and timeout, in parallel where Meson would, and a line per test.

Why not `meson test`: a build folder carried to another machine (a GPU
machine with no Meson, or another Meson version, which refuses a build
folder it did not write) can still run its tests. tools/gpu_check.sh uses it.

    tools/run_suite.py BUILD [--jobs N] [--json FILE] [--timeout-multiplier K]
                             [--suite NAME ...] [--exclude NAME ...] [--deadline S]

A test's interpreter (a python3 path recorded at configure time) is looked
up on PATH when the recorded one is missing. The last line is
"N passed, N failed, N skipped"; the exit status is 1 when any failed.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time


def resolve(cmd):
    """The command, with a missing interpreter replaced by the one on PATH."""
    if cmd and not os.path.exists(cmd[0]):
        found = shutil.which(os.path.basename(cmd[0]))
        if found:
            return [found] + cmd[1:]
    return cmd


def run_one(test, build, multiplier, deadline):
    env = dict(os.environ)
    for key, value in (test.get("env") or {}).items():
        if key in ("LD_LIBRARY_PATH", "PATH") and env.get(key):
            value = value + os.pathsep + env[key]   # the test's first, ours kept
        env[key] = value
    timeout = test.get("timeout") or 30
    if timeout > 0:
        timeout *= multiplier
    else:
        timeout = None
    t0 = time.monotonic()
    if deadline is not None:
        if t0 >= deadline:
            return {"name": test["name"], "suite": test.get("suite", []), "verdict": "SKIP",
                    "rc": "deadline", "seconds": 0.0, "output": "not started: --deadline"}
        timeout = min(timeout or deadline - t0, deadline - t0 + 1)
    try:
        proc = subprocess.run(resolve(test["cmd"]), env=env, cwd=test.get("workdir") or build,   # Meson's default
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
        rc, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", e.stdout or b""
    except OSError as e:
        rc, out = "error", str(e).encode()
    seconds = time.monotonic() - t0
    if rc == 77:
        verdict = "SKIP"
    elif rc == 0:
        verdict = "OK"
    else:
        verdict = "FAIL"
    return {"name": test["name"], "suite": test.get("suite", []), "verdict": verdict,
            "rc": rc, "seconds": round(seconds, 2),
            "output": out.decode("utf-8", "replace")[-4000:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--json", help="write every test's verdict, time and output tail")
    ap.add_argument("--timeout-multiplier", type=float, default=1.0)
    ap.add_argument("--suite", action="append", default=[],
                    help="only tests of this suite (vkvae:ops or ops); repeatable")
    ap.add_argument("--exclude", action="append", default=[],
                    help="leave out the test of this name; repeatable")
    ap.add_argument("--deadline", type=float,
                    help="start no test after S seconds, and stop running ones then")
    args = ap.parse_args()
    deadline = time.monotonic() + args.deadline if args.deadline else None

    listing = os.path.join(args.build, "meson-info", "intro-tests.json")
    try:
        with open(listing) as f:
            tests = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{listing}: {e}")

    def wanted(t):
        if t["name"] in args.exclude:
            return False
        if not args.suite:
            return True
        names = set(t.get("suite", [])) | {s.split(":")[-1] for s in t.get("suite", [])}
        return any(s in names for s in args.suite)
    tests = [t for t in tests if wanted(t)]

    results = []

    def report(r):
        results.append(r)
        print(f"{len(results):3}/{len(tests)} {r['name']:<40} {r['verdict']:<5} "
              f"{r['seconds']:7.2f} s", flush=True)
        if r["verdict"] == "FAIL":
            tail = r["output"].strip().splitlines()[-15:]
            print("\n".join("      | " + line for line in tail), flush=True)

    parallel = [t for t in tests if t.get("is_parallel", True)]
    serial = [t for t in tests if not t.get("is_parallel", True)]
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for fut in concurrent.futures.as_completed(
                [pool.submit(run_one, t, args.build, args.timeout_multiplier, deadline) for t in parallel]):
            report(fut.result())
    for t in serial:
        report(run_one(t, args.build, args.timeout_multiplier, deadline))

    counts = {v: sum(r["verdict"] == v for r in results) for v in ("OK", "FAIL", "SKIP")}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"{counts['OK']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    sys.exit(1 if counts["FAIL"] else 0)


if __name__ == "__main__":
    main()
