#!/bin/sh
# The Debian packages, end to end: runs lintian on the packages that
# build_debian_packages.sh built from this tree, installs them with dpkg into
# a throwaway root (--root, maintainer scripts run chrootless with DPKG_ROOT, as the
# debhelper snippets support), and checks what an operator relies on:
#   - the licence: LICENSE is the Apache-2.0 text, debian/copyright DEP-5;
#   - the files of each package, the conffiles, units enabled and not started;
#   - the user made by sysusers.d, owners and modes from tmpfiles.d;
#   - `trino-guardctl keygen` run as the service user writes keys that the
#     daemons, run as the service user with the packaged configs, can read:
#     the collector starts, the agent connects, and the node shows in
#     `trino-guardctl nodes` (and a key written by root is refused);
#   - `systemd-analyze security` rates both installed units below 4;
#   - installing again keeps owners, modes and keys; purge removes the
#     conffiles, keys, allow-list and state, and keeps the user.
# Exit 0 passed, 1 failed, 77 skipped (no dpkg-buildpackage, or not root, or
# no packages in DEB_DIR).
#   tests/package/test_debian_packages.sh SOURCE_DIR DEB_DIR
set -eu

src=$(cd "$1" && pwd)
debs=$2
say() { printf 'debian_packages: %s\n' "$*"; }
fail() {
	say "FAILED: $*"
	exit 1
}

. "$src/tests/package/package_lib.sh"
skip_unless_packaging

if ! ls "$debs"/trino-guard_*.changes >/dev/null 2>&1; then
	say "SKIPPED: no packages in $debs (the debian_packages_build test makes them)"
	exit 77
fi

