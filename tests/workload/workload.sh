#!/bin/sh
# workload MODE [ARG]: what a test container does, as PID 1 that exits on SIGTERM.
#   idle          sleep
#   busy [N]      N busy loops (default 1)
#   alloc MIB     hold MIB of memory (tmpfs pages charged to the container), then idle
#   http [PORT]   serve /www over HTTP (default port 8080)
#   web-busy N [PORT]  serve HTTP and run N busy loops
#   web-alloc MIB [PORT]  serve HTTP and hold MIB of memory
#   ignore-term   idle, ignoring SIGTERM (must be killed)
mode=${1:-idle}
case "$mode" in
  ignore-term) trap '' TERM ;;
  *) trap 'exit 0' TERM INT ;;
esac
case "$mode" in
  busy)
    n=${2:-1}
    while [ "$n" -gt 0 ]; do (while :; do :; done) & n=$((n-1)); done
    ;;
  alloc)
    mkdir -p /dev/shm
    dd if=/dev/zero of=/dev/shm/fill bs=1048576 count="${2:-32}" 2>/dev/null
    ;;
  http)
    echo ok > /www/index.html
    httpd -f -p "${2:-8080}" -h /www &
    ;;
  web-alloc)
    echo ok > /www/index.html
    httpd -f -p "${3:-8080}" -h /www &
    mkdir -p /dev/shm
    dd if=/dev/zero of=/dev/shm/fill bs=1048576 count="${2:-32}" 2>/dev/null
    ;;
  web-busy)
    echo ok > /www/index.html
    httpd -f -p "${3:-8080}" -h /www &
    n=${2:-1}
    while [ "$n" -gt 0 ]; do (while :; do :; done) & n=$((n-1)); done
    ;;
esac
while :; do sleep 1 & wait $!; done
