#!/bin/sh
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 60) and
# prints the executions per target. Builds them first in build-fuzz (clang,
# -DTG_FUZZ=ON). Each target grows its corpus in build-fuzz/corpus/<target>
# (seeded from tests/fuzz/corpus/<target> and tests/fuzz/regressions/<target>);
# a crash is written to build-fuzz/crashes/<target>/ and fails the run: keep
# it as tests/fuzz/regressions/<target>/<name> and fix it. -j JOBS runs that
# many targets at once (default: the number of CPUs), each on one core.
#   deploy/fuzz.sh [-j JOBS] [SECONDS]
set -eu

cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 1)
if [ "${1:-}" = "-j" ]; then
	jobs=${2:-}
	shift 2 || true
fi
seconds=${1:-60}
case "$seconds" in
'' | *[!0-9]*)
	echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2
	exit 2
	;;
esac
case "$jobs" in
'' | *[!0-9]* | 0*)
	echo "fuzz.sh: JOBS must be a whole number above 0, not '$jobs'" >&2
	exit 2
	;;
esac
if ! clang -fsanitize=fuzzer -x c -o /dev/null - >/dev/null 2>&1 <<'EOC'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOC
then
	echo "fuzz.sh: clang cannot link libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
fi

build="build-fuzz"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DTG_FUZZ=ON >/dev/null
targets=$(sed -n 's/^tg_fuzz_target(\([a-z_0-9]*\).*/\1/p' tests/fuzz/CMakeLists.txt)
# shellcheck disable=SC2086
cmake --build "$build" -j1 --target $targets >/dev/null

# Runs TARGET for SECONDS; its line of the table goes to build-fuzz/fuzz-TARGET.result.
run_target() {
	target=$1
	corpus="$build/corpus/$target"
	crashes="$build/crashes/$target"
	log="$build/fuzz-$target.log"
	mkdir -p "$corpus" "$crashes"
	seeds=""
	for dir in "tests/fuzz/corpus/$target" "tests/fuzz/regressions/$target"; do
		if [ -d "$dir" ]; then seeds="$seeds $dir"; fi
	done
	result=clean
	# shellcheck disable=SC2086
	if ! "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" $seeds >"$log" 2>&1; then
		result="CRASH (see $log, input in $crashes/)"
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	printf '%-24s %12s %s\n' "$target" "${runs:-?}" "$result" >"$build/fuzz-$target.result"
}

# Targets that read files write them to TMPDIR: a tmpfs when there is one,
# so that their fsyncs cost nothing.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
	export TMPDIR
fi

# JOBS lanes, each running every JOBS-th target in turn.
lane=0
while [ "$lane" -lt "$jobs" ]; do
	(
		index=0
		for target in $targets; do
			if [ $((index % jobs)) -eq "$lane" ]; then run_target "$target"; fi
			index=$((index + 1))
		done
	) &
	lane=$((lane + 1))
done
wait

failed=""
printf '%-24s %12s %s\n' target executions result
for target in $targets; do
	cat "$build/fuzz-$target.result"
	if ! grep -q ' clean$' "$build/fuzz-$target.result"; then failed="$failed $target"; fi
done
if [ -n "$failed" ]; then
	echo "fuzz.sh: crashes in:$failed" >&2
	exit 1
fi
