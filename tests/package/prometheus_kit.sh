#!/bin/sh
# The Prometheus kit in deploy/prometheus/ holds: the rules pass `promtool
# check rules` and their unit tests (`promtool test rules`, one case per
# alert), and every metric name the rules and the Grafana dashboard use is
# one a running collector or agent exports (a name renamed in metrics.c or
# agent_metrics.c and not here fails, naming it).
#   tests/package/prometheus_kit.sh SOURCE_DIR COLLECTOR AGENT
set -eu

src=$1
collector=$2
agent=$3
kit=$src/deploy/prometheus
work=$(mktemp -d)
pid=""
agent_pid=""
cleanup() {
	if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

promtool check rules "$kit/trino-guard.rules.yml"
(cd "$kit" && promtool test rules trino-guard.rules.test.yml)

# A collector with no agent: every family is exported all the same (a
# webhook sink to a closed port, so the alert families are there too).
started=0
for attempt in 1 2 3 4 5; do
	port=$(( 20000 + ($$ * 7 + attempt * 131) % 20000 ))
	cat > "$work/collector.ini" <<INI
[collector]
listen = ipc://$work/ingest.sock
curve = off
state_dir = $work/state
[api]
listen = 127.0.0.1:$port
[cluster.blue]
[cluster.green]
[alert.hook]
type = webhook
url = http://127.0.0.1:1/hook
INI
	"$collector" -c "$work/collector.ini" > "$work/collector.log" 2>&1 &
	pid=$!
	deadline=$(( $(date +%s) + 30 ))
	while [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
		if curl -sf "http://127.0.0.1:$port/metrics" > "$work/metrics.txt" 2>/dev/null; then
			started=1
			break
		fi
		sleep 0.2
	done
	[ "$started" -eq 1 ] && break
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
done
if [ "$started" -ne 1 ]; then
	echo "the collector did not answer /metrics:" >&2
	cat "$work/collector.log" >&2
	exit 1
fi

# An agent publishing to it with its /metrics on: its families are there with
# no Trino to poll (the poll errors then count).
started=0
for attempt in 1 2 3 4 5; do
	agent_port=$(( 20000 + ($$ * 11 + attempt * 173 + 7) % 20000 ))
	cat > "$work/agent.ini" <<INI
[agent]
cluster = blue
node_id = blue-worker-1
interval = 200ms
metrics_port = $agent_port
[trino]
url = http://127.0.0.1:1
etc_dir = $work
[collector]
endpoints = ipc://$work/ingest.sock
curve = off
INI
	"$agent" -c "$work/agent.ini" > "$work/agent.log" 2>&1 &
	agent_pid=$!
	deadline=$(( $(date +%s) + 30 ))
	while [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$agent_pid" 2>/dev/null; do
		if curl -sf "http://127.0.0.1:$agent_port/metrics" > "$work/agent-metrics.txt" 2>/dev/null &&
			grep -q '^trino_guard_agent_last_poll_duration_seconds ' "$work/agent-metrics.txt"; then
			started=1
			break
		fi
		sleep 0.2
	done
	[ "$started" -eq 1 ] && break
	kill "$agent_pid" 2>/dev/null || true
	wait "$agent_pid" 2>/dev/null || true
	agent_pid=""
done
if [ "$started" -ne 1 ]; then
	echo "the agent did not answer /metrics:" >&2
	cat "$work/agent.log" >&2
	exit 1
fi
promtool check metrics < "$work/agent-metrics.txt"

# What they export: each family, and a histogram's _bucket, _sum and _count.
awk '/^# TYPE / { print $3; if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" } }' \
	"$work/metrics.txt" "$work/agent-metrics.txt" | sort -u > "$work/exported"
# What the kit uses: every trino_guard_* and process_* name not inside a
# recording rule's name (those follow a ':').
grep -ohE '(^|[^:a-z0-9_])(trino_guard|process)_[a-z0-9_]+' \
	"$kit/trino-guard.rules.yml" "$kit/trino-guard.grafana.json" |
	sed 's/^[^a-z]//' | grep -v '^trino_guard_runbook$' | sort -u > "$work/used"
missing=$(comm -23 "$work/used" "$work/exported")
if [ -n "$missing" ]; then
	echo "the Prometheus kit uses metrics neither the collector nor the agent exports:" >&2
	echo "$missing" >&2
	exit 1
fi
echo "prometheus kit: rules checked and tested; $(wc -l < "$work/used") metric names, all exported"
