#!/bin/sh
# bench/pair.sh: the floor and backstop alone, alternating -- run.sh's
# "floor and backstop alone" measure -- with a second backstop binary in
# the same rounds, to say what a change did to the cost per message:
#
#   BASELINE=/path/to/the/old/backstop bench/pair.sh
#
# For each store (ram, disk; see run.sh) and case (the typical bounce
# lhost-postfix-05.eml, the ordinary 2.7 KB message of gen-cases.sh), it
# runs BENCH_BLOCKS blocks of pipebench rounds (400 rounds on ram, 133 on
# disk, times BENCH_SCALE).  Every round runs the floor, backstop and the
# baseline once each, in an order rotated by one each round, as whole
# processes fed on a pipe with every fsync; the rules are make bench's
# (bench/anchors.sh: one outbound pattern).  Reported per store and case:
# each binary's median per-round ratio to the floor of the same round, with
# quartiles; the median per-round difference backstop - floor in ms;
# backstop / baseline per round; the median of each block (the
# run-to-run spread); the median peak RSS; the 1-minute load before each
# block.  Before each block it waits while the load is above
# BENCH_MAX_LOAD (2.5), a minute at a time, at most ten minutes.
#
# env: BACKSTOP (default ./backstop), BASELINE (none: floor and backstop
#      only), BASELINE_RULES (the baseline's rules file, make bench's by
#      default: the same binary twice with other rules says what a
#      setting costs), BENCH_OUT (bench/out), BENCH_CORPUS (../shared/corpus),
#      BENCH_STORES ("ram disk"), BENCH_SCALE (1), BENCH_BLOCKS (3)
# output: $BENCH_OUT/pair/results.md, raw runs in $BENCH_OUT/pair/raw/
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_env "ram disk" 3
baseline=${BASELINE:-}
bounce=$corpus/sisimai/bounces/lhost-postfix-05.eml

[ -x "$backstop" ] || { say "pair: no backstop at $backstop"; exit 1; }
[ -z "$baseline" ] || [ -x "$baseline" ] || { say "pair: no baseline at $baseline"; exit 1; }
[ -r "$bounce" ] || { say "pair: corpus not found at $corpus"; exit 1; }

lib_init
pout=$out/pair
rm -rf "$pout/raw"
mkdir -p "$pout/raw"
"$here/gen-cases.sh" "$out/cases"
ordinary=$out/cases/ordinary.eml
conf=$pout/conf

use=
for s in $stores; do
	case $s in
	ram) ram_store "$pout/ram" 1G 65536 || continue ;;
	disk) rm -rf "$pout/disk"; mkdir -p "$pout/disk" ;;
	*) say "pair: unknown store $s"; continue ;;
	esac
	"$here/anchors.sh" "$conf" "$pout/$s"
	mkdir -p "$pout/$s/baseline/tmp" "$pout/$s/baseline/new" \
	    "$pout/$s/baseline/cur" "$pout/$s/baseline/.Junk/tmp" \
	    "$pout/$s/baseline/.Junk/new" "$pout/$s/baseline/.Junk/cur"
	use="$use $s"
done
[ -n "$use" ] || { say "pair: no mail store"; exit 1; }
export HOME=$conf/home BACKSTOP_SYSTEM_RULES=
unset SENDER RECIPIENT RPLINE DTLINE 2>/dev/null || true

