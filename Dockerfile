# syntax=docker/dockerfile:1
# eddy as a container: Kinesis + S3 + /_eddy on port 4566 (docs/ci.md).
#   docker build -t eddy .
#   docker run --rm -p 4566:4566 eddy                     # data in the volume /var/lib/eddy
#   docker run --rm -p 4566:4566 -e EDDY_IN_MEMORY=true eddy
# Every `eddy serve` flag is also an EDDY_* variable (--data-dir: EDDY_DATA_DIR).
# tests/e2e/test_container_files.sh checks this file offline (packages exist in Debian, the
# runtime stage has every library the binary needs, paths and user agree).

# ---- build: the packages and build command of ./dev, so the image builds as CI does ---------
FROM debian:bookworm AS build
WORKDIR /src
COPY dev ./
# BUILD_PKGS in ./dev is the one list of build packages.
RUN ./dev deps build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/root/.cache/ccache \
    ./dev build eddy \
 && mkdir -p /out && strip -o /out/eddy /src/build/eddy

# ---- run: the binary, its shared libraries, curl (HEALTHCHECK), the AWS CLI (init scripts) --
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libprotobuf32 libisal2 libssl3 libsnappy1v5 zlib1g libbz2-1.0 liblz4-1 libzstd1 \
      libspdlog1.10 libfmt9 libpugixml1v5 libnghttp2-14 libstdc++6 libgcc-s1 \
      curl ca-certificates tini awscli \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 eddy \
 && useradd --system --uid 10001 --gid eddy --create-home --home-dir /home/eddy --shell /usr/sbin/nologin eddy \
 && mkdir -p /var/lib/eddy /etc/eddy/init/ready.d /etc/localstack/init/ready.d \
 && chown eddy:eddy /var/lib/eddy
COPY --from=build /out/eddy /usr/local/bin/eddy
COPY docker/awslocal /usr/local/bin/awslocal
# Inside a container eddy listens on every interface; data goes to the volume.
ENV EDDY_HOST=0.0.0.0 \
    EDDY_PORT=4566 \
    EDDY_DATA_DIR=/var/lib/eddy
VOLUME ["/var/lib/eddy"]
EXPOSE 4566
USER eddy
WORKDIR /home/eddy
HEALTHCHECK --interval=2s --timeout=2s --start-period=5s --retries=15 \
  CMD curl -fsS "http://127.0.0.1:${EDDY_PORT}/_eddy/health" >/dev/null || exit 1
# tini reaps what init scripts leave behind and passes SIGTERM on (eddy then drains and flushes).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/eddy"]
CMD ["serve"]
