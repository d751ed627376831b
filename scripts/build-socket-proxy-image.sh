#!/usr/bin/env bash
# build-socket-proxy-image.sh: builds the socket proxy resource-manager talks
# to the engine through: Debian's HAProxy binary, the libraries ldd lists for
# it, and compose/socket-proxy/haproxy.cfg, FROM scratch, with the legacy
# builder (nothing is pulled).
#
#   scripts/build-socket-proxy-image.sh [TAG]   (default resource-manager/socket-proxy:latest)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$RM_ROOT"
tag=${1:-resource-manager/socket-proxy:latest}
case "$tag" in -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

rm_install_packages haproxy
command -v docker >/dev/null || rm_die "docker CLI not found"
haproxy=/usr/sbin/haproxy
ctx="$RM_ROOT/.run/socket-proxy-ctx"
rm -rf "$ctx"
mkdir -p "$ctx/root/usr/sbin" "$ctx/root/etc/haproxy" "$ctx/root/var/run" "$ctx/root/tmp"
cp "$haproxy" "$ctx/root/usr/sbin/haproxy"
cp compose/socket-proxy/haproxy.cfg "$ctx/root/etc/haproxy/haproxy.cfg"
# Every shared library ldd resolves, at the path the loader will look for it.
ldd "$haproxy" | awk '/=> \//{ print $3 } /^[[:space:]]*\/[^ ]*ld-linux/{ print $1 }' | sort -u |
  while read -r lib; do
    mkdir -p "$ctx/root$(dirname "$lib")"
    cp -L "$lib" "$ctx/root$lib"
  done
[ -e "$ctx/root/lib64/ld-linux-x86-64.so.2" ] || rm_die "the dynamic loader was not found in ldd's list"
haproxy -c -f compose/socket-proxy/haproxy.cfg >/dev/null 2>&1 \
  || { haproxy -c -f compose/socket-proxy/haproxy.cfg; rm_die "compose/socket-proxy/haproxy.cfg is invalid"; }
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
EXPOSE 2375
ENTRYPOINT ["/usr/sbin/haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1 \
  || { cat "$ctx/build.log" >&2; rm_die "docker build failed"; }
docker image inspect "$tag" >/dev/null || rm_die "image $tag missing after build"
size=$(docker image inspect "$tag" --format '{{.Size}}')
rm_log "built $tag: $size bytes ($(( size / 1024 / 1024 )) MiB, $(find "$ctx/root" -type f | wc -l) files)"
