#!/bin/sh
# The end-to-end demo on simulated Trino clusters behind a real HAProxy:
# blue (478) is live; green (479) has a worker left on 478, so the cutover is
# refused; the worker is fixed and the cutover goes through; green starts
# failing queries and trino-guard rolls the load balancer back by itself.
# Clients' long queries (the npm trino-client) run across both switches and
# none is lost, since HAProxy routes every poll by the query's coordinator id;
# a last act makes the same switch without that routing and counts the losses.
# Installs what is missing, builds, plays the story, cleans up (also on Ctrl-C).
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
deploy/install-deps.sh
echo "== building"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

bin="$top/build"
ctl="$bin/collector/ctl/trino-guardctl"
work=$(mktemp -d /tmp/trino-guard-demo-XXXXXX)
pids=""
started=$(date +%s)

cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
since() { echo $(($(date +%s) - started)); }
timeline=""
mark() { timeline="$timeline
  +$(since)s  $*"; }

# A run of 13 free loopback ports, below the ephemeral range.
port_base() {
	base=21000
	listening=$(ss -ltnH 2>/dev/null | awk '{print $4}' | sed 's/.*://')
	while [ "$base" -lt 32000 ]; do
		free=yes
		for offset in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
			if echo "$listening" | grep -qx "$((base + offset))"; then
				free=no
			fi
		done
		if [ "$free" = yes ]; then
			echo "$base"
			return
		fi
		base=$((base + 13 + $$ % 7))
	done
	echo "no free ports" >&2
	exit 1
}

wait_for() { # seconds, description, command...
	limit=$1
	what=$2
	shift 2
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt $((limit * 10)) ]; then
			echo "demo: timed out waiting for $what" >&2
			exit 1
		fi
		sleep 0.1
	done
}

base=$(port_base)
blue=$base green=$((base + 3)) blue_ctl=$((base + 6)) green_ctl=$((base + 7))
zmq=$((base + 8)) api=$((base + 9))
front=$((base + 10)) pager=$((base + 11)) plain_front=$((base + 12))
cd "$work"
mkdir keys

say "starting simulated Trino clusters: blue 478 (coordinator + 2 workers), green 479"
"$bin/tests/trino-sim" --cluster blue --version 478 --workers 2 --port-base "$blue" \
	--control-port "$blue_ctl" --etc-root etc --qps 100 >sim-blue.log 2>&1 &
pids="$pids $!"
"$bin/tests/trino-sim" --cluster green --version 479 --workers 2 --port-base "$green" \
	--control-port "$green_ctl" --etc-root etc --qps 100 >sim-green.log 2>&1 &
pids="$pids $!"
wait_for 10 "the sims" curl -sf "http://127.0.0.1:$green_ctl/control"
curl -sf -XPOST "http://127.0.0.1:$green_ctl/control/green-worker-2" -d '{"version":"478"}' >/dev/null
echo "green-worker-2 was left on 478 by a half-finished rollout"

say "HAProxy in front, running deploy/haproxy/haproxy.cfg"
echo "new queries go by a one-entry map (active -> bk_blue); every poll of a running"
echo "query goes by its coordinator id (query-ids.map, kept current by trino-guard)"
echo "active bk_blue" >active.map
: >query-ids.map
sed -e "s|/run/haproxy/admin.sock mode 660|$work/admin.sock mode 600|" \
	-e "s|/etc/haproxy/trino-guard/trino-query-ids.map|$work/query-ids.map|g" \
	-e "s|/etc/haproxy/trino-guard/trino.map|$work/active.map|" \
	-e "s|bind :8080|bind 127.0.0.1:$front|" \
	-e "s|server blue-coord trino-blue-coordinator:8080 check|server blue 127.0.0.1:$blue check inter 500ms|" \
	-e "s|server green-coord trino-green-coordinator:8080 check|server green 127.0.0.1:$green check inter 500ms|" \
	"$top/deploy/haproxy/haproxy.cfg" >haproxy.cfg
if grep -q -e /etc/haproxy -e /run/haproxy -e 'bind :8080' -e trino-blue-coordinator haproxy.cfg; then
	echo "demo: deploy/haproxy/haproxy.cfg no longer has the lines the demo makes local" >&2
	exit 1
fi
haproxy -db -f haproxy.cfg >haproxy.log 2>&1 &
pids="$pids $!"