work=$(mktemp -d /tmp/tg-debian.XXXXXX)
chmod 0755 "$work" # the service user reaches the root and the test configs through it
started=$(date +%s)
pids=""
cleanup() {
	# shellcheck disable=SC2086 # one pid a word
	stop_pids $pids
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

common=$debs/trino-guard-common_0.1.0_all.deb
agent=$(ls "$debs"/trino-guard-agent_*_*.deb | grep -v dbgsym)
collector=$(ls "$debs"/trino-guard-collector_*_*.deb | grep -v dbgsym)
for deb in "$common" "$agent" "$collector"; do
	[ -f "$deb" ] || fail "$deb was not built"
done

say "lintian"
if ! lintian --fail-on error,warning,info --info "$debs"/trino-guard_*.changes >"$work/lintian.log" 2>&1; then
	cat "$work/lintian.log"
	fail "lintian has findings (above)"
fi
grep -v '^running with root privileges' "$work/lintian.log" || true

# --- the licence: Apache-2.0, machine-readable (DEP-5) in every package ------
for deb in "$common" "$agent" "$collector"; do
	name=$(dpkg-deb -f "$deb" Package)
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/share/doc/$name/copyright" >"$work/copyright" ||
		fail "$name has no /usr/share/doc/$name/copyright"
	head -1 "$work/copyright" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
		fail "$name: debian/copyright is not machine-readable (DEP-5)"
	grep -qx 'License: Apache-2.0' "$work/copyright" || fail "$name: debian/copyright names no Apache-2.0"
done
cmp -s "$src/LICENSE" /usr/share/common-licenses/Apache-2.0 ||
	fail "LICENSE is not the Apache License 2.0's standard text"

# --- what each package holds -------------------------------------------------
has() { # DEB PATH...: each PATH is in DEB
	deb=$1
	shift
	dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' >"$work/list"
	for path in "$@"; do
		grep -qx "$path" "$work/list" || fail "$(basename "$deb") lacks $path"
	done
}
has "$common" /usr/lib/sysusers.d/trino-guard.conf /usr/lib/tmpfiles.d/trino-guard.conf \
	/usr/share/doc/trino-guard/README.md.gz /usr/share/doc/trino-guard/examples/agent.ini
has "$agent" /usr/sbin/trino-guard-agent /etc/trino-guard/agent.ini \
	/lib/systemd/system/trino-guard-agent.service /usr/lib/tmpfiles.d/trino-guard-agent.conf \
	/usr/share/man/man8/trino-guard-agent.8.gz /usr/share/man/man5/agent.ini.5.gz
has "$collector" /usr/sbin/trino-guard-collector /usr/bin/trino-guardctl \
	/etc/trino-guard/collector.ini /lib/systemd/system/trino-guard-collector.service \
	/usr/lib/tmpfiles.d/trino-guard-collector.conf \
	/usr/share/bash-completion/completions/trino-guardctl \
	/usr/share/man/man1/trino-guardctl.1.gz /usr/share/man/man5/collector.ini.5.gz \
	/usr/share/man/man8/trino-guard-collector.8.gz
dpkg-deb -c "$agent" | grep -q trino-guardctl && fail "the agent package carries trino-guardctl"
for deb in "$agent" "$collector"; do
	dpkg-deb -f "$deb" Depends | grep -q 'libzmq5' || fail "$(basename "$deb"): no shlibs dependencies"
	dpkg-deb -f "$deb" Depends | grep -q 'trino-guard-common (= ' || fail "$(basename "$deb"): no trino-guard-common"
	# enabled on install; started never on install, only try-restart on upgrade
	dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./postinst >"$work/postinst"
	grep -q "deb-systemd-helper enable" "$work/postinst" || fail "$(basename "$deb"): unit not enabled"
	if grep "deb-systemd-invoke" "$work/postinst" | grep -qv "try-restart"; then
		fail "$(basename "$deb"): postinst starts the unit"
	fi
done

# --- install into a throwaway root ------------------------------------------
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers" "$root/etc"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
install_debs() { # the libraries live on this host, not in the root: --force-depends
	dpkg --root="$root" --force-script-chrootless --force-depends --log="$work/dpkg.log" -i "$@" \
		>>"$work/install.log" 2>&1 || {
		cat "$work/install.log"
		fail "dpkg -i $*"
	}
}
say "installing into $root"
install_debs "$common" # as apt would: the dependency first, so its user exists
install_debs "$agent" "$collector"
if grep -E "Failed|error" "$work/install.log"; then
	fail "a maintainer script complained (above)"
fi

for pkg in trino-guard-agent:/etc/trino-guard/agent.ini trino-guard-collector:/etc/trino-guard/collector.ini; do
	conffile=${pkg#*:}
	dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}\n' "${pkg%%:*}" |
		grep -q " $conffile " || fail "$conffile is not a conffile of ${pkg%%:*}"
done

user=$(awk -F: '$1 == "trino-guard" {print $3 ":" $4 ":" $6 ":" $7}' "$root/etc/passwd")
[ -n "$user" ] || fail "sysusers made no user trino-guard in $root/etc/passwd"
uid=${user%%:*}
gid=$(echo "$user" | cut -d: -f2)
[ "$(awk -F: '$1 == "trino-guard" {print $3}' "$root/etc/group")" = "$gid" ] ||
	fail "no group trino-guard with the user's gid"
[ "$(echo "$user" | cut -d: -f3-)" = "/var/lib/trino-guard:/usr/sbin/nologin" ] ||
	fail "trino-guard's home and shell: $user"
[ "$uid" -lt 1000 ] || fail "trino-guard is not a system user (uid $uid)"

expect() { # PATH MODE UID GID
	got=$(stat -c '%a %u %g' "$root$1") || fail "$1 is missing"
	[ "$got" = "$2 $3 $4" ] || fail "$1 is $got (mode uid gid), expected $2 $3 $4"
}
expect /etc/trino-guard 750 0 "$gid"
expect /etc/trino-guard/agent.ini 640 0 "$gid"
expect /etc/trino-guard/collector.ini 640 0 "$gid"
expect /etc/trino-guard/agents 750 0 "$gid"
expect /etc/trino-guard/keys 700 "$uid" "$gid"
expect /var/lib/trino-guard 750 "$uid" "$gid"
expect /usr/sbin/trino-guard-agent 755 0 0
expect /usr/bin/trino-guardctl 755 0 0
for unit in trino-guard-agent trino-guard-collector; do
	[ -L "$root/etc/systemd/system/multi-user.target.wants/$unit.service" ] || fail "$unit is not enabled"
done

# --- the units ---------------------------------------------------------------
for unit in trino-guard-agent trino-guard-collector; do
	# --threshold=39: exit non-zero when the exposure is above 3.9
	rc=0
	systemd-analyze security --offline=yes --root="$root" --threshold=39 "$unit.service" \
		>"$work/security.log" 2>&1 || rc=$?
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/security.log")
	[ -n "$score" ] || fail "$unit: systemd-analyze security gave no score: $(cat "$work/security.log")"
	[ "$rc" -eq 0 ] || fail "$unit: systemd-analyze security rates it $score (4 or more)"
	say "systemd-analyze security $unit.service: $score"
	# the unit as systemd reads it, with its binary at the root's path
	sed "s|/usr/sbin/|$root/usr/sbin/|" "$root/lib/systemd/system/$unit.service" >"$work/$unit.service"
	systemd-analyze verify --man=no "$work/$unit.service" || fail "$unit: systemd-analyze verify"
done

# --- keys made as the service user, read by the daemons as the service user --
as_service() { setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; }
# Starts a daemon as the service user in the background, its pid added to
# $pids. setpriv execs the daemon, so $! is the daemon itself; as_service run
# with & would be a subshell with setpriv as its child, $! that subshell, and
# the cleanup's kill would leave the daemon running.
spawn_as_service() { # LOG PROGRAM ARG...
	log=$1
	shift
	setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@" >"$log" 2>&1 &
	pids="$pids $!"
}
ctl=$root/usr/bin/trino-guardctl
keys=$root/etc/trino-guard/keys
as_service "$ctl" keygen "$keys/collector" >/dev/null || fail "keygen as trino-guard (collector)"
as_service "$ctl" keygen "$keys/agent" >/dev/null || fail "keygen as trino-guard (agent)"
expect /etc/trino-guard/keys/agent.key 600 "$uid" "$gid"
expect /etc/trino-guard/keys/agent.pub 644 "$uid" "$gid"
# the allow-list is root's: the agent's public key under its cluster, role and node id
install -d -m 0755 "$root/etc/trino-guard/agents/blue/worker"
install -m 0644 "$keys/agent.pub" "$root/etc/trino-guard/agents/blue/worker/trino-blue-worker-1.pub"

# Another process may take a port between the look and the bind: the
# collector then exits with "Address already in use", and the daemons are
# started again on other ports (three attempts).
attempt=0
start_daemons() {
	zmq_port=$(free_port 1)
	api_port=$(free_port 2)
	trino_port=$(free_port 3)
	# The packaged configs, with the root's paths and free ports.
	sed -e "s|/etc/trino-guard/|$root/etc/trino-guard/|g" -e "s|/var/lib/trino-guard|$root/var/lib/trino-guard|" \
		-e "s|^listen = tcp://0.0.0.0:7600|listen = tcp://127.0.0.1:$zmq_port|" \
		-e "s|^listen = 127.0.0.1:7601|listen = 127.0.0.1:$api_port|" \
		"$root/etc/trino-guard/collector.ini" >"$work/collector.ini"
	sed -e "s|/etc/trino-guard/|$root/etc/trino-guard/|g" -e "s|^;node_id = .*|node_id = trino-blue-worker-1|" \
		-e "s|^endpoints = .*|endpoints = tcp://127.0.0.1:$zmq_port|" \
		-e "s|^url = http://127.0.0.1:8080|url = http://127.0.0.1:$trino_port|" \
		"$root/etc/trino-guard/agent.ini" >"$work/agent.ini"
	chmod 0644 "$work/collector.ini" "$work/agent.ini"

	say "starting the collector and the agent as trino-guard"
	spawn_as_service "$work/collector.log" "$root/usr/sbin/trino-guard-collector" -c "$work/collector.ini"
	# the agent once the collector answers, so nothing else holds its port
	deadline=$(($(date +%s) + 30))
	until "$ctl" --url "http://127.0.0.1:$api_port" status >/dev/null 2>&1 || [ $? -eq 1 ]; do
		if ! kill -0 $pids 2>/dev/null; then
			grep -q "Address already in use" "$work/collector.log" || fail "the collector exited: $(cat "$work/collector.log")"
			stop_daemons
			return 1
		fi
		[ "$(date +%s)" -lt "$deadline" ] || fail "the collector never answered: $(cat "$work/collector.log")"
		sleep 0.2
	done
	spawn_as_service "$work/agent.log" "$root/usr/sbin/trino-guard-agent" -c "$work/agent.ini"

	deadline=$(($(date +%s) + 30))
	until "$ctl" --url "http://127.0.0.1:$api_port" --json nodes 2>/dev/null | grep -q '"trino-blue-worker-1"'; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "collector log:"
			cat "$work/collector.log"
			say "agent log:"
			cat "$work/agent.log"
			fail "the agent's node never showed in trino-guardctl nodes"
		fi
		for pid in $pids; do
			kill -0 "$pid" 2>/dev/null && continue
			if grep -q "Address already in use" "$work/collector.log"; then
				stop_daemons
				return 1
			fi
			cat "$work/collector.log" "$work/agent.log"
			fail "a daemon exited (logs above)"
		done
		sleep 0.2
	done
}
stop_daemons() {
	# shellcheck disable=SC2086 # one pid a word
	stop_pids $pids
	pids=""
}
until start_daemons; do
	attempt=$((attempt + 1))
	[ "$attempt" -lt 3 ] || fail "no free ports in three attempts: $(cat "$work/collector.log")"
done
say "trino-guardctl nodes shows trino-blue-worker-1"

# The failure the packaging prevents: a key made by root is not the
# service user's to read.
"$ctl" keygen "$work/root-made" >/dev/null
sed "s|^secret_key_file = .*|secret_key_file = $work/root-made.key|" "$work/agent.ini" >"$work/agent-root-key.ini"
if as_service "$root/usr/sbin/trino-guard-agent" -c "$work/agent-root-key.ini" >"$work/refused.log" 2>&1; then
	fail "the agent started with a secret key it cannot read"
fi
grep -q "Permission denied" "$work/refused.log" || fail "no 'Permission denied' for root's key: $(cat "$work/refused.log")"

# Installed again (an upgrade, as far as the maintainer scripts go): the owners
# and modes hold, the keys stay.
install_debs "$agent" "$collector"
expect /etc/trino-guard/agent.ini 640 0 "$gid"
expect /etc/trino-guard/collector.ini 640 0 "$gid"
expect /etc/trino-guard/keys/agent.key 600 "$uid" "$gid"

# Purge: the conffiles, the allow-list, the keys and the state go; the user stays.
stop_daemons
dpkg --root="$root" --force-script-chrootless --force-depends --log="$work/dpkg.log" \
	--purge trino-guard-agent trino-guard-collector trino-guard-common >>"$work/install.log" 2>&1 ||
	fail "dpkg --purge: $(tail -5 "$work/install.log")"
for path in /etc/trino-guard /var/lib/trino-guard /usr/sbin/trino-guard-agent \
	/etc/systemd/system/multi-user.target.wants/trino-guard-agent.service; do
	[ ! -e "$root$path" ] || fail "$path is left after purge"
done
grep -q '^trino-guard:' "$root/etc/passwd" || fail "purge removed the user"

say "passed in $(($(date +%s) - started)) s"
