#!/bin/sh
# Static checks of the product code (agent/, collector/, common/, rules/; not
# tests/, not the generated protobuf code): cppcheck with the suppressions of
# deploy/cppcheck-suppressions.txt, then clang-tidy with .clang-tidy, both on
# the files and flags of a build dir's compile_commands.json (default build;
# configured first when it has none). Both run; a finding of either fails.
# clang-tidy runs JOBS files at once (default: the number of CPUs).
#   deploy/static-check.sh [--build-dir DIR] [-j JOBS]
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
build=build
jobs=$(nproc 2>/dev/null || echo 1)
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir)
		build=${2:-}
		shift 2 || true
		;;
	-j)
		jobs=${2:-}
		shift 2 || true
		;;
	-h | --help)
		sed -n '2,8p' "$0"
		exit 0
		;;
	*)
		echo "static-check.sh: unknown option $1" >&2
		exit 2
		;;
	esac
done
case "$jobs" in
'' | *[!0-9]* | 0*)
	echo "static-check.sh: JOBS must be a whole number above 0, not '$jobs'" >&2
	exit 2
	;;
esac
for tool in cppcheck clang-tidy jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "static-check.sh: $tool is missing (deploy/install-deps.sh installs it)" >&2
		exit 1
	fi
done

# The top-level CMakeLists.txt exports compile commands; the generated
# protobuf header must exist for either tool to read what includes it.
if [ ! -f "$build/compile_commands.json" ]; then
	cmake -S . -B "$build" >/dev/null
fi
cmake --build "$build" --target tg_proto_header >/dev/null
work="$build/static-check"
mkdir -p "$work/include" "$work/cppcheck"

files=$(jq -r --arg root "$root/" '.[].file | ltrimstr($root)
	| select(test("^(agent|collector|common|rules)/"))' "$build/compile_commands.json" |
	sort -u)
if [ -z "$files" ]; then
	echo "static-check.sh: $build/compile_commands.json names no product file" >&2
	exit 1
fi
count=$(echo "$files" | wc -l)
started=$(date +%s)
failed=""

# cppcheck is given the product's -I and -D, one configuration, and not
# /usr/include (it would parse all of libc and glibc's macros into noise);
# --library=posix tells it libc's and POSIX's functions instead. The
# generated header tests PROTOBUF_C_VERSION_NUMBER with #error, so
# protobuf-c's own header is made visible through a directory of its own.
ln -sfn "$(pkg-config --variable=includedir libprotobuf-c)/protobuf-c" "$work/include/protobuf-c"
flags=$(jq -r --arg root "$root/" '.[] | select(.file | ltrimstr($root)
	| test("^(agent|collector|common|rules)/")) | .command' "$build/compile_commands.json" |
	tr ' ' '\n' | grep -E '^-[ID]' | sed 's/\\"/"/g' | sort -u)
echo "== cppcheck ($count files, deploy/cppcheck-suppressions.txt)"
# shellcheck disable=SC2086
if ! cppcheck -q -j "$jobs" --std=c11 --library=posix \
	--enable=warning,style,performance,portability \
	--suppressions-list=deploy/cppcheck-suppressions.txt --inline-suppr --error-exitcode=1 \
	--cppcheck-build-dir="$work/cppcheck" $flags -I "$work/include" $files; then
	echo "static-check.sh: cppcheck found the above" >&2
	failed="$failed cppcheck"
else
	echo "cppcheck: clean in $(($(date +%s) - started)) s"
fi

echo "== clang-tidy ($count files, .clang-tidy, $jobs at once)"
started=$(date +%s)
log="$work/clang-tidy.log"
# The compile commands are GCC's: clang does not know some of its -W options.
if ! echo "$files" | xargs -P "$jobs" -n 4 clang-tidy -p "$build" --quiet \
	--extra-arg=-Wno-unknown-warning-option >"$log" 2>&1; then
	grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?(generated|treated as errors)' "$log" >&2
	echo "static-check.sh: clang-tidy found the above (log: $log)" >&2
	failed="$failed clang-tidy"
else
	echo "clang-tidy: clean in $(($(date +%s) - started)) s"
fi
if [ -n "$failed" ]; then
	echo "static-check.sh: findings of:$failed" >&2
	exit 1
fi
