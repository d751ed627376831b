#!/usr/bin/env bash
# common.sh: set-up shared by scripts/run.sh and scripts/test.sh: Debian
# packages, the build, and the local services (dockerd, Prometheus,
# Alertmanager) started on loopback and stopped by PID.

RM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RM_STARTED_PIDS=()

rm_log() { printf '==> [%3d s] %s\n' "$SECONDS" "$*" >&2; }
rm_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

RM_BUILD_PACKAGES=(build-essential cmake pkg-config curl libcurl4-openssl-dev libjansson-dev
  libcyaml-dev libyaml-dev libcivetweb-dev libjs-chart.js)
RM_RUN_PACKAGES=(docker.io)
RM_TEST_PACKAGES=(libcmocka-dev clang libclang-rt-14-dev clang-format cppcheck faketime docker.io busybox-static
  prometheus prometheus-alertmanager chromium chromium-driver python3-selenium haproxy hey docker-compose)

# Installs the packages that are not installed yet (one apt-get update first).
rm_install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || rm_die "missing packages (${missing[*]}) and not root: install them with apt-get"
  rm_log "installing Debian packages: ${missing[*]}"
  # Daemons must not start from their packages' scripts (haproxy, dockerd,
  # prometheus): a policy-rc.d that refuses, for the time of the install.
  export DEBIAN_FRONTEND=noninteractive
  local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  apt-get update -qq >/dev/null || rc=1
  [ $rc -eq 0 ] && { apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=2; }
  [ $own_policy -eq 1 ] && rm -f "$policy"
  [ $rc -ne 1 ] || rm_die "apt-get update failed"
  [ $rc -ne 2 ] || rm_die "apt-get install failed for: ${missing[*]}"
}

# rm_build DIR [cmake options...]: configures and builds into DIR (only the
# targets named in RM_TARGETS when it is set).
rm_build() {
  local dir=$1 targets=(); shift
  [ -z "${RM_TARGETS:-}" ] || read -ra targets <<<"--target $RM_TARGETS"
  cmake -S "$RM_ROOT" -B "$dir" -DRM_WERROR=ON "$@" >/dev/null || rm_die "cmake configure failed ($dir)"
  cmake --build "$dir" -j"$(nproc)" "${targets[@]}" >"$dir/build.log" 2>&1 \
    || { cat "$dir/build.log" >&2; rm_die "build failed ($dir)"; }
}

# A signal ends the script through its EXIT trap (bash skips EXIT traps on an
# untrapped TERM), so what it started is stopped either way.
trap 'exit 143' TERM
trap 'exit 130' INT

# Remembers a PID to stop at exit.
rm_track() { RM_STARTED_PIDS+=("$1"); }

