#!/bin/sh
# bench/record.sh: what `backstop record` costs per outgoing message, and
# what 100,000 recorded messages cost a bounce's lookup.  Standalone, as
# root for the ram store:
#
#   bench/record.sh                     (make first)
#
# It makes a ram store (as sent-index.sh's) holding two homes' indexes:
#   empty.idx   a journal of a few records
#   full.idx    a journal of BENCH_RECORD_N (100,000) records, each a
#               Message-ID and two recipients, merged into the index as
#               record does once the journal's tail is long
# and times, paired and alternating (bench/pipebench.c):
#   record  the floor (a maildir delivery of the same message: what an
#           MTA's copy would cost if it were stored) and `backstop record`
#           of a 1.1 KB outgoing message
#   a       the typical bounce (lhost-postfix-05), never sent: the floor,
#           deliver with the pattern alone, and with outbound.record on
#           over the small and the full index
# Recording is made to have begun in 2011 and the bounce to arrive an hour
# after its own Date: (2017), so that the record answers "not sent" and
# every lookup runs to its end (BACKSTOP_TEST_CLOCK).
#
# env: BACKSTOP (./backstop), BENCH_OUT (bench/out), BENCH_CORPUS
#      (../shared/corpus), BENCH_SCALE (1), BENCH_BLOCKS (2),
#      BENCH_RECORD_N (100000)
# output: $BENCH_OUT/record/results.md, raw runs in $BENCH_OUT/record/raw/
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_env ram 2
nrec=${BENCH_RECORD_N:-100000}
bounce=$corpus/sisimai/bounces/lhost-postfix-05.eml
[ -x "$backstop" ] || { say "record: no backstop at $backstop"; exit 1; }
[ -r "$bounce" ] || { say "record: corpus not found at $corpus"; exit 1; }

lib_init
rout=$out/record
rm -rf "$rout/raw"
mkdir -p "$rout/raw" "$rout/cases"
ram_store "$rout/ram" 1G 65536 || exit 1
S=$rout/ram
for d in "$S/floor" "$S/plain" "$S/empty" "$S/full"; do
	mkdir -p "$d/tmp" "$d/new" "$d/cur"
done
export HOME=$S BACKSTOP_SYSTEM_RULES=
unset SENDER RECIPIENT RPLINE DTLINE 2>/dev/null || true

pattern="'^<[0-9]{14}\\.[0-9A-F]{6,20}@mail\\.example\\.org>\$'"
printf 'outbound:\n  message_id:\n    - %s\n' "$pattern" > "$rout/rules-plain.yaml"
for k in empty full; do
	printf 'outbound:\n  message_id:\n    - %s\n  record: true\n  recipients: true\n  sent_index: %s/%s.idx\n' \
	    "$pattern" "$S" "$k" > "$rout/rules-$k.yaml"
done
chmod 600 "$rout"/rules-*.yaml

# outgoing N: a 1.1 KB message as a submission server passes it on
outgoing() {
	printf 'Return-Path: <bob@example.org>\nReceived: from laptop (laptop [192.0.2.7])\n\tby mail.example.org (Postfix) with ESMTPSA id 4F1A2B3C4D\n\tfor <ann.%04d@example%03d.net>; Mon, 07 Dec 2026 10:00:00 +0000 (UTC)\nDate: Mon, 07 Dec 2026 10:00:00 +0000\nFrom: Bob Example <bob@example.org>\nTo: Ann <ann.%04d@example%03d.net>\nCc: carol.%04d@example%03d.net\nSubject: notes %d\nMessage-ID: <20261207100000.%08X@mail.example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\nHello,\n\nhere are the notes of today, number %d. The next meeting is on\nThursday as usual.  Please bring the figures of last week.\n\nBob\n' \
	    $(($1 % 5000)) $(($1 % 400)) $(($1 % 5000)) $(($1 % 400)) \
	    $(($1 % 4999)) $(($1 % 397)) "$1" "$1" "$1"
}
outgoing 0 > "$rout/cases/outgoing.eml"
cp "$bounce" "$rout/cases/a.eml"

