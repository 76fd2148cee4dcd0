#!/usr/bin/env python3
"""Checks the Lambda image's Dockerfile and the root file system its final stage copies.

  check_image.py ROOTFS BINARY

ROOTFS is what scripts/image-rootfs.sh assembled for BINARY (the build stage runs the same
script). The Dockerfile: a build stage from debian:12-slim that runs scripts/deps.sh build,
make with the commit as a build argument, and scripts/image-rootfs.sh; a final stage FROM
scratch that copies the build stage's root file system and nothing else, runs as a
non-root numeric user and has the Lambda entrypoint. The tree: every library `ldd BINARY`
resolves is there under its soname where the loader looks, every DT_NEEDED of every ELF
file in it resolves inside it, and there is no other ELF file (exactly the binary's
libraries); the program interpreter; Debian's CA certificates (the system bundle without
the machine's own additions); a passwd and group entry for the Dockerfile's user; /tmp
writable by all; no shell; the dpkg record of each library's package. With a release binary
and root, csvpipe runs from the tree alone (chroot, as the image's user).
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys

from cfn import SOURCE_DIR, Report

DOCKERFILE = os.path.join(SOURCE_DIR, "Dockerfile")
LIB_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib", "/lib64", "/usr/lib64"]
SANITIZER = re.compile(r"lib(asan|ubsan|lsan|tsan|hwasan)\.so")

rep = Report()
check = rep.check


def stages(text):
    """[(base, [instructions])] with continuation lines joined and comments dropped."""
    lines = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.upper().startswith("FROM "):
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), line.split()[1])
            out.append((base, []))
        elif out:
            out[-1][1].append(line)
    return out


def inside(root, path):
    """path resolved inside root (symbolic links followed within root), or None."""
    parts = [p for p in path.split("/") if p]
    cur = "/"
    for _ in range(40):
        if not parts:
            return cur
        p = parts.pop(0)
        nxt = os.path.join(cur, p)
        full = root + nxt
        if os.path.islink(full):
            target = os.readlink(full)
            parts = [x for x in target.split("/") if x] + parts
            cur = "/" if target.startswith("/") else cur
            continue
        if not os.path.exists(full):
            return None
        cur = nxt
    return None


def elf_info(path):
    """(is ELF, [DT_NEEDED], interpreter or None)."""
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return False, [], None
    dyn = subprocess.run(["readelf", "-dW", path], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    hdr = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", hdr)
    return True, needed, m.group(1) if m else None


def ldd(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if m:
            libs.append((os.path.basename(m.group(1)), m.group(2) if m.lastindex == 2 else m.group(1)))
    return libs


root, binary = sys.argv[1], sys.argv[2]

# ---- the Dockerfile ----
st = stages(open(DOCKERFILE).read())
check(len(st) == 2, "Dockerfile: a build stage and a final stage", f"{len(st)} stages")
(build_base, build), (final_base, final) = st[0], st[-1]
runs = " ".join(i for i in build if i.upper().startswith("RUN "))
check(build_base == "debian:12-slim", "build stage from debian:12-slim", build_base)
check("scripts/deps.sh build" in runs, "build stage runs scripts/deps.sh build")
check(re.search(r"\bmake build\b", runs) is not None, "build stage runs make build")
check(any(re.match(r"ARG\s+CSVPIPE_GIT_HASH\b", i) for i in build),
      "build stage takes the commit as the build argument CSVPIPE_GIT_HASH (the context has no .git)")
check("scripts/image-rootfs.sh build/csvpipe /rootfs" in runs, "build stage assembles /rootfs with scripts/image-rootfs.sh")
check(final_base == "scratch", "final stage FROM scratch (distroless: no shell, no package manager)", final_base)
copies = [i for i in final if i.upper().startswith(("COPY", "ADD"))]
check(copies and all(re.match(r"COPY\s+--from=build\s+/rootfs/?\s+/$", c) for c in copies),
      "final stage copies the build stage's /rootfs and nothing else", f"{copies}")
check(not any(i.upper().startswith("RUN ") for i in final), "final stage runs nothing")
user = [i.split(None, 1)[1] for i in final if i.upper().startswith("USER ")]
uid, _, gid = (user[-1] if user else "0").partition(":")
check(user and uid.isdigit() and uid != "0", "final stage runs as a numeric non-root user", f"{user}")
entry = [i for i in final if i.upper().startswith("ENTRYPOINT")]
check(len(entry) == 1 and json.loads(entry[0].split(None, 1)[1]) == ["/usr/local/bin/csvpipe", "lambda"],
      'ENTRYPOINT ["/usr/local/bin/csvpipe", "lambda"]', f"{entry}")

# ---- the tree ----
exe = os.path.join(root, "usr/local/bin/csvpipe")
check(os.path.isfile(exe) and os.access(exe, os.X_OK), "the binary at /usr/local/bin/csvpipe")
elves, interps = {}, set()
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        is_elf, needed, interp = elf_info(p)
        if is_elf:
            elves["/" + os.path.relpath(p, root)] = needed
            if interp:
                interps.add(interp)
for interp in sorted(interps):
    check(inside(root, interp) is not None, f"program interpreter {interp} in the tree")

sanitized = False
wanted = set()
for soname, path in ldd(binary):
    sanitized |= SANITIZER.search(soname) is not None
    if path == soname:  # the loader: ldd prints its absolute path
        found = inside(root, path)
    else:
        found = next((f for f in (inside(root, f"{d}/{soname}") for d in LIB_DIRS) if f), None)
    if check(found is not None, f"{soname}: in the tree where the loader looks", f"ldd: {path}"):
        wanted.add(os.path.realpath(root + found))

unresolved = []
for p, needed in sorted(elves.items()):
    for n in needed:
        if not any(inside(root, f"{d}/{n}") for d in LIB_DIRS):
            unresolved.append(f"{p}: {n}")
check(not unresolved, f"every DT_NEEDED of the {len(elves)} ELF files resolves inside the tree", "; ".join(unresolved))
extra = sorted(p for p in elves if p != "/usr/local/bin/csvpipe" and os.path.realpath(root + p) not in wanted)
check(not extra, "no ELF file but the binary and the libraries ldd shows", f"{extra}")

PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
bundle = "/etc/ssl/certs/ca-certificates.crt"
got = PEM.findall(open(root + bundle, "rb").read()) if os.path.isfile(root + bundle) else []
want = []
for line in open("/etc/ca-certificates.conf", encoding="utf-8").read().splitlines():
    path = os.path.join("/usr/share/ca-certificates", line)
    if line and not line.startswith(("#", "!")) and os.path.isfile(path):
        want += PEM.findall(open(path, "rb").read())
local = []
for d, _, names in os.walk("/usr/local/share/ca-certificates"):
    local += [c for n in names if n.endswith(".crt") for c in PEM.findall(open(os.path.join(d, n), "rb").read())]
system = PEM.findall(open(bundle, "rb").read())
check(want and got == want, f"CA certificates at {bundle}: Debian's, the {len(want)} that /etc/ca-certificates.conf "
      f"selects, in its order", f"{len(got)} in the tree")
check(not set(local) & set(got), f"none of this machine's own CA certificates ({len(local)} here)")
check(set(system) == set(want) | set(local), "the system bundle holds the same and the machine's own, no other",
      f"{len(system)} in the system bundle")
passwd = [l.split(":") for l in open(os.path.join(root, "etc/passwd")).read().splitlines()] \
    if os.path.isfile(os.path.join(root, "etc/passwd")) else []
group = [l.split(":") for l in open(os.path.join(root, "etc/group")).read().splitlines()] \
    if os.path.isfile(os.path.join(root, "etc/group")) else []
check(any(len(e) >= 7 and e[2] == uid for e in passwd), f"/etc/passwd has the user {uid}", f"{passwd}")
check(not gid or any(len(e) >= 3 and e[2] == gid for e in group), f"/etc/group has the group {gid}", f"{group}")
tmp = os.lstat(os.path.join(root, "tmp")) if os.path.isdir(os.path.join(root, "tmp")) else None
check(tmp is not None and stat.S_IMODE(tmp.st_mode) == 0o1777, "/tmp with mode 1777")
check(not any(inside(root, s) for s in ("/bin/sh", "/usr/bin/sh", "/bin/bash")), "no shell")
status_d = os.path.join(root, "var/lib/dpkg/status.d")
recorded = set(os.listdir(status_d)) if os.path.isdir(status_d) else set()
check({"libc6", "libcurl4", "libpq5", "ca-certificates"} <= recorded,
      f"dpkg records of the packages shipped ({len(recorded)})", f"{sorted(recorded)}")

if sanitized:
    print("# the binary is a sanitizer build (it needs /proc): not run from the tree")
elif os.geteuid() != 0:
    print("# not root: csvpipe not run from the tree (chroot)")
else:
    r = subprocess.run([shutil.which("chroot") or "/usr/sbin/chroot", f"--userspec={uid}:{gid or uid}", root, "/usr/local/bin/csvpipe", "version"],
                       capture_output=True, text=True, env={})
    check(r.returncode == 0 and r.stdout.startswith("csvpipe version"),
          f"csvpipe version runs from the tree alone as user {uid}", f"exit {r.returncode}: {r.stderr.strip()}")
rep.done()
