#!/bin/sh
# The README is a front page (what backstop is, the two commands, set-up,
# a map) and every other topic has its page in docs/: the README stays
# small, names the two commands early, links every page, and no relative
# link of the README or of a page points at nothing.
. "$(dirname "$0")/../lib.sh"
R=$TOP/README.md

size=$(wc -c < "$R")
[ "$size" -le 16000 ]; ok $? "README is at most 16,000 bytes ($size)"
head -n 80 "$R" | grep -q '^make demo' &&
    head -n 80 "$R" | grep -q '^make check'
ok $? "the two commands stand in the README's first 80 lines"
n=0
for p in "$TOP"/docs/*.md; do
	n=$((n + 1))
	grep -q "](docs/${p##*/})" "$R"
	ok $? "README links docs/${p##*/}"
done
[ "$n" -ge 4 ]; ok $? "at least 4 pages in docs/ ($n)"
grep -q 'ISC' "$R" && [ -f "$TOP/LICENSE" ]
ok $? "the README names the licence, and LICENSE is there"

# every relative link target exists (anchors and URLs aside)
for f in "$R" "$TOP"/docs/*.md; do
	d=$(dirname "$f")
	bad=$(grep -o '](\([^)#:]*\)\(#[^)]*\)\?)' "$f" |
	    sed 's/^](\([^)#]*\).*/\1/' | sort -u | while read -r l; do
		[ -n "$l" ] && [ ! -e "$d/$l" ] && printf '%s ' "$l"
	    done)
	[ -z "$bad" ]; ok $? "${f#$TOP/}: every relative link resolves${bad:+ (missing: $bad)}"
done
done_testing
