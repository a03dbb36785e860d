#!/bin/sh
# bench/flood.sh: a joe-job (issue 22).  BENCH_FLOOD_N (100,000) forged
# bounces of the corpus' kinds, one real message after every
# BENCH_FLOOD_EVERY (50) of them, delivered one after another as an MTA
# runs a delivery agent (bench/floodbench.c: a whole process each, the
# message on a pipe, the time from fork() to wait4()), with a
# BENCH_SENT_N (100,000) message sent index and a Maildir++ quota.
# Standalone, as root for the ram store:
#
#   bench/flood.sh                      (make first)
#
# The store (a private ext4 on a loop device over tmpfs, as run.sh's)
# holds
#   sent/, sent.idx          the sent folder (as bench/sent-index.sh
#                            writes it: a Message-ID the outbound pattern
#                            matches, a To from 5,000 addresses) and its
#                            index, built once by backstop check-rules
#   rules.yaml               the pattern, sent: [sent/], sent_index,
#                            recipients: true
#   cases/                   the templates: every corpus bounce of at
#                            most 64 KiB that these rules call
#                            backscatter (scan), and bench/gen-cases.sh's
#                            ordinary message as the real mail
# and one home per run, each with ~/Maildir (a .Junk folder, and a
# maildirsize "QUOTA S" with an empty use) and ~/.backstop.yaml:
#   growth    backstop deliver, junk.max_messages 1,000,000 and no
#             max_size: Junk grows to BENCH_FLOOD_N files; a quota of
#             4 GiB that never binds (maildirsize is still read, counted
#             and recounted as maildirquota(7) asks)
#   backstop  backstop deliver with the default cap (10,000 messages,
#             100 MiB) and a quota of BENCH_FLOOD_QUOTA (30 MiB)
#   procmail  the procmail recipe of docs/setups.md, verbatim (backstop
#             filter, then .Junk), HOME given on procmail's command line;
#             the same quota (which procmail does not know)
#   maildrop  the maildrop recipe of docs/setups.md (backstop filter,
#             then .Junk), with $HOME written out and -r naming the rules
#             (run as root, maildrop takes HOME from root's passwd entry,
#             for itself and the filter); the same quota, which maildrop
#             honours
# Reported per run: deliveries per second, the median and 99th
# percentile of one delivery (wall time, and CPU time: user and system of
# the delivery's processes, far less disturbed by other jobs on a shared
# machine), the real messages deferred (any exit but 0), what the inbox
# and Junk hold at the end and the quota used; for growth, the same by
# tenth of the flood, as Junk grows.  Before each run it waits while the
# 1-minute load is above BENCH_MAX_LOAD (2.5), a minute at a time, at
# most ten minutes, and it reports the load before and after.
#
# env: BACKSTOP (./backstop), BENCH_OUT (bench/out), BENCH_CORPUS
#      (../shared/corpus), BENCH_FLOOD_N (100000), BENCH_FLOOD_EVERY (50),
#      BENCH_FLOOD_QUOTA (31457280), BENCH_SENT_N (100000),
#      BENCH_FLOOD_RUNS ("growth backstop procmail maildrop")
# output: $BENCH_OUT/flood/results.md, raw runs in $BENCH_OUT/flood/raw/
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_env ram 1
n=${BENCH_FLOOD_N:-100000}
every=${BENCH_FLOOD_EVERY:-50}
quota=${BENCH_FLOOD_QUOTA:-31457280}
nsent=${BENCH_SENT_N:-100000}
runs=${BENCH_FLOOD_RUNS:-growth backstop procmail maildrop}

[ -x "$backstop" ] || { say "flood: no backstop at $backstop"; exit 1; }
[ -d "$corpus/sisimai/bounces" ] || { say "flood: corpus not found at $corpus"; exit 1; }
for t in procmail maildrop; do
	case " $runs " in *" $t "*) have $t || { say "flood: $t not installed"; exit 1; } ;; esac
done

lib_init
cc -O2 -o "$bin/floodbench" "$here/floodbench.c"
fout=$out/flood
rm -rf "$fout/raw"
mkdir -p "$fout/raw"
"$here/gen-cases.sh" "$out/cases"
ram_store "$fout/ram" 6G $((n * 5 + nsent + 100000)) || exit 1
S=$fout/ram
unset SENDER RECIPIENT RPLINE DTLINE 2>/dev/null || true
export BACKSTOP_SYSTEM_RULES=

