#!/usr/bin/env bash
# Assembles the root file system of the Lambda image's final stage, distroless style: the
# Dockerfile's build stage runs it and the final stage (FROM scratch) copies the result.
#
#   scripts/image-rootfs.sh BINARY DEST
#
# DEST gets exactly:
#   /usr/local/bin/csvpipe       BINARY
#   the shared libraries         every file `ldd BINARY` resolves (the loader included),
#                                each under its soname in its real directory, with the
#                                merged-/usr links /lib and /lib64, and /etc/ld.so.cache
#                                (the loader finds each library without probing)
#   /etc/ssl/certs/ca-certificates.crt   libcurl's CA bundle (TLS to S3, DynamoDB, ...):
#                                Debian's, as update-ca-certificates writes it from the
#                                ca-certificates package (the certificates
#                                /etc/ca-certificates.conf selects, in its order) and
#                                without the machine's own additions under
#                                /usr/local/share/ca-certificates (a proxy's CA of the
#                                machine that builds it has no place in the image)
#   /etc/passwd, /etc/group      root and nobody (65534), the user the image runs as
#   /etc/nsswitch.conf           files, then DNS (glibc >= 2.34 has both built in: no NSS
#                                module is loaded at run time)
#   /tmp                         mode 1777 (Lambda's only writable folder)
#   /usr/lib/os-release, /var/lib/dpkg/status.d/<package>, /usr/share/doc/<package>/copyright
#                                for each Debian package a file comes from: scanners (ECR's
#                                scan on push) see the packages and versions, and the
#                                licences travel with the libraries
#
# Nothing else: no shell, no package manager. What the libraries load at run time beyond
# their DT_NEEDED entries is none here: glibc's NSS "files" and "dns" are inside libc.so.6,
# libgcc_s (pthread_exit's unwinder) is already linked through libstdc++, csvpipe uses no
# iconv (no gconv modules), OpenSSL 3's default provider is inside libcrypto, and GnuTLS,
# Kerberos and SASL load their plugins only for features csvpipe never uses (RTMPS, GSSAPI
# and LDAP logins). tests/cli/deploy_rehearsal.sh checks this on the running image with
# LD_DEBUG: every library the process looks for is in the image.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BINARY DEST" >&2
    exit 2
fi
bin=$1
dest=$2
bundle=/etc/ssl/certs/ca-certificates.crt
certs=/usr/share/ca-certificates
conf=/etc/ca-certificates.conf

[ -x "$bin" ] || { echo "image-rootfs: $bin is not an executable" >&2; exit 1; }
[ -s "$conf" ] || { echo "image-rootfs: $conf is missing: install ca-certificates" >&2; exit 1; }

mkdir -p "$dest"
install -D -m 0755 "$bin" "$dest/usr/local/bin/csvpipe"

# The merged-/usr links of the build stage (/lib -> usr/lib, /lib64 -> usr/lib64).
for d in /lib /lib64; do
    if [ -L "$d" ]; then
        ln -sfn "$(readlink "$d")" "$dest$d"
    fi
done

# ldd prints "name => /path (addr)" for a library and "/path (addr)" for the loader.
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
files=()
while read -r line; do
    case "$line" in
    *"not found"*)
        echo "image-rootfs: $bin: $line" >&2
        exit 1
        ;;
    *" => /"*) path=${line#* => } ;;
    /*) path=$line ;;
    *) continue ;; # linux-vdso.so.1: the kernel's
    esac
    path=${path%% (*}
    dir=$(realpath "$(dirname "$path")")
    mode=0644
    [ "$path" = "$interp" ] && mode=0755
    install -D -m "$mode" "$(realpath "$path")" "$dest$dir/$(basename "$path")"
    files+=("$path")
done < <(ldd "$bin")
((${#files[@]} > 0)) || { echo "image-rootfs: ldd found no library in $bin" >&2; exit 1; }

# update-ca-certificates' bundle without its last part (the local certificates): each
# selected certificate, ending with a newline.
mkdir -p "$dest${bundle%/*}"
n=0
while IFS= read -r crt; do
    case "$crt" in "" | "#"* | "!"*) continue ;; esac
    [ -f "$certs/$crt" ] || continue # update-ca-certificates skips it too, with a warning
    sed -e '$a\' "$certs/$crt"
    n=$((n + 1))
done <"$conf" >"$dest$bundle"
((n > 0)) || { echo "image-rootfs: $conf selects no certificate" >&2; exit 1; }
chmod 0644 "$dest$bundle"

mkdir -p "$dest/etc" "$dest/tmp"
chmod 1777 "$dest/tmp"
cat >"$dest/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$dest/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat >"$dest/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF

# The loader's cache of the image's own libraries.
printf '%s\n' /usr/lib/x86_64-linux-gnu /usr/local/lib >"$dest/etc/ld.so.conf"
ldconfig -r "$dest"

install -D -m 0644 /usr/lib/os-release "$dest/usr/lib/os-release"
ln -sfn ../usr/lib/os-release "$dest/etc/os-release"

# The Debian package of every file shipped, for scanners and licences.
# (dpkg -S knows /usr/lib/... or /lib/..., depending on the package: ask for both.)
real=()
for f in "${files[@]}"; do
    real+=("$(realpath "$f")" "$f")
done
mapfile -t packages < <({ dpkg -S "${real[@]}" 2>/dev/null || true; } | sed 's/[:,].*//'
                         echo ca-certificates)
mkdir -p "$dest/var/lib/dpkg/status.d"
for p in $(printf '%s\n' "${packages[@]}" | sort -u); do
    dpkg-query -s "$p" >"$dest/var/lib/dpkg/status.d/$p"
    if [ -f "/usr/share/doc/$p/copyright" ]; then
        install -D -m 0644 "/usr/share/doc/$p/copyright" "$dest/usr/share/doc/$p/copyright"
    fi
done

# Lambda runs the image as an unprivileged user of its own: everything readable.
chmod -R a+rX "$dest"
chmod 1777 "$dest/tmp"
