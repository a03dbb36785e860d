#!/bin/sh
# bench/sent-index.sh: what the sent index and the recipient evidence
# (outbound.sent, outbound.recipients) cost per delivery, with 100,000
# sent messages indexed.  Standalone, as root for the ram store:
#
#   bench/sent-index.sh                 (make first)
#
# It makes a mail store (ram: a private ext4 on a loop device over tmpfs,
# as run.sh's, with inodes enough; disk: bench/out/sent/disk) holding
#   home/Maildir/.Sent/cur   BENCH_SENT_N (100,000) small sent messages,
#                            each with a Message-ID that the outbound
#                            pattern matches, a To (a pool of 5,000
#                            addresses), a Cc on every fourth, and a Date:
#                            one every ~10 minutes over the two years that
#                            end three days before case b's bounce
#   home/.backstop-sent.idx  the index, built once by `backstop
#                            check-rules` (timed; its size is reported)
#   rules-sent.yaml          the pattern + sent: true + recipients: true
#   rules-plain.yaml         the pattern alone (make bench's rules)
# and times, paired and alternating (bench/pipebench.c: every round runs
# each command once in a rotated order; ratios within the round), the
# floor, backstop with the pattern alone and backstop with the sent and
# recipient evidence, HOME being home/ and the maildir home/Maildir, on:
#   a   the typical bounce (lhost-postfix-05): its original's Message-ID
#       was not sent, so the index is searched, its folders stat'ed, and
#       the answer is backscatter
#   a+  the same bounce quoting the Message-ID of a sent message: ours by
#       the index
#   b   a Postfix DSN with no original Message-ID but a failed recipient
#       (lhost-postfix-30, kijitora@example.br, never written to):
#       backscatter by the recipient evidence
#   b+  the same DSN naming an address written to three days before: ours
#       by the recipient evidence
#   c   the ordinary 2.7 KB message of gen-cases.sh (never looks)
# BENCH_BLOCKS (2) blocks of 400 rounds per case (times BENCH_SCALE);
# before each it waits while the 1-minute load is above BENCH_MAX_LOAD
# (2.5), a minute at a time, at most ten minutes.  Reported per case: the
# median per-round ratio to the floor with quartiles for both backstops,
# sent / pattern alone per round, the median peak RSS, and the verdicts
# (backstop explain).  The index must not change while it runs: its
# inode and mtime are checked before and after.
#
# env: BACKSTOP (./backstop), BENCH_OUT (bench/out), BENCH_CORPUS
#      (../shared/corpus), BENCH_STORES ("ram"; or "disk"), BENCH_SCALE
#      (1), BENCH_BLOCKS (2), BENCH_SENT_N (100000)
# output: $BENCH_OUT/sent/results.md, raw runs in $BENCH_OUT/sent/raw/
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_env ram 2
nsent=${BENCH_SENT_N:-100000}
bounce=$corpus/sisimai/bounces/lhost-postfix-05.eml
norcpt=$corpus/sisimai/bounces/lhost-postfix-30.eml

[ -x "$backstop" ] || { say "sent-index: no backstop at $backstop"; exit 1; }
[ -r "$bounce" ] && [ -r "$norcpt" ] || { say "sent-index: corpus not found at $corpus"; exit 1; }

lib_init
sout=$out/sent
rm -rf "$sout/raw" "$sout/cases"
mkdir -p "$sout/raw" "$sout/cases"
"$here/gen-cases.sh" "$out/cases"

st=${stores%% *}
case $st in
ram) ram_store "$sout/ram" 2G $((nsent * 2 + 65536)) || exit 1 ;;
disk) rm -rf "$sout/disk"; mkdir -p "$sout/disk" ;;
*) say "sent-index: unknown store $st"; exit 1 ;;
esac
S=$sout/$st
home=$S/home
md=$home/Maildir
for d in "$S/floor" "$S/plain" "$S/plain/.Junk" "$md" "$md/.Junk" "$md/.Sent"; do
	mkdir -p "$d/tmp" "$d/new" "$d/cur"
done
export HOME=$home BACKSTOP_SYSTEM_RULES=
unset SENDER RECIPIENT RPLINE DTLINE 2>/dev/null || true

pattern="'^<[0-9]{14}\\.[0-9A-F]{6,20}@mail\\.example\\.org>\$'"
printf 'outbound:\n  message_id:\n    - %s\n' "$pattern" > "$sout/rules-plain.yaml"
printf 'outbound:\n  message_id:\n    - %s\n  sent: true\n  recipients: true\n' \
    "$pattern" > "$sout/rules-sent.yaml"
chmod 600 "$sout/rules-plain.yaml" "$sout/rules-sent.yaml"