# --- the sent folder, its index, the rules -----------------------------------
mkdir -p "$S/sent/cur" "$S/sent/new" "$S/sent/tmp" "$S/cases"
say "flood: writing $nsent sent messages"
perl -MPOSIX=strftime -e '
	my ($dir, $n) = @ARGV;
	my $t0 = 1502575029 - 733 * 86400;
	my @who = qw(Ann Bob Clara Daniel Eve Frank Grace Hugo Iris Jon);
	for my $i (0 .. $n - 1) {
		my $t = $t0 + $i * 600;
		my $k = $i % 5000;
		my $to = sprintf "%s.%04d\@example%03d.net", lc $who[$k % 10], $k, $k % 400;
		my $m = "Date: " . strftime("%a, %d %b %Y %H:%M:%S +0000", gmtime $t) . "\n"
		    . "From: Bob Example <bob\@example.org>\nTo: $to\n"
		    . "Subject: notes $i\n"
		    . sprintf("Message-ID: <%s.%08X\@mail.example.org>\n",
			strftime("%Y%m%d%H%M%S", gmtime $t), $i)
		    . "\nHello,\n\nthe notes of today, number $i.\n\nBob\n";
		my $f = sprintf "%s/%d.M%dP4242.bench,S=%d:2,S", $dir, $t, $i, length $m;
		open my $fh, ">", $f or die "$f: $!";
		print $fh $m;
	}' "$S/sent/cur" "$nsent"
cat > "$S/rules.yaml" <<EOF
outbound:
  message_id:
    - '^<[0-9]{14}\\.[0-9A-F]{6,20}@mail\\.example\\.org>\$'
  sent: ['$S/sent']
  sent_index: '$S/sent.idx'
  recipients: true
EOF
chmod 600 "$S/rules.yaml"
# built as if in 2011: the index has watched the folder since then, so
# that it can say "not sent" for the corpus' bounces (never for a time
# before it watched); the deliveries run at the real time
t0=$(date +%s)
HOME=$S BACKSTOP_TEST_CLOCK=1300000000 "$backstop" check-rules -r "$S/rules.yaml" "$S/sent" > "$fout/raw/check-rules.txt" 2>&1 || true
say "flood: sent index $(stat -c %s "$S/sent.idx" 2>/dev/null || echo 0) bytes in $(( $(date +%s) - t0 )) s"

# --- the templates and the list -----------------------------------------------
"$backstop" scan -r "$S/rules.yaml" "$corpus/sisimai/bounces" 2>/dev/null |
    awk -F'\t' '$2 == "backscatter" { print $1 "\t" $3 }' > "$fout/raw/backscatter.tsv"
k=0
while IFS='	' read -r f kind; do
	[ "$(stat -c %s "$f")" -le 65536 ] || continue
	k=$((k + 1))
	cp "$f" "$S/cases/forged-$k-$kind.eml"
done < "$fout/raw/backscatter.tsv"
cp "$out/cases/ordinary.eml" "$S/cases/real.eml"
[ "$k" -gt 0 ] || { say "flood: no backscatter template in the corpus"; exit 1; }
say "flood: $k templates ($(ls "$S/cases" | sed -n 's/^forged-[0-9]*-\(.*\)\.eml$/\1/p' | sort | uniq -c | tr -s ' ' | tr '\n' ','))"
ls "$S"/cases/forged-*.eml | awk -v n="$n" -v every="$every" -v real="$S/cases/real.eml" '
	{ t[NR] = $0 }
	END { for (i = 1; i <= n; i++) { print t[(i - 1) % NR + 1]; if (i % every == 0) print real } }' \
    > "$fout/raw/list"

# --- one run ---------------------------------------------------------------------
# home NAME MAXMSG MAXSIZE QUOTA: a home with ~/Maildir and ~/.backstop.yaml
home() {
	h=$S/$1/home
	mkdir -p "$h/Maildir/cur" "$h/Maildir/new" "$h/Maildir/tmp" \
	    "$h/Maildir/.Junk/cur" "$h/Maildir/.Junk/new" "$h/Maildir/.Junk/tmp"
	: > "$h/Maildir/.Junk/maildirfolder"
	printf '%sS\n0 0\n' "$4" > "$h/Maildir/maildirsize"
	{ cat "$S/rules.yaml"; printf 'junk:\n  max_messages: %s\n  max_size: %s\n' "$2" "$3"; } \
	    > "$h/.backstop.yaml"
	chmod 600 "$h/.backstop.yaml"
}
run() {
	name=$1
	shift
	l=$(wait_load)
	say "flood: $name, $(wc -l < "$fout/raw/list") deliveries, load $l"
	printf '%s\t%s\n' "$name" "$l" >> "$fout/raw/loads"
	t0=$(date +%s.%N)
	"$bin/floodbench" -l "$fout/raw/list" -o "$fout/raw/$name.tsv" "$@"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' > "$fout/raw/$name.secs"
	printf '%s after\t%s\n' "$name" "$(load1)" >> "$fout/raw/loads"
}
# pct COLUMN P < raw: the P-th percentile of COLUMN, in ms
pct() {
	awk -F'\t' -v c="$1" '{ print $c }' | sort -g |
	    awk -v p="$2" '{ v[NR] = $1 } END { i = int(p * (NR - 1)) + 1; printf "%.2f", v[i] / 1000 }'
}
for r in $runs; do
	case $r in
	growth)
		home growth 1000000 0 4294967296
		HOME=$S/growth/home run growth "$backstop" deliver ;;
	backstop)
		home backstop 10000 100M "$quota"
		HOME=$S/backstop/home run backstop "$backstop" deliver ;;
	procmail)
		home procmail 10000 100M "$quota"
		h=$S/procmail/home
		sed -n '/^cat > ~\/.procmailrc <<.EOF.$/,/^EOF$/p' "$root/docs/setups.md" |
		    sed '1d;$d' | sed "s|/usr/local/bin/backstop|$backstop|" > "$h/.procmailrc"
		HOME=$h run procmail procmail -m "HOME=$h" "$h/.procmailrc" ;;
	maildrop)
		home maildrop 10000 100M "$quota"
		h=$S/maildrop/home
		sed -n '/^cat > ~\/.mailfilter <<.EOF.$/,/^EOF$/p' "$root/docs/setups.md" |
		    sed -n '/^DEFAULT=/,$p' | sed '$d' |
		    sed "s|/usr/local/bin/backstop filter|$backstop filter -r $h/.backstop.yaml|; s|\\\$HOME|$h|g" \
		    > "$h/.mailfilter"
		chmod 600 "$h/.mailfilter"
		HOME=$h run maildrop maildrop "$h/.mailfilter" ;;
	esac
