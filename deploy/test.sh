#!/bin/sh
# Installs what is missing, checks formatting, builds and runs every test:
# once plain (with valgrind memcheck on a collector and an agent run; the
# benchmarks' smoke runs through deploy/bench.sh --quick, which prints their
# table), then the static checks (deploy/static-check.sh: cppcheck and
# clang-tidy), then every fuzzer of tests/fuzz for 5 s (deploy/fuzz.sh), once
# under AddressSanitizer + UndefinedBehaviorSanitizer (without the labels
# bench, package and valgrind).
#   deploy/test.sh           everything (what CI runs)
#   deploy/test.sh --quick   plain build only, for the edit-compile loop
set -eu

cd "$(dirname "$0")/.."
quick=0
for arg in "$@"; do
	case "$arg" in
	--quick) quick=1 ;;
	-h | --help)
		sed -n '2,10p' "$0"
		exit 0
		;;
	*)
		echo "test.sh: unknown option $arg" >&2
		exit 2
		;;
	esac
done

started=$(date +%s)
deploy/install-deps.sh

echo "== format check (clang-format, .clang-format)"
if git rev-parse --git-dir >/dev/null 2>&1; then
	sources=$(git ls-files '*.c' '*.h')
else
	sources=$(find agent collector common proto rules tests -name '*.[ch]')
fi
# shellcheck disable=SC2086
clang-format --dry-run --Werror $sources

jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {
	dir=$1
	skip=$2
	shift 2
	echo "== build $dir $*"
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
	echo "== ctest $dir"
	(cd "$dir" && ctest --output-on-failure --timeout 300 ${skip:+-LE "$skip"})
}

run_suite build bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_SANITIZE=OFF
echo "== benchmarks, smoke runs (deploy/bench.sh --quick)"
deploy/bench.sh --quick --build-dir build
# A step of its own rather than a CTest: it reads the whole tree at once
# (a test of one part would not), its two tools print file:line findings meant
# for this log, and it needs the plain build's compile_commands.json, which the
# sanitized build dir would only duplicate. set -e fails the suite on a finding.
echo "== static checks (deploy/static-check.sh)"
deploy/static-check.sh --build-dir build
echo "== fuzzers, 5 s each (deploy/fuzz.sh 5)"
deploy/fuzz.sh 5
# The sanitized pass leaves out the benchmarks' smoke runs (label bench) and
# the package tests (label package): they drive the same daemons the
# integration tests already run under the sanitizers, and keeping them would
# take the suite past its 20 minutes on 2 cores. The debian_* tests are not
# registered at all in a sanitizer build (tests/CMakeLists.txt). Nor are the
# valgrind memcheck runs (label valgrind): valgrind cannot run ASan programs.
# Nor is the kill -9 loop (label kill_loop, 70 s): what it proves is that a
# collector killed at any moment comes back settled, which a sanitizer cannot
# see in a process killed -9; the recovery paths it drives run under the
# sanitizers in test_cutover_recovery and in test_cutover_e2e's kill -9 mid-watch.
if [ "$quick" -eq 0 ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_suite build-sanitize "bench|package|valgrind|kill_loop" -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON
fi
echo "== all tests passed in $(($(date +%s) - started)) s"
