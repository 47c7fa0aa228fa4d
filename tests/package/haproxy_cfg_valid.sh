#!/bin/sh
# deploy/haproxy/haproxy.cfg passes `haproxy -c`, with its socket and maps
# moved into a temp dir (the paths of a real install need not exist here).
# usage: haproxy_cfg_valid.sh HAPROXY DEPLOY_HAPROXY_DIR
set -eu
haproxy=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc/haproxy/trino-guard" "$tmp/run/haproxy"
cp "$src/trino.map" "$src/trino-query-ids.map" "$tmp/etc/haproxy/trino-guard/"
sed -e "s#/etc/haproxy/#$tmp/etc/haproxy/#g" -e "s#/run/haproxy/#$tmp/run/haproxy/#g" \
	"$src/haproxy.cfg" >"$tmp/haproxy.cfg"
# the maps it reads must be the ones shipped beside it
grep -q 'trino-guard/trino-query-ids.map' "$tmp/haproxy.cfg"
"$haproxy" -c -q -f "$tmp/haproxy.cfg"
