# syntax=docker/dockerfile:1
# Millrace image: millrace-broker, millrace-operator and the millrace CLI in one image.
#   make image                    (docker build -t millrace:<version> .)
# Stage 1 builds with the project's own scripts/install-deps, so the image and CI
# install the same packages and cannot drift. Stage 2 is bookworm-slim plus exactly the
# shared libraries the binaries link (found with ldd + dpkg -S in stage 1), running as
# an unprivileged user.

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
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
 && cmake --build /build -j "$(nproc)" --target millrace-broker millrace-operator millrace \
 && install -D -m 0755 /build/broker/millrace-broker /out/usr/local/bin/millrace-broker \
 && install -D -m 0755 /build/operator/millrace-operator /out/usr/local/bin/millrace-operator \
 && install -D -m 0755 /build/client/millrace /out/usr/local/bin/millrace \
 && strip /out/usr/local/bin/*
# The Debian packages that own every shared library the binaries load: the runtime stage
# installs exactly these.
RUN ldd /out/usr/local/bin/* | awk '/=> \//{print $3}' | sort -u \
  | xargs -r dpkg -S 2>/dev/null | cut -d: -f1 | sort -u \
  | grep -v -E '^(libc6|libgcc-s1|libstdc\+\+6)$' > /out/runtime-packages.txt \
 && cat /out/runtime-packages.txt

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
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
# hadolint ignore=DL3008
RUN apt-get update -qq \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y -qq --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 millrace \
 && useradd --system --uid 10001 --gid millrace --home-dir /var/lib/millrace --shell /usr/sbin/nologin millrace \
 && install -d -o millrace -g millrace /var/lib/millrace /etc/millrace
COPY --from=build /out/usr/local/bin/ /usr/local/bin/
USER 10001:10001
WORKDIR /var/lib/millrace
# 9092 Kafka protocol, 9644 broker admin (/metrics /healthz /readyz),
# 8080/8081 operator metrics and health.
EXPOSE 9092 9644 8080 8081
ENV MILLRACE_LOG_DIRS=/var/lib/millrace/data
ENTRYPOINT ["/usr/local/bin/millrace-broker"]
CMD ["--set", "listeners=PLAINTEXT://0.0.0.0:9092", "--set", "admin.listeners=http://0.0.0.0:9644"]
