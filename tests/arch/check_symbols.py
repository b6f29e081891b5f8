#!/usr/bin/env python3
"""libvkvae's exports against its symbol map and public headers (suite
'arch'): every symbol the shared library exports matches a global pattern
of runtime/vkvae.map and none of its local ones before it (volk's vk*
pointers stay private), and every function the public headers (vkvae.h,
error.h) declare is exported, so reorganising the library's insides
cannot drop a function an application links against.

  check_symbols.py LIBVKVAE.so VKVAE.map HEADER...
"""
import fnmatch
import re
import subprocess
import sys


def map_patterns(path):
    with open(path, encoding='utf-8') as f:
        text = re.sub(r'/\*.*?\*/', '', f.read(), flags=re.S)
    glob, loc, scope = [], [], None
    for token in re.findall(r'global:|local:|[^\s;{}]+', text):
        if token in ('global:', 'local:'):
            scope = glob if token == 'global:' else loc
        elif scope is not None:
            scope.append(token)
    return glob, loc


def declared(paths):
    names = set()
    for p in paths:
        with open(p, encoding='utf-8') as f:
            text = re.sub(r'/\*.*?\*/|//[^\n]*', '', f.read(), flags=re.S)
        text = re.sub(r'^\s*#.*$', '', text, flags=re.M)  # macros are not symbols
        names.update(re.findall(r'\b(vkvae_[a-z0-9_]+)\s*\(', text))
    return names


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    lib, mapfile, headers = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True,
                         check=True).stdout
    exported = {f[2] for f in (l.split() for l in out.splitlines()) if len(f) == 3}
    glob, _ = map_patterns(mapfile)
    problems = [f'{lib}: exports {s}, which no global pattern of {mapfile} ({" ".join(glob)}) '
                'names' for s in sorted(exported)
                if not any(fnmatch.fnmatchcase(s, g) for g in glob)]
    public = declared(headers)
    problems += [f'{lib}: does not export {s}, declared in the public headers'
                 for s in sorted(public - exported)]
    for p in problems:
        print(p)
    print(f'{"FAIL" if problems else "ok"}: {len(exported)} exported symbols, '
          f'{len(public)} public functions')
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
