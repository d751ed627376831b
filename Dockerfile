# resource-manager image: one static binary FROM scratch.
#
# With access to Debian's mirrors: `docker build -t resource-manager .` builds
# the binary in the first stage (scripts/build-static.sh) and keeps only it.
# Without (as on the development machines): scripts/build-image.sh builds the
# binary on the host and then this file's final stage alone.

FROM debian:bookworm AS builder
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config dpkg-dev ca-certificates curl \
      libjansson-dev libcyaml-dev libyaml-dev libcurl4-openssl-dev libcivetweb-dev \
      libjs-chart.js \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/build-static.sh

# ---- final ----
FROM scratch AS final
COPY --from=builder /src/build-static/resource-manager /resource-manager
COPY --from=builder /src/config/config.yml /config/config.yml
# Empty, writable-by-1000 mount points for the state and the log file.
COPY --from=builder --chown=1000:1000 /src/docker/rootfs/data /data
COPY --from=builder --chown=1000:1000 /src/docker/rootfs/logs /logs
USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/resource-manager", "healthcheck"]
ENTRYPOINT ["/resource-manager"]
CMD ["run"]
