#!/bin/sh
# The README's install section, run as it is written: its sh blocks are read
# from README.md and run with the packages that build_debian_packages.sh made
# by the build block's `dpkg-buildpackage -b -uc -us`, on one collector host
# and four Trino nodes (two clusters of trino-sim on loopback, a coordinator
# and a worker each), each host a throwaway root that dpkg installs into.
# Until `trino-guardctl status` shows both clusters with their two nodes each
# and `trino-guardctl nodes` every node with its cluster and role.
#
# What stands in for what the README assumes (shim.sh, below): every path
# under /etc/trino-guard and /var/lib/trino-guard is the host's root's; `sudo`
# is nothing (the test is root); `apt install ./X.deb` is `dpkg --root -i`
# with the built file of that name, one at a time; `runuser -u trino-guard`
# and `install -o/-g trino-guard` take the root's user; `sudoedit` makes the
# edits the block's comments name (cluster, endpoints, Trino's URL and etc
# dir, the ports); the daemons' --check-config get `-c` the root's file; and
# since systemd is not PID 1 here, `systemctl start UNIT` runs the installed
# unit's ExecStart line as its User= and Group=, without the unit's sandbox
# (test_debian_packages.sh holds the units to systemd-analyze). The key
# block's lines for trino-blue-worker-1 run for each node with its name, and
# its commented "move the pair to the node" lines run as written.
# Exit 0 passed, 1 failed, 77 skipped (not root, no packaging tools, no packages).
#   tests/package/test_install_section.sh SOURCE_DIR DEB_DIR TRINO_SIM
set -eu

src=$(cd "$1" && pwd)
debs=$2
sim=$3
say() { printf 'debian_install_section: %s\n' "$*"; }
fail() {
	say "FAILED: $*"
	exit 1
}
. "$src/tests/package/package_lib.sh"
skip_unless_packaging
if ! ls "$debs"/trino-guard-common_*.deb >/dev/null 2>&1; then
	say "SKIPPED: no packages in $debs (the debian_packages_build test makes them)"
	exit 77
fi
debs=$(cd "$debs" && pwd)

work=$(mktemp -d /tmp/tg-install.XXXXXX)
chmod 0755 "$work" # the service users reach the roots and the sims' etc dirs through it
started=$(date +%s)
: >"$work/pids"
cleanup() {
	# shellcheck disable=SC2046 # one pid a word
	stop_pids $(cat "$work/pids")
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
logs() {
	for log in "$work"/*.log; do
		[ -s "$log" ] && printf '== %s\n%s\n' "$(basename "$log")" "$(tail -20 "$log")"
	done
	true
}

# --- the README's blocks -----------------------------------------------------
# The install section, from "## Install" to the next "## ", without the
# subsection on cmake --install.
sed -n '/^## Install$/,/^## [^#]/p' "$src/README.md" | sed '/^### Without packages/,$d' >"$work/install.md"
block() { # TEXT: the one sh block of the install section holding TEXT, continuation lines joined
	awk -v want="$1" '
		/^```sh$/ { inside = 1; text = ""; next }
		/^```$/ { if (inside && index(text, want)) { print text; found++ } inside = 0; next }
		inside { text = text $0 "\n" }
		END { if (found != 1) exit 1 }
	' "$work/install.md" | sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' || fail "the install section has no one sh block with '$1'"
}
build_block=$(block "dpkg-buildpackage")
install_block=$(block "apt install")
keys_block=$(block "keygen")
start_block=$(block "systemctl start")
# The packages under test are the build block's: build_debian_packages.sh runs it.
build_command=$(printf '%s\n' "$build_block" | grep -o 'dpkg-buildpackage[^#]*' | sed 's/ *$//')
grep -qF "$build_command" "$src/tests/package/build_debian_packages.sh" ||
	fail "build_debian_packages.sh does not run the README's '$build_command'"

# --- the stand-ins -------------------------------------------------------------
cat >"$work/shim.sh" <<'EOF'
# Sourced before each block, with ROOT the host's root and WORK the test's dir.
# The programs whose names sh functions cannot have are scripts in shim-bin.
PATH=$WORK/shim-bin:$ROOT/usr/bin:$ROOT/usr/sbin:$PATH
id_of() { # passwd|group NAME: its number in the root (a number stays one)
	case "$2" in *[!0-9]*) awk -F: -v n="$2" '$1 == n {print $3}' "$ROOT/etc/$1" ;; *) echo "$2" ;; esac
}
sudo() { "$@"; }
apt() {
	[ "$1" = install ] || { echo "shim: apt $1" >&2; return 1; }
	shift
	for deb in "$@"; do
		[ -f "$DEBS/${deb#./}" ] || { echo "shim: $deb is not a built package: $(ls "$DEBS")" >&2; return 1; }
		dpkg --root="$ROOT" --force-script-chrootless --force-depends --log="$WORK/dpkg.log" \
			-i "$DEBS/${deb#./}" >>"$WORK/dpkg-install.log" 2>&1 || return 1
	done
}
runuser() {
	[ "$1" = -u ] && [ "$3" = -- ] || { echo "shim: runuser $*" >&2; return 1; }
	user=$2
	shift 3
	setpriv --reuid="$(id_of passwd "$user")" --regid="$(id_of group "$user")" --clear-groups -- "$@"
}
install() {
	args="" prev=""
	for arg in "$@"; do
		case "$prev" in -o) args="$args $(id_of passwd "$arg")" ;; -g) args="$args $(id_of group "$arg")" ;; *) args="$args $arg" ;; esac
		prev=$arg
	done
	# shellcheck disable=SC2086
	command install $args
}
sudoedit() {
	case "$1" in
	*/agent.ini)
		sed -i -e "s|^cluster = .*|cluster = $CLUSTER|" -e "s|^url = http://127.0.0.1:8080|url = $TRINO_URL|" \
			-e "s|^etc_dir = .*|etc_dir = $TRINO_ETC|" -e "s|^endpoints = .*|endpoints = tcp://127.0.0.1:$ZMQ_PORT|" \
			-e "s|/etc/trino-guard/|$ROOT/etc/trino-guard/|g" "$1" ;;
	*/collector.ini)
		sed -i -e "s|^listen = tcp://0.0.0.0:7600|listen = tcp://127.0.0.1:$ZMQ_PORT|" \
			-e "s|^listen = 127.0.0.1:7601|listen = 127.0.0.1:$API_PORT|" -e "s|^min_workers = 2|min_workers = 1|" \
			-e "s|/etc/trino-guard/|$ROOT/etc/trino-guard/|g" -e "s|/var/lib/trino-guard|$ROOT/var/lib/trino-guard|" "$1" ;;
	*) echo "shim: sudoedit $1" >&2; return 1 ;;
	esac
}
systemctl() {
	[ "$1" = start ] || { echo "shim: systemctl $1" >&2; return 1; }
	unit=$ROOT/lib/systemd/system/$2.service
	command=$(sed -n 's/^ExecStart=//p' "$unit" | sed -e "s|/usr/sbin/|$ROOT/usr/sbin/|" -e "s|/etc/trino-guard/|$ROOT/etc/trino-guard/|g")
	user=$(sed -n 's/^User=//p' "$unit")
	group=$(sed -n 's/^Group=//p' "$unit")
	[ -n "$command" ] && [ -n "$user" ] || { echo "shim: $unit has no ExecStart or User" >&2; return 1; }
	# shellcheck disable=SC2086
	setpriv --reuid="$(id_of passwd "$user")" --regid="$(id_of group "$group")" --clear-groups -- \
		$command >"$WORK/$2-$HOST.log" 2>&1 &
	echo $! >>"$WORK/pids"
}
EOF
# The daemons' --check-config with the root's file, as /etc/trino-guard's would be.
mkdir "$work/shim-bin"
for daemon in agent collector; do
	cat >"$work/shim-bin/trino-guard-$daemon" <<EOF
