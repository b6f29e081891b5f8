#!/usr/bin/env python3
"""Spec tests for vkvae-gen; each mode is one Meson test (suite 'spec').

  check_specs.py GEN bad DIR        every DIR/*.vae is malformed: its first line
                                    '# expect: LINE' is the exact first line the
                                    generator must print; an optional second line
                                    '# errors: N' is the error count. Run from DIR
                                    with the basename, so expectations hold on
                                    any checkout path.
  check_specs.py GEN good DIR       every DIR/*.vae passes --check silently, and
                                    --explain prints the same text twice, a plan
                                    included (what checks, lowers)
  check_specs.py GEN explain SPEC TEXT...   --explain SPEC prints every TEXT
  check_specs.py GEN golden DIR      every DIR/X.vae emits C (--emit-c) equal byte for
                                    byte to DIR/X.c.golden
  check_specs.py GEN update-golden DIR   rewrites those goldens
  check_specs.py GEN fuzz DIR [N [SEED]]  N seeded mutations of DIR/*.vae: exit 0 or 1,
                                    never a crash, a hang, or output on error;
                                    one that checks also lowers (--explain has
                                    its plan)
"""
import os
import random
import re
import subprocess
import sys
import tempfile

GEN = os.path.abspath(sys.argv[1])
failures = []


