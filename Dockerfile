# syntax=docker/dockerfile:1
# The csvpipe Lambda container image (also runs as an ECS task: `csvpipe run s3://...`).
# Lambda runs any image that speaks the Runtime API; `csvpipe lambda` does, so no AWS base
# image and no runtime interface client are needed.
#
#   docker build --platform linux/amd64 --provenance=false -t csvpipe-lambda .
#
# tests/cli/deploy_image.sh checks that the final stage installs the Debian package of
# every library `ldd build/csvpipe` shows: keep RUNTIME_PACKAGES in step with scripts/deps.sh.

ARG DEBIAN_IMAGE=debian:12-slim

# ---- build: the same dependency script and make as a developer runs ----
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make build BUILD=build && strip build/csvpipe

# ---- runtime: the binary, the shared libraries it links, CA certificates ----
FROM ${DEBIAN_IMAGE} AS runtime
# libcurl4 libpq5 libsqlite3-0 libsnappy1v5 libzstd1 zlib1g libbz2-1.0 liblzma5 libjansson4:
# the -dev packages of scripts/deps.sh, runtime side; libc6 libstdc++6 libgcc-s1: the C/C++
# runtime (snappy is C++); ca-certificates: TLS to S3, DynamoDB, Secrets Manager and RDS.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates \
        libbz2-1.0 \
        libc6 \
        libcurl4 \
        libgcc-s1 \
        libjansson4 \
        liblzma5 \
        libpq5 \
        libsnappy1v5 \
        libsqlite3-0 \
        libstdc++6 \
        libzstd1 \
        zlib1g \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/csvpipe /usr/local/bin/csvpipe
# Lambda's file system is read-only but /tmp; csvpipe never needs local disk.
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/csvpipe", "lambda"]