#!/bin/sh
exec "\$ROOT/usr/sbin/trino-guard-$daemon" -c "\$ROOT/etc/trino-guard/$daemon.ini" "\$@"
EOF
done
# status: once the nodes have appeared ("within a few seconds")
cat >"$work/shim-bin/trino-guardctl" <<'EOF'
#!/bin/sh
if [ "$1" = status ]; then
	deadline=$(($(date +%s) + 30))
	until "$ROOT/usr/bin/trino-guardctl" --json nodes 2>/dev/null >"$WORK/nodes.json" &&
		[ "$(grep -o '"node_id": *"[^"]*"' "$WORK/nodes.json" | sort -u | wc -l)" -ge "$NODE_COUNT" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "shim: the nodes never appeared" >&2; exit 1; }
		sleep 0.2
	done
fi
case "$1" in
status | nodes) # kept for the test to read; exit 1 is findings open
	"$ROOT/usr/bin/trino-guardctl" "$@" >"$WORK/$1.txt" || echo "exit $?" >>"$WORK/$1.txt"
	cat "$WORK/$1.txt"
	;;
*) exec "$ROOT/usr/bin/trino-guardctl" "$@" ;;
esac
EOF
chmod 0755 "$work/shim-bin"/*
run_block() { # HOST TEXT [DIR]: TEXT as sh in DIR (default $work), its paths in HOST's root
	host=$1
	text=$(printf '%s\n' "$2" | sed -e "s|/etc/trino-guard|$work/$host/etc/trino-guard|g" \
		-e "s|/var/lib/trino-guard|$work/$host/var/lib/trino-guard|g")
	(cd "${3:-$work}" && export ROOT="$work/$host" HOST="$host" WORK="$work" DEBS="$debs" &&
		sh -eu -c ". \"$work/shim.sh\"
$text") >>"$work/blocks-$host.log" 2>&1 || {
		cat "$work/blocks-$host.log"
		fail "on $host, the README's block failed: $2"
	}
}
new_root() { # HOST: an empty root that dpkg installs into
	r=$work/$1
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/triggers" "$r/etc"
	touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/available"
}

# --- the sims: two clusters, their node ids the README's names -------------------
nodes="trino-blue-coord trino-blue-worker-1 trino-green-coord trino-green-worker-1"
export NODE_COUNT=4 ZMQ_PORT API_PORT CLUSTER TRINO_URL TRINO_ETC TRINO_GUARD_URL
ZMQ_PORT=$(free_port 1)
API_PORT=$(free_port 2)
sim_port() { # NODE: the port trino-sim serves it on
	case "$1" in
	trino-blue-coord) echo "$blue_base" ;; trino-blue-worker-1) echo $((blue_base + 1)) ;;
	trino-green-coord) echo "$green_base" ;; trino-green-worker-1) echo $((green_base + 1)) ;;
	esac
}
blue_base=$(free_port 3)
green_base=$(free_port 7)
for cluster in blue green; do
	if [ "$cluster" = blue ]; then base=$blue_base; else base=$green_base; fi
	"$sim" --cluster "trino-$cluster" --workers 1 --port-base "$base" --control-port $((base + 2)) \
		--etc-root "$work/etc" --qps 5 >"$work/sim-$cluster.log" 2>&1 &
	echo $! >>"$work/pids"
	deadline=$(($(date +%s) + 20))
	until curl -fs "http://127.0.0.1:$((base + 2))/control" >/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "trino-sim $cluster never answered: $(logs)"
		sleep 0.1
	done
done
chmod -R a+rX "$work/etc"

# --- Install: the collector host, then every node --------------------------------
collector_line=$(printf '%s\n' "$install_block" | grep 'apt install .*collector_')
node_line=$(printf '%s\n' "$install_block" | grep 'apt install .*agent_')
[ -n "$collector_line" ] && [ -n "$node_line" ] || fail "the install block has no collector and node lines"
say "installing: collector host"
new_root collector
run_block collector "$collector_line"
for node in $nodes; do
	say "installing: $node"
	new_root "$node"
	run_block "$node" "$node_line"
done

# --- Keys: made on the collector host as the service user, moved to the nodes ------
role_of() { case "$1" in *-coord) echo coordinator ;; *) echo worker ;; esac; }
cluster_of() { echo "$1" | sed 's/^trino-\([a-z]*\)-.*/\1/'; }
per_node() { # NODE TEXT: TEXT with the README's trino-blue-worker-1 as NODE
	printf '%s\n' "$2" | sed -e "s|trino-blue-worker-1|$1|g" -e "s|agents/blue/worker/|agents/$(cluster_of "$1")/$(role_of "$1")/|g"
}
once=$(printf '%s\n' "$keys_block" | grep -v '^#' | grep -v 'trino-blue-worker-1' || true)
each=$(printf '%s\n' "$keys_block" | grep -v '^#' | grep 'trino-blue-worker-1' || true)
move=$(printf '%s\n' "$keys_block" | sed -n 's/^#   \(install .*\)/\1/p')
[ -n "$once" ] && [ -n "$each" ] && [ -n "$move" ] || fail "the key block has no collector key, node pair or move lines"
run_block collector "$once"
for node in $nodes; do
	run_block collector "$(per_node "$node" "$each")"
	run_block "$node" "$(per_node "$node" "$move")" "$work/collector/etc/trino-guard/keys"
	rm "$work/collector/etc/trino-guard/keys/$node.key" # "delete the secret key here"
