#!/bin/sh
# Installs every package trino-guard needs to build, test and run its demo on
# Debian 12. Idempotent: it asks apt only for what is missing, runs
# `apt-get update` only when something is, and does nothing otherwise.
# dpkg-dev, debhelper and lintian build and check the Debian packages
# (debian/, tests/package/); systemd brings systemd-analyze, -sysusers and
# -tmpfiles, which that test runs. jq reads CTest's list of benchmarks in
# deploy/bench.sh; valgrind (callgrind) counts instructions in tests/bench/fleet_cost.
# clang and libclang-rt-14-dev (libFuzzer) build the fuzzers of tests/fuzz
# (deploy/fuzz.sh). cppcheck and clang-tidy are deploy/static-check.sh's two
# analysers; valgrind's memcheck runs the valgrind_* tests. nodejs runs the npm
# trino-client the tests drive (pinned in tests/client/package-lock.json,
# installed by `npm ci` into tests/client/node_modules, never globally).
# chromium (headless) loads the collector's dashboard in tests/integration/test_dashboard.
# etcd-server is the consensus store of high availability; tests/integration/test_etcd
# starts one on loopback. python3-yaml (with Debian's python3) reads the
# Kubernetes manifests of deploy/kubernetes in tests/package/kubernetes_manifests.py.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)

# The real Trino client of the tests: trino-client, pinned by the lock file.
install_test_client() {
	if ! command -v npm >/dev/null 2>&1; then
		echo "install-deps: npm is missing (Debian: apt-get install npm)" >&2
		return 1
	fi
	if [ -f "$here/tests/client/node_modules/trino-client/package.json" ] &&
	   [ "$here/tests/client/node_modules/.package-lock.json" -nt "$here/tests/client/package-lock.json" ]; then
		return 0
	fi
	(cd "$here/tests/client" && npm ci --no-audit --no-fund --loglevel=error)
}

PACKAGES="
build-essential cmake pkg-config clang-format curl
libzmq3-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
libevent-dev libcurl4-openssl-dev libcmocka-dev libjansson-dev libinih-dev libssl-dev
haproxy prometheus prometheus-alertmanager prometheus-node-exporter socat
dpkg-dev debhelper lintian systemd nodejs
jq valgrind clang libclang-rt-14-dev chromium etcd-server python3-yaml
cppcheck clang-tidy
"

missing=""
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg" ;;
	esac
done

if [ -z "$missing" ]; then
	install_test_client
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
else
	SUDO="sudo"
fi

echo "install-deps: installing:$missing" >&2

# The servers we install (haproxy, prometheus, alertmanager, node-exporter, etcd)
# are started by the tests on loopback ports of their own; keep apt from
# starting system-wide copies of them while installing, unless the machine
# already has a policy of its own.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	made_policy=1
fi
cleanup() {
	if [ "$made_policy" -eq 1 ]; then
		$SUDO rm -f "$policy"
	fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
# Debian's nodejs brings no npm; nodesource's does (and conflicts with Debian's)
if ! command -v npm >/dev/null 2>&1; then
	$SUDO apt-get install -y -q --no-install-recommends npm
fi
install_test_client
