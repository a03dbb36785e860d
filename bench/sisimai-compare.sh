#!/bin/sh
# Which originals does backstop find that Sisimai misses, and the other
# way round?  Both read the same corpus files; each answer is compared with
# expected.tsv after stripping one pair of <> on both sides.
#
#   bench/sisimai-compare.sh [OUTDIR]
#   env: BACKSTOP (default ./backstop), BENCH_CORPUS (default
#        ../shared/corpus next to the repository)
#
# Prints the counts and the lists; OUTDIR (default bench/out) keeps the raw
# answers (backstop.tsv, sisimai.tsv) and the same report (compare.txt).
# "found" = the expected id exactly; "wrong" = another id; "missed" = none.
# Rows marked uncertain in expected.tsv (two defensible readings) are
# counted apart, as the corpus README asks.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$root/bench/out}
corpus=${BENCH_CORPUS:-$root/../shared/corpus}
backstop=${BACKSTOP:-$root/backstop}
case $backstop in /*) ;; *) backstop=$(pwd)/$backstop ;; esac
sis=$corpus/sisimai
mkdir -p "$out"

rules=$(mktemp)
trap 'rm -f "$rules"' EXIT
printf 'outbound:\n  message_id:\n    - %s\n' \
    "'^<[0-9]{14}\\.[0-9A-F]{6,20}@mail\\.example\\.org>\$'" > "$rules"
chmod 600 "$rules"

# backstop: PATH VERDICT KIND ID REASON -> FILE ID
BACKSTOP_SYSTEM_RULES= "$backstop" scan -r "$rules" "$sis/bounces" \
    "$sis/not-bounces" | awk -F'\t' -v s="$sis/" \
    '{ f = $1; sub(s, "", f); print f "\t" $4 }' > "$out/backstop.tsv"
# Sisimai: FILE ID (brackets already stripped by Sisimai)
perl "$here/sisimai-scan.pl" "$sis"/bounces/* "$sis"/not-bounces/* \
    2>/dev/null | awk -F'\t' -v s="$sis/" \
    '{ f = $1; sub(s, "", f); print f "\t" $2 }' > "$out/sisimai.tsv"

awk -F'\t' '
function strip(s) { if (s ~ /^<.*>$/) s = substr(s, 2, length(s) - 2); return s }
function sorted(s,    a, n, i, j, t, r) {
	n = split(s, a, "\n")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	r = ""
	for (i = 1; i <= n; i++) if (a[i] != "") r = r a[i] "\n"
	return r
}
FILENAME == ARGV[1] { want[$1] = strip($2); unc[$1] = ($3 == "uncertain"); next }
FILENAME == ARGV[2] { b[$1] = strip($2); next }
FILENAME == ARGV[3] { s[$1] = strip($2); next }
END {
	for (f in want) {
		if (!(f in b)) b[f] = "-"
		if (!(f in s)) s[f] = "-"
		if (want[f] == "-") {
			dash++
			if (b[f] != "-") { bdash++; bdl = bdl "  " f "\t" b[f] "\n" }
			if (s[f] != "-") sdash++
			continue
		}
		if (unc[f]) {
			nunc++
			if (b[f] == want[f]) bunc++; else if (b[f] != "-") bunco++
			if (s[f] == want[f]) sunc++; else if (s[f] != "-") sunco++
			continue
		}
		n++
		bok = (b[f] == want[f]); sok = (s[f] == want[f])
		if (bok) bf++; else if (b[f] == "-") bm++; else { bw++; bwl = bwl "  " f "\t" b[f] "\t(expected " want[f] ")\n" }
		if (sok) sf++; else if (s[f] == "-") sm++; else { sw++; swl = swl "  " f "\t" s[f] "\t(expected " want[f] ")\n" }
		if (bok && !sok) { bonly++; bol = bol "  " f "\t" want[f] "\t(Sisimai: " s[f] ")\n" }
		if (sok && !bok) { sonly++; sol = sol "  " f "\t" want[f] "\t(backstop: " b[f] ")\n" }
	}
	printf "corpus: %d files; %d rows with an expected id (%d certain, %d uncertain), %d rows expected -\n", \
	    length(want), n + nunc, n, nunc, dash
	printf "%-9s certain rows: found %d of %d, missed %d, wrong %d; uncertain: %d agree, %d other id; rows expected - given an id: %d\n", \
	    "backstop", bf, n, bm, bw, bunc, bunco, bdash
	printf "%-9s certain rows: found %d of %d, missed %d, wrong %d; uncertain: %d agree, %d other id; rows expected - given an id: %d\n", \
	    "sisimai", sf, n, sm, sw, sunc, sunco, sdash
	printf "all rows with an expected id: backstop %d of %d, Sisimai %d of %d (uncertain rows count when they agree)\n", \
	    bf + bunc, n + nunc, sf + sunc, n + nunc
	printf "\nfound by backstop, not by Sisimai: %d\n%s", bonly, sorted(bol)
	printf "\nfound by Sisimai, not by backstop: %d\n%s", sonly, sorted(sol)
	printf "\nbackstop wrong ids: %d\n%s", bw, sorted(bwl)
	printf "\nSisimai wrong ids: %d\n%s", sw, sorted(swl)
	printf "\nbackstop ids where none is expected: %d\n%s", bdash, sorted(bdl)
}' "$sis/expected.tsv" "$out/backstop.tsv" "$out/sisimai.tsv" | tee "$out/compare.txt"

# The counterparts (issue 14): backstop's 6th scan column against
# Sisimai's recipients (Sisimai::Data->recipient), on the bounces.
# "same": the same set; "more": backstop has every Sisimai address and
# more (the returned original's To/Cc, an Original-Recipient); "fewer":
# backstop misses one of Sisimai's and has no other (a subset); "differ":
# each has one the other lacks; "only backstop"/"only Sisimai": the
# other found none.
BACKSTOP_SYSTEM_RULES= "$backstop" scan -r "$rules" "$sis/bounces" |
    awk -F'\t' -v s="$sis/" '$2 != "not-bounce" {
	f = $1; sub(s, "", f); print f "\t" $6 }' > "$out/backstop-rcpt.tsv"
perl -MSisimai -e '
for my $f (@ARGV) {
	my $list = Sisimai->make($f, "delivered" => 1) || [];
	my %seen; my @a = grep { length && !$seen{$_}++ }
	    map { lc($_->recipient->address // "") } @$list;
	print $f, "\t", (@a ? join(",", @a) : "-"), "\n";
}' "$sis"/bounces/* 2>/dev/null | awk -F'\t' -v s="$sis/" \
    '{ f = $1; sub(s, "", f); print f "\t" $2 }' > "$out/sisimai-rcpt.tsv"
awk -F'\t' '
FILENAME == ARGV[1] { b[$1] = $2; next }
{
	f = $1; s = $2; if (!(f in b)) b[f] = "-"
	n++
	if (s == "-" && b[f] == "-") { none++; next }
	if (s == "-") { bonly++; next }
	if (b[f] == "-") { sonly++; sol = sol "  " f "\t" s "\n"; next }
	ns = split(s, sa, ","); nb = split(b[f], ba, ",")
	delete inb; for (i = 1; i <= nb; i++) inb[ba[i]] = 1
	delete ins; for (i = 1; i <= ns; i++) ins[sa[i]] = 1
	miss = 0; for (i = 1; i <= ns; i++) if (!(sa[i] in inb)) miss++
	extra = 0; for (i = 1; i <= nb; i++) if (!(ba[i] in ins)) extra++
	if (!miss && !extra) same++
	else if (!miss) more++
	else if (!extra) { fewer++; fl = fl "  " f "\tSisimai " s "\tbackstop " b[f] "\n" }
	else { differ++; dl = dl "  " f "\tSisimai " s "\tbackstop " b[f] "\n" }
}
END {
	printf "\ncounterparts on %d bounces (Sisimai recipients vs backstop column 6):\n", n
	printf "  both find: %d (same %d, backstop more %d, backstop fewer %d, differ %d)\n", \
	    same + more + fewer + differ, same, more, fewer, differ
	printf "  only backstop finds: %d; only Sisimai finds: %d; neither: %d\n", bonly, sonly, none
	printf "\nonly Sisimai finds:\n%s", sol
	printf "\nbackstop fewer (misses one of Sisimai'"'"'s):\n%s", fl
	printf "\ndiffer:\n%s", dl
}' "$out/backstop-rcpt.tsv" "$out/sisimai-rcpt.tsv" | tee -a "$out/compare.txt"
