#!/usr/bin/env python3
"""The architecture, checked (suite 'arch'): runtime/ is a stack of layers
that call only downward, and the generator's stages call no stage back.

  check_deps.py SOURCE_DIR BUILD_DIR

1. Includes: a file in runtime/<layer>/ includes only headers of its own
   layer, of the layers below it, and the public face at the top (vkvae.h,
   error.h, group.h, status.def); gen/ includes only plan/ of the runtime.
2. Calls: from the symbols each layer's static library defines and uses
   (nm), the graph of which folder calls which has no cycle, and every
   edge goes downward.
3. gen/: no two stage files call each other (a cycle between files, such
   as lower_plan calling the fusion passes and those calling back into
   plan.c, fails), read off the objects of vkvae-gen.
Each failure is one line naming the file and what it reaches.
"""
import os
import re
import subprocess
import sys

# Each layer and the layers it may reach (the stack:
# api -> session -> gpu -> {cpu, vulkan} -> {plan, io} -> error, and spec,
# the generator inside the library, beside gpu on plan alone).
BELOW = {
    'error': set(),
    'plan': {'error'},
    'io': {'error'},
    'spec': {'plan', 'error'},
    'cpu': {'plan', 'error'},
    'vulkan': {'error'},
    'gpu': {'vulkan', 'plan', 'error'},
    'session': {'spec', 'gpu', 'cpu', 'vulkan', 'plan', 'io', 'error'},
    'api': {'session', 'spec', 'gpu', 'cpu', 'vulkan', 'plan', 'io', 'error'},
}
# The generator's own headers, which spec/ alone includes (gen/ includes
# only plan/ of the runtime: the check below).
GEN_HEADERS = {'gen.h', 'materialize.h'}
PUBLIC = {'vkvae.h', 'error.h', 'group.h', 'status.def'}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

failures = []


def layer_of_header(path):
    first = path.split('/')[0]
    return first if first in BELOW and '/' in path else None


def check_includes(src):
    runtime = os.path.join(src, 'runtime')
    for layer in BELOW:
        if layer == 'error':
            continue
        for root, _, files in os.walk(os.path.join(runtime, layer)):
            for f in sorted(files):
                if not f.endswith(('.c', '.h')):
                    continue
                path = os.path.join(root, f)
                with open(path, encoding='utf-8') as fh:
                    text = fh.read()
                for inc in INCLUDE.findall(text):
                    if inc in PUBLIC or inc.endswith('.spv.h') or inc == 'op_spirv.h':
                        continue
                    if layer == 'spec' and inc in GEN_HEADERS:
                        continue
                    target = layer_of_header(inc)
                    if target is None:
                        if os.path.exists(os.path.join(root, inc)):
                            continue  # a header beside it (cpu/fast's own)
                        failures.append(f'{os.path.relpath(path, src)}: includes "{inc}", '
                                        'which names no layer')
                    elif target != layer and target not in BELOW[layer]:
                        failures.append(f'{os.path.relpath(path, src)}: layer {layer} includes '
                                        f'"{inc}" of layer {target}, which is not below it')
    for f in sorted(os.listdir(os.path.join(src, 'gen'))):
        if f.endswith(('.c', '.h')):
            with open(os.path.join(src, 'gen', f), encoding='utf-8') as fh:
                for inc in INCLUDE.findall(fh.read()):
                    target = layer_of_header(inc)
                    if target is not None and target != 'plan':
                        failures.append(f'gen/{f}: includes "{inc}": the generator reaches '
                                        'only runtime/plan')


def symbols(path):
    """{member: (defined, undefined)} of an archive or object file."""
    out = subprocess.run(['nm', '-A', '-P', path], capture_output=True, text=True, check=True)
    table = {}
    for line in out.stdout.splitlines():
        where, _, rest = line.partition(': ')
        fields = rest.split()
        if len(fields) < 2:
            continue
        member = where.split('[')[-1].rstrip(']') if '[' in where else os.path.basename(where)
        d, u = table.setdefault(member, (set(), set()))
        (u if fields[1] == 'U' else d if fields[1] in 'TDBRCVW' else set()).add(fields[0])
    return table


def find_cycle(graph):
    state, stack = {}, []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state:
                c = visit(w)
                if c:
                    return c
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            c = visit(v)
            if c:
                return c
    return None


def check_calls(build):
    libs = {'error': 'runtime/libvkvae_error.a', 'plan': 'runtime/plan/libvkvae_plan.a',
            'spec': 'runtime/spec/libvkvae_spec.a',
            'io': 'runtime/io/libvkvae_io.a', 'cpu': 'runtime/cpu/libvkvae_cpu.a',
            'vulkan': 'runtime/vulkan/libvkvae_vulkan.a', 'gpu': 'runtime/gpu/libvkvae_gpu.a',
            'session': 'runtime/session/libvkvae_session.a', 'api': 'runtime/api/libvkvae_api.a'}
    defined_by, uses = {}, {}
    for layer, lib in libs.items():
        for member, (d, u) in symbols(os.path.join(build, lib)).items():
            for s in d:
                defined_by.setdefault(s, (layer, member))
            uses.setdefault(layer, []).append((member, u))
    graph = {}
    for layer, members in uses.items():
        for member, used in members:
            for s in sorted(used):
                if s not in defined_by or not s.startswith('vkvae_'):
                    continue  # libc, volk, Vulkan; or the models' plans, linked last
                target, where = defined_by[s]
                if target == layer:
                    continue
                graph.setdefault(layer, set()).add(target)
                if target not in BELOW[layer]:
                    failures.append(f'runtime/{layer}/{member.replace(".o", "")}: calls {s} '
                                    f'of runtime/{target}/{where.replace(".o", "")}, '
                                    'which is not below it')
    cycle = find_cycle(graph)
    if cycle:
        failures.append('runtime/ layers call each other in a cycle: ' + ' -> '.join(cycle))


def check_gen(build):
    objdir = os.path.join(build, 'gen', 'vkvae-gen.p')
    objs = sorted(f for f in os.listdir(objdir) if f.endswith('.o'))
    table = {o: symbols(os.path.join(objdir, o))[o] for o in objs}
    defined_by = {s: o for o, (d, _) in table.items() for s in d}
    graph = {o: {defined_by[s] for s in u if s in defined_by and defined_by[s] != o}
             for o, (_, u) in table.items()}
    # helpers every stage uses (memory, diagnostics) are leaves: a cycle
    # through them is none; the stages themselves must not call each other
    # back
    for a in sorted(graph):
        for b in sorted(graph[a]):
            if a < b and a in graph.get(b, ()):
                failures.append(f'gen/{a.replace(".c.o", ".c")} and gen/{b.replace(".c.o", ".c")} '
                                'call each other')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, build = sys.argv[1], sys.argv[2]
    check_includes(src)
    check_calls(build)
    check_gen(build)
    for f in failures:
        print(f)
    print(f'{"FAIL" if failures else "ok"}: layers and stages ({len(failures)} problems)')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
