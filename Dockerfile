# syntax=docker/dockerfile:1
#
# The `proactivity` command in a small Ubuntu image.
#
#   docker build -t proactivity .
#   docker run --rm proactivity --help
#
# Stage 1 builds a release binary with the Swift runtime and Foundation linked in
# statically; stage 2 is plain Ubuntu 24.04 (noble) with librdkafka, jemalloc and what
# the binary reads at run time (Migrations/, topics/).
#
# librdkafka: the binary links the system library. Ubuntu noble ships librdkafka
# 2.3.0 (package 2.3.0-1build2, universe), both for the headers at build time
# (librdkafka-dev) and the library at run time (librdkafka1). The engine needs
# librdkafka >= 2.1 and logs a warning at start when it loads an older one; 2.3.0
# meets that.

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
FROM swift:6.3-noble AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librdkafka-dev libjemalloc-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first: this layer is rebuilt only when the manifest changes.
COPY Package.swift ./
RUN swift package resolve

# The manifest declares the test targets too, and SwiftPM checks every target's folder
# when it loads the package, so Tests/ is copied although only the command is built.
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product proactivity \
    && install -D -m 0755 .build/release/proactivity /out/proactivity

# ---------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------
FROM ubuntu:noble

# librdkafka1 (2.3.0 on noble) and its TLS/SASL/compression libraries; jemalloc, the
# allocator the binary links (Package.swift says why); CA certificates for TLS to Kafka
# and PostgreSQL; time zones for cron jobs; curl for health checks.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librdkafka1 libjemalloc2 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 proactivity \
    && useradd --system --uid 10001 --gid proactivity --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin proactivity

COPY --from=build /out/proactivity /usr/local/bin/proactivity
COPY Migrations /usr/share/proactivity/Migrations
COPY topics /usr/share/proactivity/topics

# Where `migrate` and `topics apply` read their definitions (also their built-in
# fallback); mount other folders and change these to use your own.
ENV PROACTIVITY_MIGRATIONS_DIR=/usr/share/proactivity/Migrations \
    PROACTIVITY_TOPICS_DIR=/usr/share/proactivity/topics \
    HTTP_PORT=9100

WORKDIR /usr/share/proactivity
USER proactivity:proactivity

# /healthz, /readyz and /metrics of every stage; the DLQ HTTP API on the mirror.
EXPOSE 9100

# SIGTERM starts a graceful shutdown bounded to 30 s: give containers a longer stop
# timeout than that (docker-compose.yml uses stop_grace_period: 40s).
STOPSIGNAL SIGTERM

ENTRYPOINT ["proactivity"]
CMD ["--help"]
