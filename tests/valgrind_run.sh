#!/bin/sh
# Runs an integration test with every PROGRAM (trino-guard-collector or
# trino-guard-agent, by file name) it starts under valgrind memcheck, and fails
# unless the test passes and each of those processes ended with valgrind's
# "ERROR SUMMARY: 0 errors" (no invalid access, no uninitialised use, no
# definite or indirect leak). A daemon the test kills with SIGKILL writes no
# summary: it passes when valgrind reported nothing until then. One log per
# process in LOG_DIR (no spaces: TG_TEST_WRAP is split at them); the harness's
# deadlines are stretched by TG_TEST_TIMEOUT_SCALE (default 10 here).
#   tests/valgrind_run.sh PROGRAM LOG_DIR TEST [ARGS...]
set -eu

program=$1
logs=$2
shift 2
rm -rf "$logs"
mkdir -p "$logs"
export TG_TEST_WRAP_PROGRAM="$program"
export TG_TEST_WRAP="valgrind --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
--num-callers=30 --log-file=$logs/$program-%p.log"
export TG_TEST_TIMEOUT_SCALE="${TG_TEST_TIMEOUT_SCALE:-10}"

status=0
"$@" || status=$?
runs=0
killed=0
failed=0
for log in "$logs"/*.log; do
	[ -f "$log" ] || continue
	runs=$((runs + 1))
	if grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		continue
	fi
	# No summary: killed by SIGKILL (a test may do that on purpose). Then
	# clean means valgrind said nothing after its banner, which ends with
	# the "Parent PID" line.
	if ! grep -q 'ERROR SUMMARY' "$log" &&
		! sed '1,/Parent PID:/d' "$log" | grep -qv '^==[0-9]*== *$'; then
		killed=$((killed + 1))
		continue
	fi
	failed=$((failed + 1))
	echo "valgrind_run.sh: $log:" >&2
	cat "$log" >&2
done
echo "valgrind_run.sh: $runs run(s) of $program under valgrind ($killed killed" \
	"before a summary, silent until then), $failed with errors"
if [ "$runs" -eq 0 ]; then
	echo "valgrind_run.sh: the test started no $program" >&2
	exit 1
fi
if [ "$status" -ne 0 ]; then
	echo "valgrind_run.sh: the test failed (exit $status)" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
