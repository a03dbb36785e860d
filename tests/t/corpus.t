#!/bin/sh
# The real corpus (../shared/corpus, read in place, never copied):
# backstop scan must report the original Message-ID of expected.tsv for
# at least 561 of the 566 bounces that carry one, never a wrong id, no id
# where none is expected, and no ham message may ever be backscatter.
. "$(dirname "$0")/../lib.sh"
S=$CORPUS/sisimai
[ -f "$S/expected.tsv" ] || skip_all "corpus not found at $S"
scratch

# 1. Message-IDs, with a pattern that matches nothing (worst case for ham)
rules "$T/none.yaml" <<'Y'
outbound:
  message_id: ['^<this-matches-nothing>$']
Y
"$BACKSTOP" scan -r "$T/none.yaml" "$S/bounces" "$S/not-bounces" > "$T/scan"
ok $? "scan of the corpus exits 0"
awk -F'\t' -v pfx="$S/" -v out="$T" '
function strip(s) { if (s ~ /^<.*>$/) s = substr(s, 2, length(s) - 2); return s }
NR == FNR { f = $1; sub(pfx, "", f); got[f] = $4; next }
{
	f = $1; want = $2; g = (f in got) ? got[f] : "(not scanned)"
	if (want == "-") {
		if (g != "-") { spurious++; print "spurious " f " " g > out "/bad" }
		else dash++
		next
	}
	rows++
	if (g != "-" && strip(g) == strip(want)) { found++; next }
	if ($3 == "uncertain") { unc++; print "uncertain " f " got " g " want " want > out "/unc"; next }
	if (g == "-") { missed++; print "missed " f " want " want > out "/bad" }
	else { wrong++; print "WRONG " f " got " g " want " want > out "/bad" }
}
END {
	printf "%d %d %d %d %d %d\n", rows, found, missed, wrong, spurious, unc
}' "$T/scan" "$S/expected.tsv" > "$T/counts"
read -r rows found missed wrong spurious unc < "$T/counts"
diag "rows with an expected id: $rows; found: $found; missed: $missed;" \
    "wrong: $wrong; id where none expected: $spurious;" \
    "uncertain rows read the other way: $unc"
[ -f "$T/bad" ] && sed 's/^/# /' "$T/bad"
[ -f "$T/unc" ] && sed 's/^/# /' "$T/unc"
is "$rows" 566 "expected.tsv has 566 rows with an id"
ok "$([ "$found" -ge 561 ]; echo $?)" "at least 561 of 566 originals found ($found)"
is "$wrong" 0 "no wrong Message-ID"
is "$spurious" 0 "no Message-ID where the file carries none"

# 2. ham: never backscatter, whatever the patterns
for pat in '^<this-matches-nothing>$' '.'; do
	printf "outbound:\n  message_id: ['%s']\n" "$pat" > "$T/ham.yaml"
	chmod 600 "$T/ham.yaml"
	n=$("$BACKSTOP" scan -r "$T/ham.yaml" "$CORPUS/ham" |
	    awk -F'\t' '$2 == "backscatter"' | tee "$T/hambad" | wc -l)
	sed 's/^/# /' "$T/hambad"
	is "$n" 0 "no ham message is backscatter with pattern $pat"
done
n=$("$BACKSTOP" scan -r "$T/none.yaml" "$CORPUS/ham" | awk -F'\t' '$2 != "not-bounce"' |
    tee "$T/hamb" | wc -l)
sed 's/^/# /' "$T/hamb"
is "$n" 0 "no ham message is even taken for a bounce"

# 3. verdicts end to end: patterns for the expected ids of every other row
# (20 ids to a pattern: a rule file holds at most 256 patterns)
{
	echo "outbound:"
	echo "  message_id:"
	awk -F'\t' '$2 != "-" && $3 != "uncertain" && NR % 2 == 0 {
		id = $2; if (id ~ /^<.*>$/) id = substr(id, 2, length(id) - 2)
		gsub(/\047/, "\047\047", id)
		alt = alt (n++ % 20 ? "|" : "") "\\Q" id "\\E"
		if (n % 20 == 0) { printf "    - \047^<(?:%s)>$\047\n", alt; alt = "" }
	}
	END { if (alt != "") printf "    - \047^<(?:%s)>$\047\n", alt }' "$S/expected.tsv"
} > "$T/half.yaml"
chmod 600 "$T/half.yaml"
"$BACKSTOP" scan -r "$T/half.yaml" "$S/bounces" > "$T/half"
awk -F'\t' -v pfx="$S/" '
function strip(s) { if (s ~ /^<.*>$/) s = substr(s, 2, length(s) - 2); return s }
FILENAME == ARGV[1] {
	if ($2 == "-" || $3 == "uncertain") next
	want[$1] = strip($2)
	if (FNR % 2 == 0) listed[strip($2)] = 1
	next
}
{
	f = $1; sub(pfx, "", f)
	if (!(f in want)) next
	if (want[f] in listed) {
		if ($2 == "ours") ours++
		else { bad++; print "# listed but " $2 ": " f }
	} else if ($2 == "backscatter" || $2 == "unknown") other++
	else { bad++; print "# not listed but " $2 ": " f }
}
END { printf "%d %d %d\n", ours + 0, other + 0, bad + 0 > "/dev/stderr" }' \
    "$S/expected.tsv" "$T/half" 2> "$T/hc"
read -r ours other bad < "$T/hc"
diag "half the corpus in the rules: ours $ours, backscatter or unknown $other, wrong $bad"
is "$bad" 0 "bounces of listed ids are ours, the others backscatter or unknown"
ok "$([ "$ours" -gt 250 ]; echo $?)" "more than 250 bounces are ours ($ours)"
done_testing