# --- the sent folder ------------------------------------------------------------
# Message i: dated T0 + i * step, T1 = three days before case b's Date:
# (Sat, 12 Aug 2017 21:57:09 +0000); To pool[i % 5000], Cc on every fourth.
# Prints the Message-ID of the middle message and the last message's To.
say "sent-index: writing $nsent sent messages into $md/.Sent/cur"
t0=$(date +%s)
perl -MPOSIX=strftime -e '
	my ($dir, $n) = @ARGV;
	my $t1 = 1502575029 - 3 * 86400;
	my $t0 = $t1 - 730 * 86400;
	my $step = $n > 1 ? ($t1 - $t0) / ($n - 1) : 0;
	my $pool = 5000;
	my @who = qw(Ann Bob Clara Daniel Eve Frank Grace Hugo Iris Jon);
	sub addr { my $k = $_[0] % $pool; sprintf "%s.%04d\@example%03d.net",
	    lc $who[$k % 10], $k, $k % 400 }
	my ($mid, $last);
	for my $i (0 .. $n - 1) {
		my $t = int($t0 + $i * $step);
		my $id = sprintf "<%s.%08X\@mail.example.org>",
		    strftime("%Y%m%d%H%M%S", gmtime $t), $i;
		my $to = addr($i);
		my $m = "Return-Path: <bob\@example.org>\n"
		    . "Date: " . strftime("%a, %d %b %Y %H:%M:%S +0000", gmtime $t) . "\n"
		    . "From: Bob Example <bob\@example.org>\n"
		    . "To: $who[$i % 10] <$to>\n"
		    . ($i % 4 == 0 ? "Cc: " . addr($i * 7 + 13) . "\n" : "")
		    . "Subject: notes $i\n"
		    . "Message-ID: $id\n"
		    . "MIME-Version: 1.0\n"
		    . "Content-Type: text/plain; charset=UTF-8\n"
		    . "Content-Transfer-Encoding: 7bit\n\n"
		    . "Hello,\n\nhere are the notes of today, number $i. The next\n"
		    . "meeting is on Thursday as usual.\n\nBob\n";
		my $f = sprintf "%s/%d.M%dP4242.bench,S=%d:2,S", $dir, $t, $i,
		    length $m;
		open my $fh, ">", $f or die "$f: $!";
		print $fh $m or die "$f: $!";
		close $fh or die "$f: $!";
		utime $t, $t, $f;
		$mid = $id if $i == int($n / 2);
		$last = $to if $i == $n - 1;
	}
	print "$mid $last\n";
' "$md/.Sent/cur" "$nsent" > "$sout/picked"
sentid=$(awk '{ print $1 }' "$sout/picked")
written=$(awk '{ print $2 }' "$sout/picked")
gen_s=$(( $(date +%s) - t0 ))

# --- the cases -------------------------------------------------------------------
cp "$bounce" "$sout/cases/a.eml"
sed "s/<FFFFFFFF\\.0000000@example\\.co\\.jp>/$sentid/g" "$bounce" > "$sout/cases/a+.eml"
cp "$norcpt" "$sout/cases/b.eml"
sed "s/kijitora@example\\.br/$written/g" "$norcpt" > "$sout/cases/b+.eml"
cp "$out/cases/ordinary.eml" "$sout/cases/c.eml"
cmp -s "$bounce" "$sout/cases/a+.eml" && { say "sent-index: a+ not made"; exit 1; }
cmp -s "$norcpt" "$sout/cases/b+.eml" && { say "sent-index: b+ not made"; exit 1; }

# --- the index, built once -------------------------------------------------------
say "sent-index: building the index (backstop check-rules)"
sync
l=$(wait_load)
# built in 2011, and the bounces arriving an hour after their own Date:
# (2017): an index says "not sent" only for the time it has watched the
# folders (docs/evidence.md), and the bench measures a mature one, as a
# user has after the first weeks
BACKSTOP_TEST_CLOCK=1300000000 \
    "$bin/pipebench" -r 1 -w 0 -i /dev/null build \
    "$backstop check-rules -r $sout/rules-sent.yaml" > "$sout/raw/build.tsv"
idx=$home/.backstop-sent.idx
[ -s "$idx" ] || { say "sent-index: no index at $idx"; exit 1; }
export BACKSTOP_TEST_CLOCK=$((1502575029 + 3600))
"$backstop" check-rules -r "$sout/rules-sent.yaml" > "$sout/check-rules.txt" 2>&1 || true
idx_bytes=$(stat -c %s "$idx")
idx_stamp=$(stat -c '%i %Y.%y' "$idx")

# the verdicts, and that the index answers from itself
for c in a a+ b b+ c; do
	for r in plain sent; do
		printf '== %s, rules-%s\n' "$c" "$r"
		"$backstop" explain -r "$sout/rules-$r.yaml" "$sout/cases/$c.eml" 2>&1 || true
	done
