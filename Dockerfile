# syntax=docker/dockerfile:1
# Millrace image: millrace-broker, millrace-operator and the millrace CLI in one image
# (docs/image.md: building it, running it, its size).
#   make image            compile in the build stage (buildah where there is no Docker engine)
#   make image-prebuilt   pack the binaries of an existing build tree (BUILD=build/release)
# The build stage compiles with the project's own scripts/install-deps, so the image and
# CI install the same packages and cannot drift. The runtime stage is bookworm-slim plus
# exactly the packages that own the shared libraries the binaries load
# (scripts/image/runtime-packages), running as an unprivileged user.
# BINARIES names the stage the runtime stage takes the binaries from: "build" compiles
# them here; "prebuilt" takes a build tree's, which scripts/image/stage-prebuilt lays out
# as a build context of its own (prebuilt/usr/local/bin/*, prebuilt/runtime-packages.txt).
# Builders skip the stage not named (BuildKit, buildah), so either needs only its context.

ARG DEBIAN_RELEASE=bookworm
ARG BINARIES=build

FROM debian:${DEBIAN_RELEASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# Compile jobs; empty means one per core.
ARG JOBS=""
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
# Debian packages follow the release (security updates), not pinned versions.
# hadolint ignore=DL3008
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates \
 && bash scripts/install-deps \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j "${JOBS:-$(nproc)}" --target millrace-broker millrace-operator millrace \
 && install -D -m 0755 /build/broker/millrace-broker /out/usr/local/bin/millrace-broker \
 && install -D -m 0755 /build/operator/millrace-operator /out/usr/local/bin/millrace-operator \
 && install -D -m 0755 /build/client/millrace /out/usr/local/bin/millrace \
 && strip /out/usr/local/bin/*
# The Debian packages that own every shared library the binaries load: the runtime stage
# installs exactly these.
COPY scripts/image/runtime-packages /usr/local/sbin/runtime-packages
RUN runtime-packages /out/usr/local/bin/* > /out/runtime-packages.txt \
 && cat /out/runtime-packages.txt

# The binaries of a build tree instead (make image-prebuilt): the context is
# scripts/image/stage-prebuilt's directory, not the checkout.
FROM scratch AS prebuilt
COPY prebuilt/ /out/

FROM ${BINARIES} AS binaries

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="millrace" \
      org.opencontainers.image.description="Kafka-compatible streaming platform: broker, Kubernetes operator and CLI" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/millrace/millrace" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
COPY --from=binaries /out/runtime-packages.txt /tmp/runtime-packages.txt
# hadolint ignore=DL3008
RUN apt-get update -qq \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y -qq --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 millrace \
 && useradd --system --uid 10001 --gid millrace --home-dir /var/lib/millrace --shell /usr/sbin/nologin millrace \
 && install -d -o millrace -g millrace /var/lib/millrace /etc/millrace
COPY --from=binaries /out/usr/local/bin/ /usr/local/bin/
USER 10001:10001
WORKDIR /var/lib/millrace
# 9092 Kafka protocol, 9644 broker admin (/metrics /healthz /readyz),
# 8080/8081 operator metrics and health.
EXPOSE 9092 9644 8080 8081
ENV MILLRACE_LOG_DIRS=/var/lib/millrace/data
# For `docker run` and podman: the broker's /healthz on its admin port (9644, or
# MILLRACE_ADMIN_PORT where admin.listeners moves it). Kubernetes ignores HEALTHCHECK;
# the chart probes /healthz (liveness) and /readyz (readiness) on the same port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${MILLRACE_ADMIN_PORT:-9644} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/millrace-broker"]
CMD ["--set", "listeners=PLAINTEXT://0.0.0.0:9092", "--set", "admin.listeners=http://0.0.0.0:9644"]
