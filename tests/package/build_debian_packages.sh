#!/bin/sh
# Builds the Debian packages from this tree, once for the tests that use them
# (debian_packages, debian_install_section): a copy of the tree (the files git
# knows, committed or new) in OUT_DIR/trino-guard, then, in it, the README's
# `dpkg-buildpackage -b -uc -us`, with the tests skipped (the suite runs them)
# and no -dbgsym packages; the .deb and .changes files land in OUT_DIR.
# Exit 0 built, 1 failed, 77 skipped (no dpkg-buildpackage, or not root).
#   tests/package/build_debian_packages.sh SOURCE_DIR OUT_DIR
set -eu

src=$(cd "$1" && pwd)
out=$2
say() { printf 'debian_packages_build: %s\n' "$*"; }

. "$(dirname "$0")/package_lib.sh"
skip_unless_packaging

started=$(date +%s)
rm -rf "$out"
mkdir -p "$out/trino-guard"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# committed and new files alike, nothing git ignores (build dirs)
	(cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf -) |
		tar -xf - -C "$out/trino-guard"
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -xf - -C "$out/trino-guard"
fi
# parallel=2: the suite runs one test at a time, and no build here uses more
if ! (cd "$out/trino-guard" &&
	DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" dpkg-buildpackage -b -uc -us >"$out/build.log" 2>&1); then
	tail -40 "$out/build.log"
	say "FAILED: dpkg-buildpackage (log above)"
	exit 1
fi
rm -rf "$out/trino-guard"
ls "$out"/*.deb
say "built in $(($(date +%s) - started)) s"