names="backstop"
[ -z "$baseline" ] || names="backstop baseline"
say "pair: $(nproc) cores, load $(load1); backstop $backstop${baseline:+, baseline $baseline}"
b=1
while [ "$b" -le "$blocks" ]; do
	for st in $use; do
		if [ "$st" = ram ]; then n=$(rounds 400); else n=$(rounds 133); fi
		s=$pout/$st
		# alternate the order of the cases from block to block
		cases="bounce ordinary"
		[ $((b % 2)) -eq 0 ] && cases="ordinary bounce"
		for c in $cases; do
			f=$bounce
			[ "$c" = ordinary ] && f=$ordinary
			l=$(wait_load)
			say "  block $b: $st / $c, $n rounds, load $l"
			printf '%s\t%s\t%s\t%s\n' "$b" "$st" "$c" "$l" >> "$pout/raw/loads"
			set -- floor "$bin/floor $s/floor" \
			    backstop "$backstop deliver -d $s/backstop -r $conf/rules.yaml"
			[ -z "$baseline" ] || set -- "$@" \
			    baseline "$baseline deliver -d $s/baseline -r ${BASELINE_RULES:-$conf/rules.yaml}"
			"$bin/pipebench" -r "$n" -w 5 \
			    -c "find $s -path '*/new/*' -type f -delete" \
			    -o "$pout/raw/$st-$c-$b.runs" -i "$f" "$@" \
			    > "$pout/raw/$st-$c-$b.tsv"
		done
	done
	b=$((b + 1))
done

# --- the table ----------------------------------------------------------------
{
	echo "pair.sh: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
	echo "backstop: $backstop${baseline:+; baseline: $baseline}"
	echo "1-minute load before each block: $(awk -F'\t' '{ printf "%s%s", (NR > 1 ? ", " : ""), $4 }' "$pout/raw/loads")"
	echo
	hdr="| store, case | rounds | floor | backstop × floor [IQR] | backstop − floor [IQR] |"
	sep="| --- | --- | --- | --- | --- |"
	[ -z "$baseline" ] || { hdr="$hdr baseline × floor [IQR] | backstop / baseline [IQR] |"; sep="$sep --- | --- |"; }
	echo "$hdr block medians (backstop${baseline:+ / baseline}) | peak RSS (backstop${baseline:+ / baseline}) |"
	echo "$sep --- | --- |"
	for st in $use; do
		for c in bounce ordinary; do
			# rounds of different blocks must not share a number
			awk -F'\t' -v OFS='\t' 'FNR == 1 { blk++ } { $1 = blk * 100000 + $1; print }' \
			    "$pout"/raw/"$st-$c"-*.runs > "$pout/raw/$st-$c.all"
			summary "$pout/raw/$st-$c.all" floor floor $names > "$pout/raw/$st-$c.sum"
			fl=$(awk -F'\t' '$1 == "floor" { print $6 }' "$pout/raw/$st-$c.sum")
			row="| $st, $c | $(awk -F'\t' '$1 == "backstop" { print $2 }' "$pout/raw/$st-$c.sum") | $fl ms |"
			row="$row $(awk -F'\t' '$1 == "backstop" { printf "**%.2f×** [%.2f–%.2f]", $3, $4, $5 }' "$pout/raw/$st-$c.sum") |"
			row="$row $(diff_of "$pout/raw/$st-$c.all" backstop floor | awk '{ printf "%+.2f ms [%+.2f–%+.2f]", $1, $2, $3 }') |"
			blk=
			for f in "$pout"/raw/"$st-$c"-*.runs; do
				x=$(summary "$f" floor $names | awk -F'\t' '{ printf "%s%.2f", (NR > 1 ? " / " : ""), $3 }')
				blk="$blk${blk:+; }$x"
			done
			if [ -n "$baseline" ]; then
				row="$row $(awk -F'\t' '$1 == "baseline" { printf "%.2f× [%.2f–%.2f]", $3, $4, $5 }' "$pout/raw/$st-$c.sum") |"
				row="$row $(ratio_of "$pout/raw/$st-$c.all" backstop baseline | awk '{ printf "%.3f [%.3f–%.3f]", $1, $2, $3 }') |"
			fi
			rss=$(awk -F'\t' '$1 != "floor" { printf "%s%.1f", (n++ ? " / " : ""), $7 / 1024 }' "$pout/raw/$st-$c.sum")
			echo "$row $blk | $rss MiB |"
		done
	done
	echo
	echo "raw runs: $pout/raw/ (round name wall_us cpu_us maxrss_kib status)"
} | tee "$pout/results.md"