done > "$sout/explain.txt"
verdict() {
	"$backstop" scan -r "$sout/rules-$2.yaml" "$sout/cases/$1.eml" 2>/dev/null |
	    awk -F'\t' '{ print $2 ($5 ~ /wrote to/ ? " by recipient" : $5 ~ /sent index/ ? " by index" : $5 ~ /outbound pattern/ && $2 == "ours" ? " by pattern" : "") }'
}

# --- the timing ------------------------------------------------------------------
n=$(rounds 400)
cleanup="find $S/floor $S/plain $md/new $md/.Junk -path '*/new/*' -type f -delete"
: > "$sout/raw/loads"
b=1
while [ "$b" -le "$blocks" ]; do
	cases="a a+ b b+ c"
	[ $((b % 2)) -eq 0 ] && cases="c b+ b a+ a"
	for c in $cases; do
		l=$(wait_load)
		say "  block $b: $st / $c, $n rounds, load $l"
		printf '%s\t%s\t%s\n' "$b" "$c" "$l" >> "$sout/raw/loads"
		"$bin/pipebench" -r "$n" -w 5 -c "$cleanup" \
		    -o "$sout/raw/$c-$b.runs" -i "$sout/cases/$c.eml" \
		    floor "$bin/floor $S/floor" \
		    pattern "$backstop deliver -d $S/plain -r $sout/rules-plain.yaml" \
		    sent "$backstop deliver -d $md -r $sout/rules-sent.yaml" \
		    > "$sout/raw/$c-$b.tsv"
	done
	b=$((b + 1))
done
[ "$(stat -c '%i %Y.%y' "$idx")" = "$idx_stamp" ] ||
    say "sent-index: WARNING: the index changed while it was measured"
left=$(find "$md" -path "$md/.Sent" -prune -o -type f -print | wc -l)
[ "$left" -eq 0 ] || say "sent-index: WARNING: $left files left in $md outside .Sent"

# --- the table -------------------------------------------------------------------
{
	echo "sent-index.sh: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r), store $st"
	echo "backstop: $backstop"
	echo "sent folder: $(find "$md/.Sent/cur" -type f | wc -l) messages written in ${gen_s} s; index $idx: $idx_bytes bytes ($(awk -v b="$idx_bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }')), built by check-rules in $(awk -F'\t' '{ printf "%.0f ms (%.0f ms CPU), peak RSS %.1f MiB", $4, $11, $10 / 1024 }' "$sout/raw/build.tsv")"
	echo "check-rules: $(grep -E '^sent index' "$sout/check-rules.txt" | head -1)"
	echo "1-minute load before each case: $(awk -F'\t' '{ printf "%s%s", (NR > 1 ? ", " : ""), $3 }' "$sout/raw/loads")"
	echo
	echo "| case | verdict, pattern alone / with the index | rounds | floor | pattern alone × floor [IQR] | sent + recipients × floor [IQR] | sent / pattern alone [IQR] | sent − pattern alone | block medians (sent × floor) | peak RSS (pattern / sent) |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for c in a a+ b b+ c; do
		awk -F'\t' -v OFS='\t' 'FNR == 1 { blk++ } { $1 = blk * 100000 + $1; print }' \
		    "$sout"/raw/"$c"-*.runs > "$sout/raw/$c.all"
		summary "$sout/raw/$c.all" floor floor pattern sent > "$sout/raw/$c.sum"
		# get NAME FORMAT COLUMN...: columns of summary's line for NAME
		get() {
			g_n=$1 g_f=$2
			shift 2
			g_v=
			for g_c in "$@"; do
				g_v="$g_v $(awk -F'\t' -v n="$g_n" -v c="$g_c" '$1 == n { print $c }' "$sout/raw/$c.sum")"
			done
			# shellcheck disable=SC2086
			printf "$g_f" $g_v
		}
		blk=
		for f in "$sout"/raw/"$c"-*.runs; do
			blk="$blk${blk:+; }$(summary "$f" floor sent | awk -F'\t' '{ printf "%.2f", $3 }')"
		done
		echo "| $c | $(verdict "$c" plain) / $(verdict "$c" sent) | $(get sent %d 2) | $(get floor '%.2f ms' 6) | $(get pattern '%.2f× [%.2f–%.2f]' 3 4 5) | $(get sent '**%.2f×** [%.2f–%.2f]' 3 4 5) | $(ratio_of "$sout/raw/$c.all" sent pattern | awk '{ printf "%.3f [%.3f–%.3f]", $1, $2, $3 }') | $(diff_of "$sout/raw/$c.all" sent pattern | awk '{ printf "%+.3f ms", $1 }') | $blk | $(get pattern %.1f 7 | awk '{ printf "%.1f", $1 / 1024 }') / $(get sent %.1f 7 | awk '{ printf "%.1f", $1 / 1024 }') MiB |"
	done
	echo
	echo "cases: $sout/cases/; verdicts: $sout/explain.txt; raw runs: $sout/raw/ (round name wall_us cpu_us maxrss_kib status)"
} | tee "$sout/results.md"
