#!/usr/bin/env python3
"""Imports only point down: each module of the library imports (in code, not in comments or
tests) only from modules declared before it in src/lib.rs, and the CLI's modules form no
circle. Prints the graph; exits 1 naming any edge that points up or closes a circle."""
import collections
import glob
import re
import sys

def modules_in_order(lib):
    return [m for m in re.findall(r'^(?:pub )?mod (\w+);', open(lib).read(), re.M)]

def edges(root, prefix):
    graph = collections.defaultdict(set)
    for path in glob.glob(f'{root}/**/*.rs', recursive=True):
        top = path[len(root) + 1:].split('/')[0].removesuffix('.rs')
        text = open(path).read().split('#[cfg(test)]')[0]
        code = '\n'.join(l for l in text.split('\n') if not l.strip().startswith('//'))
        for used in re.findall(prefix + r'(\w+)', code):
            if used != top:
                graph[top].add(used)
    return graph

failed = False
order = modules_in_order('src/lib.rs')
rank = {m: i for i, m in enumerate(order)}
library = edges('src', r'crate::')
print('library, bottom to top:')
for module in order:
    below = sorted((m for m in library[module] if m in rank), key=rank.get)
    print(f'  {module:15} -> {" ".join(below)}')
    for used in below:
        if rank[used] > rank[module]:
            print(f'  UP: {module} imports {used}, declared after it in src/lib.rs')
            failed = True

cli_modules = set(modules_in_order('cli/src/main.rs'))
cli = edges('cli/src', r'crate::')
print('cli:')
for module in sorted(cli_modules):
    print(f'  {module:15} -> {" ".join(sorted(m for m in cli[module] if m in cli_modules))}')

def circle_from(start):
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in cli[node] & cli_modules:
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None

for module in sorted(cli_modules):
    circle = circle_from(module)
    if circle:
        print('  CIRCLE: ' + ' -> '.join(circle))
        failed = True
sys.exit(1 if failed else 0)
