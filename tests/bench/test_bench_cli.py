#!/usr/bin/env python3
"""vkvae bench from the outside (suite 'cli'): the harness runs and says
what it measured, not how fast (timings are BENCHMARKS.md's business).

- vae_mlp, one run per figure, --json: exit 0; the JSON names the model,
  the device and fp32; one kernel entry per dispatch of the train step,
  each timed (> 0 us) and naming its build; the dense ops on a product
  build (sg or tiled), the elementwise ones plain; positive roofs, step,
  epoch and sampling figures; the table on stdout lists the same count;
- --precision fp16: every dense op on the fp16 build (skipped without
  fp16);
- --audit (no timing) of vae_mlp at --batch 128 and of vae_conv, --json:
  the shared-memory builds GPUs run (tiled products, even on lavapipe),
  one row per dispatch, each with its workgroups; nothing flagged (every
  product of vae_conv fills 64 workgroups, split along its depth where its
  output is small); the rows under 64 workgroups are the ones marked small;
  --target-cus 4096 flags the rest;
- --runs 0, --precision bf16, --device cpu and an unknown model fail with
  one line and exit 1, writing no JSON.

  test_bench_cli.py VKVAE
"""
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def run(vkvae, *args):
    p = subprocess.run([vkvae, "bench", *args], capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def is_dense(op):
    return op.startswith("dense")


def main():
    vkvae = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="vkvae-bench-") as t:
        path = os.path.join(t, "b.json")
        rc, out, err = run(vkvae, "vae_mlp", "--runs", "1", "--json", path)
        check(rc == 0, f"bench vae_mlp --runs 1 (exit {rc}: {err.strip()[-300:]})")
        if rc:
            return 1
        d = json.load(open(path))
        k, step = d["kernels"], d["train_step"]
        check(d["model"] == "vae_mlp" and d["device"] and d["precision"] == "fp32",
              f"the JSON names model, device and precision ({d['model']}, {d['device']}, "
              f"{d['precision']})")
        check(len(k) == step["dispatches"] > 0 and
              [e["step"] for e in k] == list(range(len(k))),
              f"one kernel entry per dispatch ({len(k)} of {step['dispatches']})")
        check(f"train step: {step['dispatches']} dispatches" in out,
              "the table states the same dispatch count")
        check(all(e["us"] > 0 for e in k), "every kernel was timed (> 0 us)")
        builds = {e["op"]: e["build"] for e in k}
        check(all(b in ("sg", "tiled") for op, b in builds.items() if is_dense(op)) and
              all(b in ("plain", "sg") for op, b in builds.items() if not is_dense(op)),
              f"dense ops on a product build, the rest plain or sg: {builds}")
        r = d["roofs"]
        check(r["copy_gbs"] > 0 and r["fma_gflops"] > 0 and r["matmul_1024_gflops"] > 0 and
              step["step_ms"] > 0 and step["epoch_s"] > 0 and d["sample"]["images_per_s"] > 0,
              f"positive roofs, step, epoch and sampling figures ({r}, step {step['step_ms']} "
              f"ms, sampling {d['sample']['images_per_s']} img/s)")

        path16 = os.path.join(t, "b16.json")
        rc, out, err = run(vkvae, "vae_mlp", "--runs", "1", "--precision", "fp16",
                           "--json", path16)
        if rc == 11 and "no fp16 arithmetic" in err:
            print("skipped: --precision fp16 (the device has no fp16)")
        else:
            check(rc == 0, f"bench --precision fp16 (exit {rc}: {err.strip()[-300:]})")
            if rc == 0:
                d16 = json.load(open(path16))
                dense = {e["op"]: e["build"] for e in d16["kernels"] if is_dense(e["op"])}
                check(d16["precision"] == "fp16" and dense and
                      all(b == "fp16" for b in dense.values()) and "fp16 products" in out,
                      f"fp16: every dense op on the fp16 build ({dense})")

        for model, extra in (("vae_mlp", ["--batch", "128"]), ("vae_conv", [])):
            pa = os.path.join(t, f"audit_{model}.json")
            rc, out, err = run(vkvae, model, "--audit", "--json", pa, *extra)
            check(rc == 0, f"bench {model} --audit (exit {rc}: {err.strip()[-300:]})")
            if rc:
                continue
            a = json.load(open(pa))
            steps = a["steps"]
            products = [e for e in steps if e["kernel"].startswith(("dense", "conv"))]
            check(a["model"] == model and a["batch"] == 128 and steps and
                  "time us" not in out and "roofs" not in out,
                  f"{model}: the audit names the model at batch 128 and times nothing")
            check(products and all(e["build"] in ("tiled", "plain") for e in products) and
                  any(e["build"] == "tiled" for e in products),
                  f"{model}: the products on the GPUs' shared-memory build "
                  f"({sorted({e['build'] for e in products})})")
            check(a["flagged"] == 0 and
                  all((e["groups"] >= 64) == (e["verdict"] == "fills") for e in steps) and
                  a["small"] == sum(e["verdict"] == "small" for e in steps),
                  f"{model}: nothing flagged, under 64 workgroups only the small ones "
                  f"({[(e['kernel'], e['groups'], e['verdict']) for e in steps if e['groups'] < 64]})")
            if model == "vae_conv":
                check(all(e["groups"] >= 64 for e in products) and
                      any(e["split"] > 1 for e in products),
                      "vae_conv: every product fills 64 workgroups, some split along their depth")
            rc, out, err = run(vkvae, model, "--audit", "--target-cus", "4096", *extra)
            check(rc == 0 and f"{len(steps) - sum(l.endswith('  small') for l in out.splitlines())} of "
                  f"{len(steps)} dispatches flagged" in out,
                  f"{model}: --target-cus 4096 flags every dispatch that is not small")

        for what, args, needle in (
                ("--runs 0", ["--runs", "0"], "--runs 0 is outside 1..10000"),
                ("an unknown precision", ["--precision", "bf16"], "expected fp32 or fp16"),
                ("the CPU backend", ["--device", "cpu"], "--device cpu has none"),
                ("an unknown model", ["no_such_model"], "no_such_model")):
            bad = os.path.join(t, "bad.json")
            rc, _, err = run(vkvae, *args, "--json", bad)
            lines = [l for l in err.splitlines() if l.startswith("vkvae: error:")]
            check(rc == 1 and len(lines) == 1 and needle in lines[0] and not os.path.exists(bad),
                  f"{what}: exit 1, one line containing '{needle}', no JSON (got {rc}: {lines})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