say "CURVE keys, made on the fly: one for the collector, one per node"
"$ctl" keygen collector >/dev/null
for node in blue-coord blue-worker-1 blue-worker-2 green-coord green-worker-1 green-worker-2; do
	"$ctl" keygen "$node" >/dev/null
	cluster=${node%%-*}
	case $node in *-coord) role=coordinator ;; *) role=worker ;; esac
	mkdir -p "keys/$cluster/$role"
	cp "$node.pub" "keys/$cluster/$role/$node.pub"
done
ls -R keys

cat >collector.ini <<CFG
[collector]
listen = tcp://127.0.0.1:$zmq
secret_key_file = collector.key
allowed_keys_dir = keys
state_dir = state
tick = 100ms
environment = demo
initial_active = blue
[api]
listen = 127.0.0.1:$api
[watch]
duration = 10m
[lb]
driver = haproxy
poll = 500ms
[lb.haproxy]
sockets = $work/admin.sock
map_file = $work/active.map
key = active
query_id_map = $work/query-ids.map
backend.blue = bk_blue
backend.green = bk_green
[cluster.blue]
min_workers = 2
[cluster.green]
min_workers = 2
[alert.pager]
type = webhook
url = http://127.0.0.1:$pager/alerts
min_severity = info
CFG
say "the on-call's pager: a webhook receiver that prints each alert it gets"
"$bin/tests/pager-sim" "$pager" >pager.log 2>&1 &
pids="$pids $!"
pages_seen=0
pages() { # prints the pages that arrived since the last call
	sleep 0.5
	total=$(wc -l <pager.log)
	if [ "$total" -gt "$pages_seen" ]; then
		echo "pages received:"
		tail -n +$((pages_seen + 1)) pager.log
	fi
	pages_seen=$total
}

"$bin/collector/trino-guard-collector" -c collector.ini >collector.log 2>&1 &
pids="$pids $!"
export TRINO_GUARD_URL="http://127.0.0.1:$api"
wait_for 10 "the collector" curl -sf "$TRINO_GUARD_URL/healthz"

say "one agent per node"
start_agent() { # node cluster port
	cat >"$1.ini" <<CFG
[agent]
cluster = $2
interval = 200ms
[trino]
url = http://127.0.0.1:$3
etc_dir = etc/$1
[collector]
endpoints = tcp://127.0.0.1:$zmq
server_public_key_file = collector.pub
public_key_file = $1.pub
secret_key_file = $1.key
CFG
	"$bin/agent/trino-guard-agent" -c "$1.ini" >"agent-$1.log" 2>&1 &
	pids="$pids $!"
}
start_agent blue-coord blue "$blue"
start_agent blue-worker-1 blue $((blue + 1))
start_agent blue-worker-2 blue $((blue + 2))
start_agent green-coord green "$green"
start_agent green-worker-1 green $((green + 1))
start_agent green-worker-2 green $((green + 2))
status() { "$ctl" --url "$TRINO_GUARD_URL" status || true; }
served_by() { curl -s "http://127.0.0.1:$front/v1/status" | sed -n 's/.*"nodeId":"\([^"]*\)".*/\1/p'; }
phase_is() { "$ctl" --url "$TRINO_GUARD_URL" --json status | grep -q "\"phase\": \"$1\""; }
finding_open() { "$ctl" --url "$TRINO_GUARD_URL" --json status | grep -q "\"key\": \"$1\""; }
routes_known() { [ "$(curl -s "$TRINO_GUARD_URL/v1/status" | jq '.query_routes.routes | length')" = 2 ]; }

# Clients: the npm trino-client (tests/client) runs 4 queries of 15 s each.
start_queries() { # HAProxy's port, output file
	node "$top/tests/client/run_queries.js" --server "http://127.0.0.1:$1" --queries 4 \
		--sql "SELECT 1 -- duration_ms=15000 rows=2" >"$2" 2>&1 &
	pids="$pids $!"
	client=$!
}
running_on() { curl -s "http://127.0.0.1:$1/control" | jq '.nodes[0].statement_queries.running'; }
running_is() { [ "$(running_on "$1")" = "$2" ]; }
coordinator_id() { curl -s "http://127.0.0.1:$1/v1/info" | jq -r .coordinatorId; }
failed_in() { jq -s '[.[] | select(.event == "done" and .outcome != "finished")] | length' "$1"; }
outcomes() { # output file, cluster: one line per query
	jq -r 'select(.event == "done") | "  \(.id)  \(.outcome) \(.error)"' "$1"
	echo "  ($2's coordinator id: $(coordinator_id "$3"))"
}