done

# --- the tables ------------------------------------------------------------------
# used MAILDIR: "bytes count" of new/ and cur/ of every folder
used() {
	find "$1" \( -path '*/new/*' -o -path '*/cur/*' \) -type f -printf '%s\n' |
	    awk '{ b += $1; c++ } END { print b + 0, c + 0 }'
}
{
	echo "flood.sh: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
	echo "backstop: $backstop; $n forged bounces ($k corpus templates), a real message after every $every; sent index of $nsent messages ($(stat -c %s "$S/sent.idx" 2>/dev/null || echo 0) bytes); quota $quota bytes (growth: 4 GiB)"
	echo "1-minute load before each run: $(awk -F'\t' '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }' "$fout/raw/loads")"
	echo
	echo "| run | deliveries/s | p50 | p99 | CPU p50 | CPU p99 | real deferred | forged deferred | inbox | Junk | quota used |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for r in $runs; do
		f=$fout/raw/$r.tsv
		[ -f "$f" ] || continue
		rd=$(awk -F'\t' '$3 != 0 && $4 ~ /real\.eml$/' "$f" | wc -l)
		fd=$(awk -F'\t' '$3 != 0 && $4 !~ /real\.eml$/' "$f" | wc -l)
		md=$S/$r/home/Maildir
		printf '| %s | %.0f | %s ms | %s ms | %s ms | %s ms | %s of %s | %s | %s | %s | %s |\n' "$r" \
		    "$(awk -v s="$(cat "$fout/raw/$r.secs")" -v c="$(wc -l < "$f")" 'BEGIN { print c / s }')" \
		    "$(pct 2 0.5 < "$f")" "$(pct 2 0.99 < "$f")" "$(pct 5 0.5 < "$f")" "$(pct 5 0.99 < "$f")" \
		    "$rd" "$((n / every))" "$fd" "$(ls "$md/new" "$md/cur" | grep -c '^[0-9]')" \
		    "$(ls "$md/.Junk/new" "$md/.Junk/cur" | grep -c '^[0-9]')" \
		    "$(used "$md" | awk -v q="$([ "$r" = growth ] && echo 4294967296 || echo "$quota")" '{ printf "%.1f MB of %.1f MB", $1 / 1e6, q / 1e6 }')"
	done
	if [ -f "$fout/raw/growth.tsv" ]; then
		echo
		echo "growth: one delivery by tenth of the flood, as Junk grows (backstop deliver, no cap)"
		echo
		echo "| deliveries | Junk at the end | p50 | p99 | CPU p50 | CPU p99 |"
		echo "| --- | --- | --- | --- | --- | --- |"
		g=$fout/raw/growth.tsv
		c=$(wc -l < "$g")
		i=0
		while [ $i -lt 10 ]; do
			awk -v a=$((i * c / 10)) -v b=$(((i + 1) * c / 10)) 'NR > a && NR <= b' "$g" > "$fout/raw/.tenth"
			printf '| %s-%s | %s | %s ms | %s ms | %s ms | %s ms |\n' $((i * c / 10 + 1)) $(((i + 1) * c / 10)) \
			    "$(awk -F'\t' '$4 !~ /real\.eml$/' "$g" | head -n $(((i + 1) * c / 10)) | wc -l)" \
			    "$(pct 2 0.5 < "$fout/raw/.tenth")" "$(pct 2 0.99 < "$fout/raw/.tenth")" \
			    "$(pct 5 0.5 < "$fout/raw/.tenth")" "$(pct 5 0.99 < "$fout/raw/.tenth")"
			i=$((i + 1))
		done
		rm -f "$fout/raw/.tenth"
	fi
	echo
	echo "raw runs: $fout/raw/ (index wall_us status file)"
} | tee "$fout/results.md"
