#!/usr/bin/env python3
"""vkvae selftest (suite 'selftest'): every op's kernel on the device
against the CPU backend, and what a wrong one does.

  test_selftest.py VKVAE

- `vkvae selftest --precision fp32` passes on the Vulkan device, listing
  every op with a kernel once, each "ok", and keeps a verdict ("result pass").
- A planted wrong kernel (VKVAE_SELFTEST_PLANT=dense: its dispatches lose
  their last column of workgroups) fails it: exit 12 (WRONG_RESULT), one
  error line naming "dense fp32", dense's line FAIL, every other op still
  ok; the verdict says "result fail".
- Then `vkvae train` on that device warns in one line naming dense; once
  the self-test passes again, it does not.
- --ops with an unknown op, --device cpu and --precision bf16: exit 1 in
  one line.
The cache folder (pipelines and verdicts) is the test's own, so no other
test sees the planted failure; Mesa's shader cache stays the suite's (it
holds compiled shaders only, keyed by their contents), so lavapipe need not
compile again with LLVM every pipeline the ops tests compiled already.
"""
import glob
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def run(*args, env):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def errors(stderr):
    return [l for l in stderr.splitlines() if l.startswith("vkvae: error:")]


def op_lines(stdout):
    """{op: verdict} from the per-op lines."""
    out = {}
    for line in stdout.splitlines():
        f = line.split()
        if len(f) >= 5 and f[1] == "fp32" and f[3] == "cases":
            out[f[0]] = f[4]
    return out


def verdict(cache):
    files = glob.glob(f"{cache}/vkvae/selftest-*.txt")
    if len(files) != 1:
        return f"{len(files)} verdict files"
    with open(files[0]) as f:
        return f.read()


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="vkvae-selftest-") as tmp:
        env = dict(os.environ, XDG_CACHE_HOME=f"{tmp}/cache")
        if "XDG_CACHE_HOME" in os.environ and "MESA_SHADER_CACHE_DIR" not in os.environ:
            env["MESA_SHADER_CACHE_DIR"] = f"{os.environ['XDG_CACHE_HOME']}/mesa_shader_cache"
        rc, out, err = run(vkvae, "selftest", "--precision", "fp32", env=env)
        ops = op_lines(out)
        check(rc == 0 and len(ops) >= 40 and set(ops.values()) == {"ok"}
              and "pass on" in out.splitlines()[-1],
              f"selftest passes: {len(ops)} ops, each ok (exit {rc}: {errors(err)} "
              f"{out.splitlines()[-1:]})")
        check("result pass" in verdict(f"{tmp}/cache"), "the verdict is kept: pass")

        planted = dict(env, VKVAE_SELFTEST_PLANT="dense")
        rc, out, err = run(vkvae, "selftest", "--precision", "fp32", env=planted)
        lines = errors(err)
        bad = op_lines(out)
        check(rc == 12 and len(lines) == 1 and "dense fp32" in lines[0]
              and bad.get("dense") == "FAIL"
              and all(v == "ok" for k, v in bad.items() if k != "dense"),
              f"a planted wrong dense kernel fails it, naming dense alone (exit {rc}: {lines})")
        check("result fail" in verdict(f"{tmp}/cache") and "failed dense fp32"
              in verdict(f"{tmp}/cache"), "the verdict is kept: fail, dense fp32")

        quick = ["train", "vae_mlp", "--device", "vulkan", "--epochs", "1", "--limit", "256",
                 "--test-limit", "64", "--samples", "0", "--overwrite"]
        rc, _, err = run(vkvae, *quick, "--out", f"{tmp}/t1", env=env)
        warns = [l for l in err.splitlines() if "vkvae selftest found wrong results" in l]
        check(rc == 0 and len(warns) == 1 and "dense fp32" in warns[0],
              f"train on that device warns once, naming dense (exit {rc}: {warns})")

        rc, _, _ = run(vkvae, "selftest", "--precision", "fp32", env=env)
        rc2, _, err = run(vkvae, *quick, "--out", f"{tmp}/t2", env=env)
        check(rc == 0 and rc2 == 0 and "selftest found wrong" not in err,
              f"a passing self-test clears the warning (exit {rc}, {rc2})")

        for args, needle in ((["--ops", "dense,nosuch"], "no op 'nosuch'"),
                             (["--device", "cpu"], "--device cpu has nothing to check"),
                             (["--precision", "bf16"], "expected fp32, fp16 or all")):
            rc, _, err = run(vkvae, "selftest", *args, env=env)
            lines = errors(err)
            check(rc == 1 and len(lines) == 1 and needle in lines[0],
                  f"selftest {' '.join(args)}: exit 1 in one line ({rc}: {lines})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