say "step 1: blue is live; trino-guard finds green's mixed version"
wait_for 15 "the mixed-version finding" finding_open mixed-version/green/green-worker-2
mark "mixed-version found in green (green-worker-2 on 478)"
status
echo "users are served by: $(served_by)"
pages

say "step 2: cutover to green is refused, with the reason"
"$ctl" --url "$TRINO_GUARD_URL" cutover --to green --reason "upgrade to 479" || true
mark "cutover to green refused by the gate"
pages

say "step 3: green-worker-2 upgraded to 479; cutover while clients' queries run on blue"
curl -sf -XPOST "http://127.0.0.1:$green_ctl/control/green-worker-2" -d '{"version":"479"}' >/dev/null
no_green_findings() { ! "$ctl" --url "$TRINO_GUARD_URL" --json status | grep -q '"key": "[a-z-]*/green'; }
wait_for 15 "green to be clean" no_green_findings
wait_for 15 "both coordinators' ids in HAProxy's query-id map" routes_known
start_queries "$front" client-blue.out
on_blue=$client
wait_for 15 "the queries to run on blue" running_is "$blue_ctl" 4
mark "4 long queries started on blue through HAProxy"
"$ctl" --url "$TRINO_GUARD_URL" cutover --to green --reason "upgrade to 479"
wait_for 10 "the watch" phase_is WATCHING
mark "cutover: HAProxy now sends users to green; watch started"
status
echo "users are served by: $(served_by)"
start_queries "$front" client-green.out
on_green=$client
wait_for 15 "new queries to run on green" running_is "$green_ctl" 4
echo "clients' queries running: $(running_on "$blue_ctl") on blue (started before the cutover)," \
	"$(running_on "$green_ctl") on green (started after it)"
mark "4 new queries running on green, blue's 4 still on blue"
pages

say "step 4: green starts failing half its queries (INTERNAL_ERROR)"
fault=$(date +%s%N)
curl -sf -XPOST "http://127.0.0.1:$green_ctl/control/green-coord" \
	-d '{"fail_ratio":0.5,"error_type":"INTERNAL_ERROR"}' >/dev/null
mark "fault injected in green: 50 % of queries fail"
wait_for 30 "the rollback" phase_is ROLLED_BACK
back=$(date +%s%N)
seconds=$(awk "BEGIN { printf \"%.2f\", ($back - $fault) / 1e9 }")
mark "rolled back to blue automatically, $seconds s after the fault"
status
echo "users are served by: $(served_by)"
echo "the map file on disk: $(cat active.map)"
echo "clients' queries running: $(running_on "$green_ctl") on green (started before the rollback)"
pages

say "the clients' queries, as the client saw them"
wait "$on_blue" || true
wait "$on_green" || true
echo "started on blue before the cutover:"
outcomes client-blue.out blue "$blue"
echo "started on green before the rollback:"
outcomes client-green.out green "$green"
mark "queries lost: $(failed_in client-blue.out) of 4 at the cutover," \
	"$(failed_in client-green.out) of 4 at the rollback (routing by query id)"

say "the same switch without routing by query id: a second HAProxy, one-entry map only"
echo "active bk_blue" >plain.map
cat >plain.cfg <<CFG
global
    stats socket $work/plain.sock mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend trino
    bind 127.0.0.1:$plain_front
    use_backend %[str(active),map($work/plain.map,bk_blue)]
backend bk_blue
    server blue 127.0.0.1:$blue
backend bk_green
    server green 127.0.0.1:$green
CFG
haproxy -db -f plain.cfg >haproxy-plain.log 2>&1 &
pids="$pids $!"
wait_for 10 "the second HAProxy" curl -sf "http://127.0.0.1:$plain_front/v1/info"
start_queries "$plain_front" client-plain.out
on_plain=$client
wait_for 15 "the queries to run on blue" running_is "$blue_ctl" 4
echo "set map $work/plain.map active bk_green" | socat - "UNIX-CONNECT:$work/plain.sock" >/dev/null
echo "4 queries running on blue; the map switched to green by hand (socat)"
wait "$on_plain" || true
outcomes client-plain.out blue "$blue"
mark "routing off: a plain switch lost $(failed_in client-plain.out) of 4 queries in flight"

say "the journal (trino-guardctl events)"
"$ctl" --url "$TRINO_GUARD_URL" events | grep -E "alert|transition|finding-opened" | tail -12

say "timeline"
echo "$timeline"
echo
echo "demo finished in $(since) s; stopping everything"
