#!/bin/sh
# The man pages say what the code does: every key of the agent's and the
# collector's config tables (agent/agent_config.c, collector/collector_config*.c)
# is described in agent.ini(5) and collector.ini(5), and every long option and
# command that the programs' --help lists is in their own page. A key or an
# option added without its page fails here, naming it.
#   tests/package/man_pages_match_code.sh SOURCE_DIR AGENT COLLECTOR CTL
set -eu

src=$1
agent=$2
collector=$3
ctl=$4
man=$src/docs/man
missing=0
terms=$(mktemp)
trap 'rm -f "$terms"' EXIT

# What a page describes: its bold words (.B, .BR, .BI lines and \fB...\fR),
# one a line, with roff's '\-' undone and quotes and trailing punctuation cut,
# and its section headings (.SH [agent]).
page_terms() {
	sed -n 's/\\-/-/g; s/^\.B[IR]\{0,1\} \(.*\)/\1/p; s/.*\\fB\([^\\]*\)\\f.*/\1/p; s/^\.SH \(\[.*\]\)$/\1/p' "$1" |
		tr ' "' '\n\n' | sed 's/[.,;:]*$//' | grep -v '^$' | sort -u
}

check() { # PAGE WHAT WORD...: each WORD is a term of PAGE
	page=$1
	what=$2
	shift 2
	page_terms "$man/$page" >"$terms"
	for word in "$@"; do
		if ! grep -qxF -- "$word" "$terms"; then
			echo "man_pages: $page does not describe $what '$word'"
			missing=1
		fi
	done
}

# Key names from the tables' rows: KEY(section, "name", ...) and {"name", CONFIG_...}.
table_keys() { # FILE...
	sed -n 's/.*KEY([a-z_]*, "\([a-z_]*\)".*/\1/p; s/.*{"\([a-z_]*\)", CONFIG_.*/\1/p' "$@" | sort -u
}
# Section names from the sections' rows: {"name", false|true, ...}.
table_sections() {
	sed -n 's/.*{"\([a-z.-]*\)", \(false\|true\), .*/\1/p' "$1" | sed 's/\.$/.NAME/' | sort -u
}

# shellcheck disable=SC2046 # one word per key
check agent.ini.5 key $(table_keys "$src/agent/agent_config.c")
# shellcheck disable=SC2046
check agent.ini.5 section $(table_sections "$src/agent/agent_config.c" | sed 's/.*/[&]/')
# shellcheck disable=SC2046
check collector.ini.5 key $(table_keys "$src"/collector/collector_config*.c)
# shellcheck disable=SC2046
check collector.ini.5 section $(table_sections "$src/collector/collector_config.c" | sed 's/.*/[&]/')

# Long options as --help prints them.
long_options() { "$1" --help | grep -o -- '--[a-z][a-z-]*' | sort -u; }
# shellcheck disable=SC2046
check trino-guard-agent.8 option $(long_options "$agent")
# shellcheck disable=SC2046
check trino-guard-collector.8 option $(long_options "$collector")
# shellcheck disable=SC2046
check trino-guardctl.1 option $(long_options "$ctl")
# trino-guardctl's commands: the first word of each row under "commands:".
# shellcheck disable=SC2046
check trino-guardctl.1 command $("$ctl" --help | sed -n '/^commands:/,/^$/p' |
	sed -n 's/^  \([a-z][a-z-]*\).*/\1/p')
# and the environment it reads
# shellcheck disable=SC2046
check trino-guardctl.1 variable $("$ctl" --help | sed -n '/^environment:/,/^$/p' |
	sed -n 's/^  \([A-Z_]*\) .*/\1/p')

if [ "$missing" -ne 0 ]; then
	exit 1
fi
echo "man_pages: every config key, section, option and command is described"
