#!/bin/sh
# One set of recipes: the files the end-to-end suite runs with real
# procmail, maildrop, Dovecot, Postfix and qmail's harness
# (tests/e2e/conf/) are what backstop(1) shows, line for line, with the
# installed path of a user (/usr/local/bin/backstop).  e2e.t checks
# docs/setups.md and docs/hosts.md against the same files.
. "$(dirname "$0")/../lib.sh"
command -v mandoc > /dev/null || skip_all "no mandoc"
scratch
E2E=$TOP/tests/e2e

# the man page as text, each line without its indentation
mandoc -T ascii "$TOP/man/backstop.1" | sed "s/.\x08//g" |
    sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' > "$T/page"
[ -s "$T/page" ]; ok $? "backstop(1) renders"

# contains FILE: the lines of FILE (without indentation) stand in the page
# in order and next to each other, blank lines aside
contains() {
	grep -v '^[[:space:]]*$' "$1" | sed -e 's/^[[:space:]]*//' \
	    -e 's/[[:space:]]*$//' > "$T/want"
	grep -v '^$' "$T/page" > "$T/have"
	awk 'NR == FNR { w[n++] = $0; next }
	    { h[m++] = $0 }
	    END {
		for (i = 0; i + n <= m; i++) {
			for (j = 0; j < n && h[i + j] == w[j]; j++)
				;
			if (j == n)
					exit 0
		}
		exit 1
	    }' "$T/want" "$T/have"
}
for f in forward dot-qmail procmailrc mailfilter-xfilter \
    mailfilter-deliver dovecot.sieve; do
	"$E2E/readme-conf.sh" "$E2E/conf/$f" /usr/local/bin/backstop > "$T/$f"
	contains "$T/$f"; ok $? "backstop(1) shows tests/e2e/conf/$f as tested"
done
done_testing
