#!/usr/bin/env bash
# build-image.sh: builds the resource-manager image here, where no base image
# can be pulled: the static binary on the host (scripts/build-static.sh), then
# the Dockerfile's final FROM-scratch stage alone, with the legacy builder.
#
#   scripts/build-image.sh [TAG]     (default resource-manager:latest)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$RM_ROOT"
tag=${1:-resource-manager:latest}
case "$tag" in -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

scripts/build-static.sh >/dev/null
ctx="$RM_ROOT/.run/image-ctx"
rm -rf "$ctx"
mkdir -p "$ctx/src/build-static" "$ctx/src/config" "$ctx/src/docker"
cp build-static/resource-manager "$ctx/src/build-static/"
cp config/config.yml "$ctx/src/config/"
cp -r docker/rootfs "$ctx/src/docker/"
# The final stage, reading from the context instead of the builder stage.
sed -n '/^FROM scratch AS final/,$p' Dockerfile | sed 's/--from=builder //' >"$ctx/Dockerfile"
command -v docker >/dev/null || rm_die "docker CLI not found"
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1 \
  || { cat "$ctx/build.log" >&2; rm_die "docker build failed"; }
docker image inspect "$tag" --format '{{.Size}}' >/dev/null || rm_die "image $tag missing after build"
size=$(docker image inspect "$tag" --format '{{.Size}}')
rm_log "built $tag: $size bytes ($(( size / 1024 )) KiB)"
