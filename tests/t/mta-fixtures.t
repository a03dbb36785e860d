#!/bin/sh
# Bounces, delay warnings and auto-replies written by real MTA software
# (Exim, Postfix, Sendmail, Dovecot LDA + Sieve, vacation(1)) to originals
# we sent ourselves: tests/fixtures/mta/, made by scripts/gen-mta-fixtures.sh.
# Golden file expected.tsv: FILE, ORIGINAL-MESSAGE-ID (- when the message
# carries none), KIND, and an optional fourth column: a known failure of
# backstop, reported as TAP TODO (so it does not fail) until it is fixed.
# For every row: the id and kind scan reports; the verdict is `ours` with
# a pattern for our outbound ids and `backscatter` with one that matches
# nothing.  The originals (orig-*.eml) must never be bounces.
. "$(dirname "$0")/../lib.sh"
M=$FIX/mta
[ -f "$M/expected.tsv" ] || skip_all "no $M/expected.tsv"
cd "$M" || exit 1
scratch
rules "$T/ours.yaml" <<'Y'
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]{8}@mail\.example\.org>$'
Y
rules "$T/none.yaml" <<'Y'
outbound:
  message_id:
    - '^<this-matches-nothing@nowhere\.invalid>$'
Y

# check GOT WANT DESCRIPTION TODO: `is`, or a TAP TODO line when the row
# is a known failure (echo directly: lib.sh's ok counts it as a failure)
check() {
	if [ -z "$4" ]; then is "$1" "$2" "$3"; return; fi
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $_tap_n - $3 # TODO $4 (passes now: is the TODO still needed?)"
	else echo "not ok $_tap_n - $3 # TODO $4"; printf '#   got:  %s\n#   want: %s\n' "$1" "$2"; fi
}

grep -v '^#' expected.tsv > "$T/want"
set --
for f in *.eml; do case $f in orig-*) ;; *) set -- "$@" "$f" ;; esac; done
printf '%s\n' "$@" > "$T/files"
is "$(cut -f1 "$T/want" | sort)" "$(sort "$T/files")" "every MTA fixture is in expected.tsv, and only those"

"$BACKSTOP" scan -r "$T/ours.yaml" "$@" > "$T/ours"
ok $? "scan with our pattern exits 0"
"$BACKSTOP" scan -r "$T/none.yaml" "$@" > "$T/none"
ok $? "scan with a pattern that matches nothing exits 0"

while IFS='	' read -r f id kind todo; do
	o=$(awk -F'\t' -v f="$f" '$1 == f' "$T/ours")
	n=$(awk -F'\t' -v f="$f" '$1 == f' "$T/none")
	check "$(echo "$o" | cut -f4)" "$id" "$f: original Message-ID $id" "$todo"
	check "$(echo "$o" | cut -f3)" "$kind" "$f: kind $kind" "$todo"
	if [ "$id" != - ]; then
		check "$(echo "$o" | cut -f2)" ours "$f: ours with our pattern" "$todo"
		check "$(echo "$n" | cut -f2)" backscatter "$f: backscatter with no matching pattern" "$todo"
	elif [ "$kind" = none ]; then	# nothing in it says auto-reply
		check "$(echo "$o" | cut -f2)-$(echo "$n" | cut -f2)" not-bounce-not-bounce \
		    "$f: not a bounce (carries nothing of the original)" "$todo"
	else	# an auto-reply without the original's id
		check "$(echo "$o" | cut -f2)-$(echo "$n" | cut -f2)" unknown-unknown \
		    "$f: unknown, whatever the patterns" "$todo"
	fi
done < "$T/want"

# the originals as we sent them: ordinary mail, whatever the patterns
for f in orig-*.eml; do
	for r in ours none; do
		v=$("$BACKSTOP" scan -r "$T/$r.yaml" "$f" | cut -f2)
		is "$v" not-bounce "$f is not a bounce ($r.yaml)"
	done
done
done_testing