done

# --- Configure, check, start: every node's agent, then the collector --------------
agent_part=$(printf '%s\n' "$start_block" | sed '/^$/,$d')
collector_part=$(printf '%s\n' "$start_block" | sed '1,/^$/d')
printf '%s\n' "$agent_part" | grep -q 'systemctl start trino-guard-agent' || fail "the start block's first part is not the agent's"
printf '%s\n' "$collector_part" | grep -q 'trino-guardctl status' || fail "the start block's second part has no trino-guardctl status"
for node in $nodes; do
	say "configuring and starting the agent: $node"
	CLUSTER=$(cluster_of "$node")
	TRINO_URL="http://127.0.0.1:$(sim_port "$node")"
	TRINO_ETC="$work/etc/$node"
	run_block "$node" "$agent_part"
done
say "configuring and starting the collector"
TRINO_GUARD_URL="http://127.0.0.1:$API_PORT" # trino-guardctl's collector (README: trino-guardctl)
run_block collector "$collector_part"

# --- the fleet, as trino-guardctl status and nodes show it ----------------------
for out in status nodes; do
	[ -s "$work/$out.txt" ] || fail "trino-guardctl $out printed nothing: $(logs)"
	say "trino-guardctl $out:"
	cat "$work/$out.txt"
done
for cluster in blue green; do
	grep -Eq "^$cluster .* 2/2 " "$work/status.txt" || fail "trino-guardctl status does not show $cluster with its 2 nodes"
done
for node in $nodes; do
	grep -q "^$node .*$(cluster_of "$node").*$(role_of "$node")" "$work/nodes.txt" ||
		fail "trino-guardctl nodes does not show $node of $(cluster_of "$node") as $(role_of "$node")"
done
say "passed in $(($(date +%s) - started)) s"