# Stops everything this script started, newest first, by PID.
rm_stop_all() {
  local i pid
  for ((i=${#RM_STARTED_PIDS[@]}-1; i>=0; i--)); do
    pid=${RM_STARTED_PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  RM_STARTED_PIDS=()
}

rm_wait_http() { # URL seconds
  local t=0
  while [ "$t" -lt "$(( $2 * 10 ))" ]; do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1; t=$((t+1))
  done
  return 1
}

# The first loopback TCP port from $1 up that nothing listens on.
rm_free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p+1)); done
  echo "$p"
}

rm_docker_ping() { curl -fsS --max-time 2 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }

# Uses the Docker engine that answers on /var/run/docker.sock, or starts one.
# Sets RM_DOCKER_SOCK.
rm_start_dockerd() {
  local run=$1
  RM_DOCKER_SOCK=/var/run/docker.sock
  if rm_docker_ping "$RM_DOCKER_SOCK"; then
    rm_log "using the Docker engine already running on $RM_DOCKER_SOCK"
    return 0
  fi
  command -v dockerd >/dev/null || rm_die "dockerd not found (package docker.io)"
  mkdir -p "$run/docker-data"
  rm_log "starting dockerd (data in $run/docker-data, log $run/dockerd.log)"
  # A closed loopback proxy and DNS keep every pull and lookup on this machine.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
    dockerd --data-root "$run/docker-data" --dns 127.0.0.1 \
    --host "unix://$RM_DOCKER_SOCK" >"$run/dockerd.log" 2>&1 &
  rm_track $!
  for _ in $(seq 1 300); do rm_docker_ping "$RM_DOCKER_SOCK" && return 0; sleep 0.1; done
  tail -20 "$run/dockerd.log" >&2
  rm_die "dockerd did not answer within 30 s"
}

# Builds the FROM-scratch test workload image from Debian's busybox-static.
rm_build_workload_image() {
  local run=$1 ctx="$1/workload-ctx"
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp /bin/busybox "$ctx/busybox"
  cp "$RM_ROOT/tests/workload/Dockerfile" "$RM_ROOT/tests/workload/"*.sh "$ctx/"
  DOCKER_BUILDKIT=0 docker -H "unix://$RM_DOCKER_SOCK" build -q -t rm-test/workload:1 "$ctx" \
    >"$run/workload-build.log" 2>&1 || { cat "$run/workload-build.log" >&2; rm_die "workload image build failed"; }
  docker -H "unix://$RM_DOCKER_SOCK" image inspect rm-test/workload:1 >/dev/null \
    || rm_die "workload image missing after build"
}

# Builds a FROM-scratch image of Debian's HAProxy (the binary, every library
# ldd lists and the loader) for the blue-green tests: rm-test/haproxy:1. The
# tests mount their own configuration at /etc/haproxy/haproxy.cfg.
rm_build_haproxy_image() {
  local run=$1 ctx="$1/haproxy-ctx" lib
  rm -rf "$ctx"; mkdir -p "$ctx/root/usr/sbin" "$ctx/root/etc/haproxy" "$ctx/root/tmp"
  cp /usr/sbin/haproxy "$ctx/root/usr/sbin/haproxy"
  for lib in $(ldd /usr/sbin/haproxy | grep -o '/[^ ]*') /lib/x86_64-linux-gnu/libgcc_s.so.1; do
    mkdir -p "$ctx/root$(dirname "$lib")"
    cp -L "$lib" "$ctx/root$lib"
  done
  cat >"$ctx/Dockerfile" <<'DF'
FROM scratch
COPY root/ /
ENTRYPOINT ["/usr/sbin/haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
DF
  DOCKER_BUILDKIT=0 docker -H "unix://$RM_DOCKER_SOCK" build -q -t rm-test/haproxy:1 "$ctx" \
    >"$run/haproxy-build.log" 2>&1 || { cat "$run/haproxy-build.log" >&2; rm_die "haproxy image build failed"; }
}

# Prometheus on loopback scraping the targets that tests write into
# $run/prom-targets/*.json (file_sd), every second. Sets RM_PROMETHEUS_URL.
rm_start_prometheus() {
  local run=$1 port
  port=$(rm_free_port "${2:-19090}")
  mkdir -p "$run/prom-data" "$run/prom-targets"
  cat >"$run/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tests
    scrape_interval: 1s
    file_sd_configs:
      - files: ['$run/prom-targets/*.json']
        refresh_interval: 1s
YML
  rm_log "starting Prometheus on 127.0.0.1:$port"
  prometheus --config.file="$run/prometheus.yml" --storage.tsdb.path="$run/prom-data" \
    --web.listen-address="127.0.0.1:$port" --web.enable-lifecycle \
    >"$run/prometheus.log" 2>&1 &
  rm_track $!
  RM_PROMETHEUS_URL="http://127.0.0.1:$port"
  rm_wait_http "$RM_PROMETHEUS_URL/-/ready" 30 || { tail -20 "$run/prometheus.log" >&2; rm_die "Prometheus did not start"; }
}

# Alertmanager on loopback, no clustering. Sets RM_ALERTMANAGER_URL.
rm_start_alertmanager() {
  local run=$1 port
  port=$(rm_free_port "${2:-19093}")
  mkdir -p "$run/am-data"
  cat >"$run/alertmanager.yml" <<YML
route:
  receiver: none
receivers:
  - name: none
YML
  rm_log "starting Alertmanager on 127.0.0.1:$port"
  prometheus-alertmanager --config.file="$run/alertmanager.yml" --storage.path="$run/am-data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
    >"$run/alertmanager.log" 2>&1 &
  rm_track $!
  RM_ALERTMANAGER_URL="http://127.0.0.1:$port"
  rm_wait_http "$RM_ALERTMANAGER_URL/-/ready" 30 || { tail -20 "$run/alertmanager.log" >&2; rm_die "Alertmanager did not start"; }
}