# the journals: recording began in 2011
say "record: $nrec records into $S/full.idx.journal"
t0=$(date +%s)
i=0
while [ $i -lt "$nrec" ]; do
	outgoing $((i + 1)) | BACKSTOP_TEST_CLOCK=$((1300000000 + i)) \
	    "$backstop" record -r "$rout/rules-full.yaml" || exit 1
	i=$((i + 1))
done
fill_s=$(( $(date +%s) - t0 ))
for i in 1 2 3; do
	outgoing $((i + 1)) | BACKSTOP_TEST_CLOCK=1300000000 \
	    "$backstop" record -r "$rout/rules-empty.yaml"
done
# both indexes merged, as a lookup leaves them
export BACKSTOP_TEST_CLOCK=$((1502575029 + 3600))
for k in empty full; do
	"$backstop" scan -r "$rout/rules-$k.yaml" "$rout/cases/a.eml" > /dev/null
done
full_j=$(stat -c %s "$S/full.idx.journal")
full_i=$(stat -c %s "$S/full.idx")
for k in plain empty full; do
	printf '== a, rules-%s\n' "$k"
	"$backstop" explain -r "$rout/rules-$k.yaml" "$rout/cases/a.eml" 2>&1 | tail -n 5
done > "$rout/explain.txt"

# --- the timing -------------------------------------------------------------------
n=$(rounds 400)
cleanup="find $S/floor $S/plain $S/empty $S/full -path '*/new/*' -type f -delete"
: > "$rout/raw/loads"
b=1
while [ "$b" -le "$blocks" ]; do
	l=$(wait_load)
	say "  block $b: record, $n rounds, load $l"
	printf '%s\trecord\t%s\n' "$b" "$l" >> "$rout/raw/loads"
	"$bin/pipebench" -r "$n" -w 5 -c "$cleanup" \
	    -o "$rout/raw/record-$b.runs" -i "$rout/cases/outgoing.eml" \
	    floor "$bin/floor $S/floor" \
	    record "$backstop record -r $rout/rules-empty.yaml" \
	    > "$rout/raw/record-$b.tsv"
	l=$(wait_load)
	say "  block $b: a, $n rounds, load $l"
	printf '%s\ta\t%s\n' "$b" "$l" >> "$rout/raw/loads"
	"$bin/pipebench" -r "$n" -w 5 -c "$cleanup" \
	    -o "$rout/raw/a-$b.runs" -i "$rout/cases/a.eml" \
	    floor "$bin/floor $S/floor" \
	    pattern "$backstop deliver -d $S/plain -r $rout/rules-plain.yaml" \
	    empty "$backstop deliver -d $S/empty -r $rout/rules-empty.yaml" \
	    full "$backstop deliver -d $S/full -r $rout/rules-full.yaml" \
	    > "$rout/raw/a-$b.tsv"
	b=$((b + 1))
done

# --- the table --------------------------------------------------------------------
row() {	# row RAW NAME...: "NAME ratio [q1–q3], ..." of summary
	awk -F'\t' -v OFS='\t' 'FNR == 1 { blk++ } { $1 = blk * 100000 + $1; print }' \
	    $1 > "$rout/raw/.all"
	shift
	summary "$rout/raw/.all" floor floor "$@" |
	    awk -F'\t' '{ printf "%s%s %.2f× [%.2f–%.2f] (%.2f ms)", (NR > 1 ? "; " : ""), $1, $3, $4, $5, $6 }'
}
{
	echo "record.sh: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r), ram store"
	echo "backstop: $backstop"
	echo "full journal: $nrec records written in ${fill_s} s, $full_j bytes; its index $full_i bytes"
	echo "1-minute load before each block: $(awk -F'\t' '{ printf "%s%s", (NR > 1 ? ", " : ""), $3 }' "$rout/raw/loads")"
	echo
	echo "| case | × floor, median per round [IQR] |"
	echo "| --- | --- |"
	echo "| record of a 1.1 KB outgoing message | $(row "$rout/raw/record-*.runs" record) |"
	echo "| a: typical bounce, never sent | $(row "$rout/raw/a-*.runs" pattern empty full) |"
	echo
	echo "full / empty, per round: $(ratio_of "$rout/raw/.all" full empty | awk '{ printf "%.3f [%.3f–%.3f]", $1, $2, $3 }')"
	echo "verdicts: $rout/explain.txt; raw runs: $rout/raw/"
} | tee "$rout/results.md"
