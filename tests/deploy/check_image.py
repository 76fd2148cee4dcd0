#!/usr/bin/env python3
"""Checks the Lambda image's Dockerfile against the binary it ships.

  check_image.py BINARY...

For every shared library `ldd BINARY` resolves, finds the Debian package that provides it
(dpkg -S) and requires that package in the final stage's `apt-get install` list, so the
image cannot miss a library whatever the binary links today. Also checks the rest of the
final stage's file list (the binary at /usr/local/bin/csvpipe, CA certificates, no build
tools) and the build stage (debian:12-slim, scripts/deps.sh build, make).
"""
import json
import os
import re
import shlex
import subprocess
import sys

from cfn import SOURCE_DIR, Report

DOCKERFILE = os.path.join(SOURCE_DIR, "Dockerfile")
# Sanitizer runtimes appear in the test build only (make test builds with ASan/UBSan); the
# image is built with `make build` (Release, no sanitizers).
SANITIZER_RUNTIMES = re.compile(r"lib(asan|ubsan|lsan|tsan|hwasan)\.so")

rep = Report()
check = rep.check


def stages(text):
    """[(from_line, [instructions])] with continuation lines joined, comments dropped."""
    lines = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.upper().startswith("FROM "):
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), line.split()[1])
            out.append((base, line, []))
        elif out:
            out[-1][2].append(line)
    return out


def apt_packages(instructions):
    pkgs = set()
    for ins in instructions:
        if not ins.upper().startswith("RUN "):
            continue
        for cmd in re.split(r"&&|;|\|\|", ins[4:]):
            words = shlex.split(cmd)
            words = [w for w in words if "=" not in w or w.startswith("-")]  # drop VAR=value prefixes
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
                pkgs |= {w for w in words[words.index("install") + 1:] if not w.startswith("-")}
    return pkgs


def package_of(path):
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        cands.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for c in cands:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    return None


def needed(binary):
    """Sonames the binary itself names (DT_NEEDED); ldd also lists their dependencies."""
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def closure(packages):
    """The packages apt installs for `packages`: their Depends and Pre-Depends, recursively,
    as this Debian 12 machine's dpkg database records them (first of each alternative)."""
    seen, todo = set(), list(packages)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", p], capture_output=True, text=True)
        for dep in r.stdout.split(","):
            name = dep.split("|")[0].strip().split(" ")[0].split(":")[0]
            if name:
                todo.append(name)
    return seen


def linked_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if not m:
            continue
        path = m.group(2) if m.lastindex == 2 else m.group(1)
        if path == "not":
            check(False, f"{binary}: {m.group(1)} resolves", "ldd says not found")
            continue
        libs.append((os.path.basename(m.group(1)), path))
    return libs


text = open(DOCKERFILE).read()
st = stages(text)
check(len(st) >= 2, "Dockerfile is multi-stage", f"{len(st)} stages")
build_base, _, build = st[0]
final_base, _, final = st[-1]
check(build_base == "debian:12-slim" and final_base == "debian:12-slim", "both stages from debian:12-slim", f"{build_base}, {final_base}")
check(any("scripts/deps.sh build" in i for i in build if i.upper().startswith("RUN")), "build stage runs scripts/deps.sh build")
check(any(re.search(r"\bmake\b", i) for i in build if i.upper().startswith("RUN")), "build stage runs make")
pkgs = apt_packages(final)
check("ca-certificates" in pkgs, "final stage installs CA certificates")
check(not {p for p in pkgs if p.endswith("-dev") or p in ("gcc", "make", "cmake", "pkg-config", "build-essential")},
      "final stage has no compiler or -dev package", f"{sorted(pkgs)}")
copies = [i for i in final if i.upper().startswith("COPY")]
check(any(re.match(r"COPY\s+--from=\S+\s+\S*build/csvpipe\s+/usr/local/bin/csvpipe$", c) for c in copies),
      "final stage copies the built binary to /usr/local/bin/csvpipe", f"{copies}")
check(all("--from=" in c for c in copies), "final stage copies nothing but build products", f"{copies}")
entry = [i for i in final if i.upper().startswith("ENTRYPOINT")]
check(len(entry) == 1 and json.loads(entry[0].split(None, 1)[1]) == ["/usr/local/bin/csvpipe", "lambda"],
      'ENTRYPOINT ["/usr/local/bin/csvpipe", "lambda"]', f"{entry}")

binaries = sys.argv[1:]
installed = closure(pkgs)
for binary in binaries:
    direct = needed(binary)
    libs = linked_libraries(binary)
    check(len(libs) >= 3, f"{binary}: ldd lists {len(libs)} libraries")
    for soname, path in libs:
        if SANITIZER_RUNTIMES.search(soname):
            print(f"# {soname}: sanitizer runtime of the test build, not in the release image")
            continue
        pkg = package_of(path)
        if not check(pkg is not None, f"{soname}: a Debian package provides {path}"):
            continue
        if soname in direct:
            check(pkg in pkgs, f"{soname} ({pkg}): linked directly, named in the final stage's apt-get install",
                  f"install list: {sorted(pkgs)}")
        else:
            check(pkg in installed, f"{soname} ({pkg}): linked through another library, installed as a dependency",
                  f"not in the dependency closure of {sorted(pkgs)}")
rep.done()
