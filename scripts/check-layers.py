#!/usr/bin/env python3
"""Checks that the library's folders form layers: a folder's code may name only what folders of a
lower layer (or its own folder) declare. Prints the folder graph (an arrow where a folder's code
names something another folder declares) and fails on any arrow that runs against the layers.

Usage: scripts/check-layers.py [--graph]   (run from anywhere; reads Sources/Darkroom)

What counts as "naming": a type, protocol, typealias, top-level function or constant declared in
one folder, or a member declared in an `extension` (of our own or a standard type) whose name is
declared nowhere else in the library, used as an identifier in another folder's code (comments and
string literals stripped). The layers, lowest first, are LAYERS below; CONTRIBUTING.md draws them.
"""
import os
import re
import sys
from collections import defaultdict

# Lowest first. A folder may use its own folder and any folder of a strictly lower rank.
LAYERS = [
    ("Support",),              # locks, threads, JSONValue, text helpers: nothing of images
    ("Errors",),               # the error family and the words it speaks: ImageFormat, DecodeWarning, FailOn, CICP
    ("Limits",),               # the bounds of every outside value, and the one parser for them
    ("Image", "Files"),        # pixel model (Image, PixelFormat, PixelSize, Orientation); file I/O
    ("Color", "Resample"),     # colour conversion; the resampling core
    ("Codecs",),               # one file per format, ImageSource (header once, rows on demand)
    ("Pipeline",),             # the plan and the stages of a conversion
    ("Gateway",),              # OpenAI-shaped requests, billing, reference prep, responses
]
RANK = {folder: rank for rank, names in enumerate(LAYERS) for folder in names}

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "Darkroom")

DECL = re.compile(r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private|final|indirect|nonisolated)\s+)*"
                  r"(struct|enum|class|protocol|typealias|func|let|var|actor|extension)\s+([A-Za-z_][A-Za-z0-9_]*)")
MEMBER = re.compile(r"^\s+(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private|static|mutating|final|nonisolated|override|convenience)\s+)*"
                    r"(func|var|let|static func|static var|static let)\s+([A-Za-z_][A-Za-z0-9_]*)")
COMMON = {"init", "description", "json", "count", "value", "width", "height", "format", "pixels", "text", "name",
          "bytes", "kind", "message", "size", "result", "options", "image", "data", "header", "metadata", "rawValue"}


def strip(source):
    """Source without comments and string literal contents."""
    source = re.sub(r'"""[\s\S]*?"""', '""', source)
    source = re.sub(r"/\*[\s\S]*?\*/", " ", source)
    source = re.sub(r"//[^\n]*", "", source)
    source = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', source)
    return source


def folder_of(path):
    rel = os.path.relpath(path, ROOT)
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else "(root)"


def main():
    files = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if not d.endswith(".docc")]
        files += [os.path.join(dirpath, f) for f in filenames if f.endswith(".swift")]
    code = {f: strip(open(f, encoding="utf-8").read()) for f in files}

    declared = defaultdict(set)        # name -> folders that declare it at the top level
    members = defaultdict(set)         # extension member name -> folders
    any_member = defaultdict(set)      # every member name (of types and extensions) -> folders
    for f, src in code.items():
        folder = folder_of(f)
        depth = 0
        in_extension = False
        for line in src.split("\n"):
            if depth == 0:
                m = DECL.match(line)
                if m and m.group(1) != "extension":
                    declared[m.group(2)].add(folder)
                in_extension = bool(m and m.group(1) == "extension")
            elif depth == 1:
                m = MEMBER.match(line)
                if m:
                    any_member[m.group(2)].add(folder)
                    if in_extension:
                        members[m.group(2)].add(folder)
            depth += line.count("{") - line.count("}")
    # Extension members count when their name is distinctive: declared (as any member) in one
    # folder only, nowhere as a top-level name, and not a common word.
    names = {n: fs for n, fs in declared.items() if len(fs) == 1}
    for n, fs in members.items():
        if len(fs) == 1 and any_member[n] == fs and n not in declared and n not in COMMON:
            names[n] = fs

    folders = sorted({folder_of(f) for f in files})
    unknown = [f for f in folders if f not in RANK]
    edges = defaultdict(lambda: defaultdict(set))   # from -> to -> names
    ident = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    for f, src in code.items():
        here = folder_of(f)
        for token in set(ident.findall(src)):
            owner = names.get(token)
            if owner:
                (there,) = owner
                if there != here:
                    edges[here][there].add(token)

    bad = []
    for a in sorted(edges):
        for b in sorted(edges[a]):
            ok = a in RANK and b in RANK and RANK[b] < RANK[a]
            if not ok:
                bad.append((a, b, sorted(edges[a][b])))
    if "--graph" in sys.argv or bad or unknown:
        for a in sorted(edges, key=lambda x: RANK.get(x, 99)):
            targets = sorted(edges[a], key=lambda x: RANK.get(x, 99))
            print(f"{a:9} -> " + ", ".join(targets))
    for f in unknown:
        print(f"check-layers: folder {f} has no layer: add it to LAYERS in scripts/check-layers.py and to CONTRIBUTING.md")
    for a, b, used in bad:
        print(f"check-layers: {a} -> {b} runs against the layers ({', '.join(used[:8])}{' …' if len(used) > 8 else ''})")
    if bad or unknown:
        return 1
    print(f"check-layers: {len(folders)} folders, {sum(len(v) for v in edges.values())} arrows, all downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
