# Sourced by the package tests (build_debian_packages.sh,
# test_debian_packages.sh, test_install_section.sh), after they define say().

# Exits 77 (skipped) where the packages cannot be built or installed here.
skip_unless_packaging() {
	for tool in dpkg-buildpackage dh lintian setpriv; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			say "SKIPPED: $tool is missing (deploy/install-deps.sh installs debhelper, devscripts and lintian)"
			exit 77
		fi
	done
	if [ "$(id -u)" -ne 0 ]; then
		say "SKIPPED: needs root (dpkg --root sets owners; the daemons run as the service user)"
		exit 77
	fi
}

listening() { # PORT: something listens on 127.0.0.1:PORT (or on every address)
	ss -Hltn 2>/dev/null | awk '{print $4}' | grep -Eq "(^|[:*])$1\$"
}
# Below Linux's ephemeral range (32768 up): a port in it can be taken by an
# outgoing connection, even the agent's own retries connecting to itself.
# $attempt (0 unless the caller counts attempts) moves every port.
free_port() { # N: a loopback port nothing listens on, different for each N
	port=$((20000 + ($$ * 7 + $1 * 131 + ${attempt:-0} * 977) % 12000))
	while listening $port; do port=$((port + 1)); done
	echo $port
}

# Stops each PID: TERM, then KILL if it is still there after 5 s; reaps the
# caller's own children. The sleeps let the shell reap a child that exited,
# so kill -0 does not see it as a zombie.
stop_pids() { # PID...
	for pid in "$@"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		tries=0
		while kill -0 "$pid" 2>/dev/null && [ $tries -lt 50 ]; do
			sleep 0.1
			tries=$((tries + 1))
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
