#!/usr/bin/env python3
"""File-level import graph of the switchd crate, and its cycles.

For each file under switchd/src it collects the files that file imports,
and reports every pair of files that import each other and every longer
cycle. Exit status 1 when there is a cycle.

What counts as an import of file B by file A:
- a `use` (also `pub use`, also inside a function or a `mod tests`) whose
  path starts with `crate::`, `super::` or `self::`, or with the name of a
  child module of A's module (`pub use batch::X` in a mod.rs), and resolves
  to an item of B's module. A path is resolved to the longest prefix that
  names a module; the item after it belongs to that module's file. A
  re-export is not followed: `crate::port::RxBatch` imports port/mod.rs.
- with --strict, also a path written inline in code (not in a `use`) with
  the same prefixes: `crate::config::DB_VERSION`, `super::Edit`,
  `tap::TapPort` in port/mod.rs (a parent calling into its child).
- `mod x;` declarations never count. Comments and string literals are
  ignored. An inline `mod tests { ... }` is part of its file; its
  `use super::*` is the file importing itself, which is not an edge.

Usage: scripts/import-cycles.py [--strict] [--edges] [SRC_DIR]
(SRC_DIR defaults to switchd/src next to this script's directory).
"""

import os
import re
import sys


def module_path(src, path):
    """Module path (tuple of names) of a file under `src`, or None."""
    rel = os.path.relpath(path, src)
    parts = rel[:-3].split(os.sep)  # strip ".rs"
    if parts == ["lib"]:
        return ()
    if parts == ["main"]:
        return None  # the binary is another crate
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def strip_comments_and_strings(text):
    """The text with comments and string/char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and not re.match(r"\w", text[i - 1 : i] or " "):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('a', '\n', '\''), not a lifetime ('a).
            m = re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def inline_modules(code):
    """[(start, end, name-path)] of inline `mod x { ... }` blocks."""
    blocks = []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        blocks.append((m.start(), j, m.group(1)))
    return blocks


def module_at(base, blocks, pos):
    """Module path at offset `pos` of a file whose module is `base`."""
    path = list(base)
    for start, end, name in sorted(blocks):
        if start <= pos < end:
            path.append(name)
    return tuple(path)


def expand_use_tree(tree):
    """`a::{b, c::{d, self}}` -> ['a::b', 'a::c::d', 'a::c']."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)  # renames do not change the target
    tree = re.sub(r"\s+", "", tree)

    def expand(t):
        depth = 0
        for k, ch in enumerate(t):
            if ch == "{":
                if depth == 0:
                    prefix, inner = t[:k], t[k + 1 : t.rfind("}")]
                    parts, d, cur = [], 0, ""
                    for c2 in inner:
                        if c2 == "," and d == 0:
                            parts.append(cur)
                            cur = ""
                            continue
                        d += {"{": 1, "}": -1}.get(c2, 0)
                        cur += c2
                    parts.append(cur)
                    res = []
                    for p in parts:
                        if not p:
                            continue
                        for e in expand(p):
                            res.append(prefix[:-2] if e == "self" else prefix + e)
                    return res
                depth += 1
        return [t]

    return expand(tree)


def resolve(path, here, modules, children):
    """Absolute module path whose file holds the item `path` names from
    module `here`, or None for a path outside the crate."""
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    if segs[0] == "crate":
        cur, segs = (), segs[1:]
    elif segs[0] in ("super", "self"):
        cur = here
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                cur = cur[:-1]
            segs = segs[1:]
    elif segs[0] in children.get(here, ()):
        cur = here
    else:
        return None
    for s in segs:
        if cur + (s,) in modules:
            cur = cur + (s,)
        else:
            break
    return cur


def main():
    args = sys.argv[1:]
    strict = "--strict" in args
    show_edges = "--edges" in args
    rest = [a for a in args if not a.startswith("--")]
    src = rest[0] if rest else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "switchd", "src")
    src = os.path.normpath(src)

    files = {}  # module path -> file
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                p = os.path.join(root, name)
                mp = module_path(src, p)
                if mp is not None:
                    files[mp] = p
    codes = {mp: strip_comments_and_strings(open(p).read()) for mp, p in files.items()}
    blocks = {mp: inline_modules(code) for mp, code in codes.items()}

    # Every module, file-backed or inline, and the file it lives in.
    module_file = dict(files)
    for mp, bl in blocks.items():
        for start, _, name in bl:
            module_file[module_at(mp, bl, start) + (name,)] = files[mp]
    modules = set(module_file)
    children = {}
    for m in modules:
        if m:
            children.setdefault(m[:-1], set()).add(m[-1])

    edges = {f: {} for f in files.values()}  # file -> {imported file: first path}
    for mp, code in codes.items():
        f = files[mp]
        bl = blocks[mp]
        use_spans = []
        for m in re.finditer(r"(?<![\w:])use\s+([^;]+);", code):
            use_spans.append((m.start(), m.end()))
            here = module_at(mp, bl, m.start())
            for path in expand_use_tree(m.group(1)):
                target = resolve(path, here, modules, children)
                if target is not None and module_file[target] != f:
                    edges[f].setdefault(module_file[target], path)
        if not strict:
            continue
        kids = "|".join(sorted({c for m2 in modules for c in children.get(m2, ())})) or "$^"
        for m in re.finditer(r"(?<![\w:])((?:crate|super|self|%s)(?:::\w+)+)" % kids, code):
            if any(s <= m.start() < e for s, e in use_spans):
                continue
            here = module_at(mp, bl, m.start())
            target = resolve(m.group(1), here, modules, children)
            if target is not None and module_file[target] != f:
                edges[f].setdefault(module_file[target], m.group(1))

    rel = lambda p: os.path.relpath(p, os.path.dirname(src))  # noqa: E731
    if show_edges:
        for f in sorted(edges):
            for g in sorted(edges[f]):
                print(f"{rel(f)} -> {rel(g)}    ({edges[f][g]})")
        print()

    # Tarjan's strongly connected components.
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)

    mode = "strict (use statements and inline paths)" if strict else "use statements"
    n_edges = sum(len(e) for e in edges.values())
    print(f"{len(files)} files, {n_edges} import edges ({mode})")
    pairs = sorted(
        {tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, {})}
    )
    for a, b in pairs:
        print(f"MUTUAL: {rel(a)} ({edges[a][b]}) <-> {rel(b)} ({edges[b][a]})")
    cycles = [sorted(c) for c in sccs if len(c) > 1]
    for c in cycles:
        if len(c) > 2:
            print("CYCLE: " + " , ".join(rel(x) for x in c))
    if not pairs and not cycles:
        print("no file imports a file that imports it back; no longer cycle")
        return 0
    print(f"{len(pairs)} mutual pair(s), {len(cycles)} cyclic group(s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
