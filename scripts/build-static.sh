#!/usr/bin/env bash
# build-static.sh: builds a fully static, stripped build-static/resource-manager.
# libcurl (HTTP and unix sockets only, no TLS) and civetweb are compiled from
# Debian's source packages (fetched with apt-get source into .deps/, never
# committed); jansson, libcyaml and libyaml come from Debian's static archives.
# A deb-src entry is added for the download and removed afterwards.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$RM_ROOT"

DEPS="$RM_ROOT/.deps"
PREFIX="$DEPS/prefix"
# One build at a time in a checkout (scripts/test.sh starts one early and the
# image test may ask for another meanwhile): the second waits for the first,
# then finds everything built.
mkdir -p "$DEPS"
exec 9>"$DEPS/.lock"
flock 9
rm_install_packages "${RM_BUILD_PACKAGES[@]}" dpkg-dev

fetch_sources() {
  local list=/etc/apt/sources.list.d/resource-manager-deb-src.sources
  [ "$(id -u)" -eq 0 ] || rm_die "root is needed to add a deb-src entry for apt-get source"
  cat >"$list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  trap 'rm -f "$list"; apt-get update -qq >/dev/null 2>&1 || true' RETURN
  apt-get update -qq >/dev/null || rm_die "apt-get update (deb-src) failed"
  mkdir -p "$DEPS/src"
  (cd "$DEPS/src" && apt-get source -qq curl civetweb >/dev/null 2>&1) \
    || rm_die "apt-get source curl civetweb failed"
}

build_curl() {
  local src
  src=$(find "$DEPS/src" -maxdepth 1 -type d -name 'curl-*' | head -1)
  [ -n "$src" ] || rm_die "curl sources not found under $DEPS/src"
  rm_log "building a minimal static libcurl from $(basename "$src")"
  cmake -S "$src" -B "$DEPS/build-curl" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF \
    -DHTTP_ONLY=ON -DCURL_ENABLE_SSL=OFF -DCURL_USE_OPENSSL=OFF -DUSE_LIBIDN2=OFF \
    -DCURL_USE_LIBPSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF \
    -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON \
    -DCURL_USE_GSSAPI=OFF -DENABLE_UNIX_SOCKETS=ON -DENABLE_THREADED_RESOLVER=ON \
    -DCURL_DISABLE_NTLM=ON -DCURL_DISABLE_COOKIES=ON -DCURL_DISABLE_ALTSVC=ON \
    -DCURL_DISABLE_HSTS=ON -DCURL_DISABLE_NETRC=ON -DPICKY_COMPILER=OFF >"$DEPS/curl.log" 2>&1 \
    || { tail -20 "$DEPS/curl.log" >&2; rm_die "curl configure failed"; }
  cmake --build "$DEPS/build-curl" -j"$(nproc)" >>"$DEPS/curl.log" 2>&1 \
    && cmake --install "$DEPS/build-curl" >>"$DEPS/curl.log" 2>&1 \
    || { tail -20 "$DEPS/curl.log" >&2; rm_die "curl build failed"; }
}

build_civetweb() {
  local src
  src=$(find "$DEPS/src" -maxdepth 1 -type d -name 'civetweb-*' | head -1)
  [ -n "$src" ] || rm_die "civetweb sources not found under $DEPS/src"
  rm_log "building a static civetweb from $(basename "$src") (no TLS, no CGI, no file serving)"
  mkdir -p "$PREFIX/lib" "$PREFIX/include"
  gcc -O2 -c "$src/src/civetweb.c" -I"$src/include" -o "$DEPS/civetweb.o" \
    -DNO_SSL -DNO_CGI -DNO_FILES -DUSE_IPV6 -DUSE_SERVER_STATS >"$DEPS/civetweb.log" 2>&1 \
    || { cat "$DEPS/civetweb.log" >&2; rm_die "civetweb build failed"; }
  ar rcs "$PREFIX/lib/libcivetweb.a" "$DEPS/civetweb.o"
  cp "$src/include/civetweb.h" "$PREFIX/include/"
}

if [ ! -f "$PREFIX/lib/libcurl.a" ] || [ ! -f "$PREFIX/lib/libcivetweb.a" ]; then
  ls "$DEPS"/src/curl-* "$DEPS"/src/civetweb-* >/dev/null 2>&1 || fetch_sources
  [ -f "$PREFIX/lib/libcurl.a" ] || build_curl
  [ -f "$PREFIX/lib/libcivetweb.a" ] || build_civetweb
fi

rm_log "linking build-static/resource-manager"
cmake -S "$RM_ROOT" -B build-static -DRM_STATIC=ON -DRM_TESTS=OFF -DRM_WERROR=ON \
  -DCMAKE_BUILD_TYPE=Release -DRM_DEPS_PREFIX="$PREFIX" >/dev/null || rm_die "configure failed"
cmake --build build-static -j"$(nproc)" >build-static.log 2>&1 || { cat build-static.log >&2; rm_die "static build failed"; }
rm -f build-static.log
file build-static/resource-manager 2>/dev/null || true
ls -l build-static/resource-manager
