# syntax=docker/dockerfile:1
# The csvpipe Lambda container image (also runs as an ECS task: `csvpipe run s3://...`).
# Lambda runs any image that speaks the Runtime API; `csvpipe lambda` does, so no AWS base
# image and no runtime interface client are needed.
#
#   make image      (docker when its daemon answers, else buildah: scripts/image.sh; on a
#                   Debian 12 machine buildah may run this build stage's commands on the
#                   machine itself and build only the final stage below, unchanged but for
#                   the COPY reading the tree from the context: keep that COPY the final
#                   stage's only one, and the build stage's RUN in step with image.sh's host
#                   stage)
#   docker build --platform linux/amd64 --provenance=false \
#       --build-arg CSVPIPE_GIT_HASH=$(git rev-parse --short=12 HEAD) -t csvpipe-lambda .
#
# The final stage is distroless: FROM scratch with what scripts/image-rootfs.sh gathers in
# the build stage (the binary, exactly the shared libraries `ldd` resolves for it, CA
# certificates, passwd/group, os-release and the packages' dpkg records): about 25 MB,
# no shell, no package manager. tests/cli/deploy_image.sh checks the assembled tree;
# tests/cli/deploy_rehearsal.sh builds and runs the image.

ARG DEBIAN_IMAGE=debian:12-slim

# ---- build: the same dependency script and make as a developer runs ----
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && scripts/deps.sh build \
    && rm -rf /var/lib/apt/lists/*
# What `make build` reads, and nothing else: a change to tests or docs keeps the cache.
COPY Makefile CMakeLists.txt ./
COPY scripts/ scripts/
COPY tools/ tools/
COPY src/ src/
# The build context has no .git: the commit comes in as an argument (`csvpipe version`).
ARG CSVPIPE_GIT_HASH=
RUN make build BUILD=build \
    && strip build/csvpipe \
    && scripts/image-rootfs.sh build/csvpipe /rootfs \
    && chroot --userspec=65534:65534 /rootfs /usr/local/bin/csvpipe version

# ---- runtime: nothing but /rootfs ----
FROM scratch AS runtime
ARG CSVPIPE_GIT_HASH=
LABEL org.opencontainers.image.title="csvpipe-lambda" \
      org.opencontainers.image.revision="${CSVPIPE_GIT_HASH}"
COPY --from=build /rootfs/ /
# Lambda's file system is read-only but /tmp; csvpipe never needs local disk.
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/csvpipe", "lambda"]
