#!/bin/sh
# Runs every benchmark and prints one report: the machine and the date first,
# then each benchmark's table under the command that made it, then a summary.
#   deploy/bench.sh                  full runs (each benchmark with its defaults)
#   deploy/bench.sh --quick          smoke runs (each benchmark's CTest command)
#   deploy/bench.sh --build-dir DIR  a build other than build/ (RelWithDebInfo)
#   deploy/bench.sh --only NAME      one benchmark (repeatable)
# A benchmark is any CTest with the label `bench` (tests/CMakeLists.txt): its
# command is the smoke run, the same program without arguments the full run.
# Adding one is its add_test line there; nothing here changes.
set -eu

cd "$(dirname "$0")/.."
quick=0
build=build
only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--build-dir)
		[ $# -ge 2 ] || {
			echo "bench.sh: --build-dir needs a directory" >&2
			exit 2
		}
		build=$2
		shift
		;;
	--only)
		[ $# -ge 2 ] || {
			echo "bench.sh: --only needs a benchmark name" >&2
			exit 2
		}
		only="$only $2"
		shift
		;;
	-h | --help)
		sed -n '2,10p' "$0"
		exit 0
		;;
	*)
		echo "bench.sh: unknown option $1" >&2
		exit 2
		;;
	esac
	shift
done

for tool in cmake ctest jq; do
	command -v "$tool" >/dev/null || {
		echo "bench.sh: $tool is missing (deploy/install-deps.sh)" >&2
		exit 1
	}
done

if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_SANITIZE=OFF >/dev/null
fi
if grep -q '^TG_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
	echo "bench.sh: $build is a sanitizer build; figures need a plain one" >&2
	exit 1
fi
cmake --build "$build" -j1 >/dev/null

# One line per benchmark: name, working directory, the smoke command (tab-separated).
list=$(cd "$build" && ctest --show-only=json-v1 -L bench | jq -r '
	.tests[] | [(.name | sub("^bench_"; "") | sub("_smoke$"; "")),
	            ((.properties // [])[] | select(.name == "WORKING_DIRECTORY") | .value),
	            (.command | map(@sh) | join(" "))] | @tsv')
if [ -z "$list" ]; then
	echo "bench.sh: no test labelled bench in $build" >&2
	exit 1
fi

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
memory=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "-")
mode=full
[ "$quick" -eq 1 ] && mode=quick
echo "| date (UTC) | commit | mode | nproc | CPU | memory | load average (1/5/15 min) |"
echo "|---|---|---|---|---|---|---|"
echo "| $(date -u '+%Y-%m-%d %H:%M') | $commit | $mode | $(nproc) | $model | $memory |" \
	"$(cut -d ' ' -f 1-3 /proc/loadavg) |"

summary=""
failed=0
tab=$(printf '\t')
while IFS="$tab" read -r name dir command; do
	if [ -n "$only" ] && ! echo " $only " | grep -q " $name "; then
		continue
	fi
	if [ "$quick" -eq 0 ]; then
		command=${command%% *} # the program alone: its defaults are the full run
	fi
	shown=$(echo "$command" | sed "s|'||g; s|$(pwd)/||g")
	echo
	echo "## $name: \`$shown\`"
	echo
	started=$(date +%s)
	if (cd "$dir" && eval "$command"); then
		result=ok
	else
		result="FAILED ($?)"
		failed=1
	fi
	seconds=$(($(date +%s) - started))
	echo
	echo "($name: ${seconds} s, load average after: $(cut -d ' ' -f 1-3 /proc/loadavg))"
	summary="$summary| $name | \`$shown\` | $seconds | $result |
"
done <<EOF
$list
EOF

echo
echo "| benchmark | command | seconds | result |"
echo "|---|---|---|---|"
printf '%s' "$summary"
exit "$failed"