def run(args, cwd=None, timeout=10):
    p = subprocess.run([GEN] + args, cwd=cwd, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def fail(name, msg):
    failures.append(f'{name}: {msg}')


def specs(d):
    return sorted(f for f in os.listdir(d) if f.endswith('.vae'))


def mode_bad(d):
    names = specs(d)
    if len(names) < 40:
        fail(d, f'only {len(names)} bad specs; want at least 40')
    diag = re.compile(r'^(\S+):(\d+):(\d+): error: ')
    for name in names:
        with open(os.path.join(d, name), encoding='utf-8', errors='replace') as f:
            head = f.read().split('\n')
        m = re.match(r'# expect: (.*)$', head[0])
        if not m:
            fail(name, "first line is not '# expect: ...'")
            continue
        want = m.group(1)
        count = re.match(r'# errors: (\d+)$', head[1]) if len(head) > 1 else None
        rc, out, err = run([name, '--check'], cwd=d)
        lines = err.splitlines()
        got = lines[0] if lines else ''
        if rc != 1:
            fail(name, f'exit status {rc}, want 1')
        if out:
            fail(name, 'printed to stdout')
        if got != want:
            fail(name, f'first error\n    got:  {got}\n    want: {want}')
        # every diagnostic: path:line:col: error:, the source line, a caret line
        for i, line in enumerate(lines):
            if diag.match(line) and (i + 2 >= len(lines) or '^' not in lines[i + 2]):
                fail(name, f'no source and caret lines under: {line}')
        if count and not err.rstrip().endswith(f': {count.group(1)} error' +
                                               ('' if count.group(1) == '1' else 's')):
            fail(name, f'want {count.group(1)} errors, got: {lines[-1] if lines else ""}')
        print(f'ok {name}')


def mode_good(d):
    for name in specs(d):
        rc, out, err = run([name, '--check'], cwd=d)
        if rc != 0 or out or err:
            fail(name, f'--check exit {rc}\n{err}')
            continue
        rc, out1, err = run([name, '--explain'], cwd=d)
        _, out2, _ = run([name, '--explain'], cwd=d)
        if rc != 0 or not out1:
            fail(name, f'--explain exit {rc}\n{err}')
        elif out1 != out2:
            fail(name, '--explain output differs between two runs')
        elif 'plan: not generated' in out1:
            fail(name, 'checks but does not lower: ' + out1[out1.index('plan: not generated'):])
        print(f'ok {name}')


def mode_explain(spec, texts):
    rc, out, err = run([spec, '--explain'])
    if rc != 0:
        fail(spec, f'--explain exit {rc}\n{err}')
    for t in texts:
        if t not in out:
            fail(spec, f"--explain does not print '{t}'")
        else:
            print(f"ok {os.path.basename(spec)}: '{t}'")


def mode_golden(d, update):
    names = specs(d)
    if len(names) < 2:
        fail(d, f'only {len(names)} golden specs')
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = os.path.join(tmp, name[:-4] + '.c')
            rc, _, err = run([name, '--emit-c', out], cwd=d)
            if rc != 0:
                fail(name, f'--emit-c exit {rc}\n{err}')
                continue
            with open(out, 'rb') as f:
                got = f.read()
            golden = os.path.join(d, name[:-4] + '.c.golden')
            if update:
                with open(golden, 'wb') as f:
                    f.write(got)
                print(f'wrote {golden}')
                continue
            try:
                with open(golden, 'rb') as f:
                    want = f.read()
            except OSError:
                fail(name, f'no {golden}; run ninja update-golden')
                continue
            if got != want:
                gl, wl = got.decode().split('\n'), want.decode().split('\n')
                line = next((i for i, (a, b) in enumerate(zip(gl, wl)) if a != b),
                            min(len(gl), len(wl)))
                fail(name, f'emitted C differs from {os.path.basename(golden)} at line '
                     f'{line + 1}:\n    got:  {gl[line] if line < len(gl) else "(end)"}\n'
                     f'    want: {wl[line] if line < len(wl) else "(end)"}\n'
                     '(ninja -C build update-golden rewrites the goldens)')
            else:
                print(f'ok {name}')


def mutate(rng, text):
    b = bytearray(text.encode())
    lines = text.split('\n') or ['']
    words = text.split() or ['model']
    k = rng.randrange(8)
    if k == 0 and b:                                   # flip a byte
        b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if k == 1:                                         # truncate
        return bytes(b[:rng.randrange(len(b) + 1)])
    if k == 2:                                         # drop a line
        del lines[rng.randrange(len(lines))]
    elif k == 3:                                       # duplicate a line
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif k == 4:                                       # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif k == 5:                                       # replace a word by another
        i = rng.randrange(len(lines))
        ws = lines[i].split()
        if ws:
            ws[rng.randrange(len(ws))] = rng.choice(words)
            lines[i] = ' '.join(ws)
    elif k == 6:                                       # a number gets extreme
        i = rng.randrange(len(lines))
        lines[i] = re.sub(r'\d+', lambda m: rng.choice(
            ['0', '-1', '1e30', '99999999999', '4294967296', '65537', '1.5', 'nan', '0x10']),
            lines[i], count=1)
    else:                                              # a long line of junk
        lines.insert(rng.randrange(len(lines) + 1),
                     ' '.join(rng.choice(words) for _ in range(rng.randrange(1, 400))))
    return '\n'.join(lines).encode()


def mode_fuzz(d, n, seed=1):
    rng = random.Random(seed)
    bases = [open(os.path.join(d, f), encoding='utf-8').read() for f in specs(d)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'fuzz.vae')
        for i in range(n):
            text = rng.choice(bases).encode()
            for _ in range(rng.randrange(1, 4)):
                text = mutate(rng, text.decode('utf-8', 'replace'))
            with open(path, 'wb') as f:
                f.write(text)
            try:
                rc, out, err = run([path, '--check'])
            except subprocess.TimeoutExpired:
                fail(f'fuzz case {i}', 'timed out')
                continue
            if rc not in (0, 1) or (rc == 1 and (out or 'error' not in err)):
                fail(f'fuzz case {i}', f'exit {rc}\n{err[:2000]}\n--- spec ---\n'
                     + text.decode('utf-8', 'replace')[:2000])
            elif rc == 0:
                rc, out, err = run([path, '--explain'])
                if rc != 0 or 'plan: not generated' in out:
                    fail(f'fuzz case {i}', f'checks but does not lower (exit {rc})\n'
                         + out[out.find('plan: not generated'):][:500] + err[:500]
                         + '\n--- spec ---\n' + text.decode('utf-8', 'replace')[:2000])
    print(f'ok {n} fuzz cases')


mode = sys.argv[2]
if mode == 'bad':
    mode_bad(sys.argv[3])
elif mode == 'good':
    mode_good(sys.argv[3])
elif mode == 'explain':
    mode_explain(sys.argv[3], sys.argv[4:])
elif mode in ('golden', 'update-golden'):
    mode_golden(sys.argv[3], mode == 'update-golden')
elif mode == 'fuzz':
    mode_fuzz(sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 500,
              int(sys.argv[5]) if len(sys.argv) > 5 else 1)
else:
    sys.exit(f'unknown mode {mode}')
for f in failures:
    print('FAIL ' + f)
sys.exit(1 if failures else 0)
