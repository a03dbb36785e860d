#!/bin/sh
# The code a delivery runs sits together in the binary (Makefile: ld.lld
# with filter/hot.order, written by scripts/hot-order.sh).  A delivery is
# one short process; each 64 KiB of code it touches is a page fault, and
# unordered, the code of one bounce is spread over the whole text
# (docs/performance.md, "Code layout").
. "$(dirname "$0")/../lib.sh"
command -v nm > /dev/null || skip_all "no nm(1)"
command -v ld.lld > /dev/null ||
    skip_all "no ld.lld: the binary is linked in the default order"
[ -x "$BACKSTOP" ] || skip_all "no $BACKSTOP: run make first"
case $BACKSTOP in
"$TOP"/build-*) skip_all "$BACKSTOP is not the ordered build" ;;
esac
scratch
order=$TOP/filter/hot.order

grep -v '^#' "$order" | grep -v '^$' > "$T/names"
n=$(wc -l < "$T/names")
[ "$n" -ge 300 ]
ok $? "filter/hot.order names the functions of a delivery ($n)"

nm -S --defined-only "$BACKSTOP" | awk 'NF == 4 && $3 ~ /^[tTWi]$/' > "$T/nm"
# the address and size of every listed function the binary defines
awk 'NR == FNR { want[$1] = 1; next }
    ($4 in want) && !($4 in seen) { seen[$4] = 1; print $1, $2, $4 }' \
    "$T/names" "$T/nm" > "$T/hot"
found=$(wc -l < "$T/hot")
[ $((found * 10)) -ge $((n * 9)) ]
ok $? "filter/hot.order is current: the binary defines $found of its $n names (else: make hot-order)"

# their span against their size, and against the whole text: unordered,
# they spread over nearly all of it
perl -e '
	my ($lo, $hi, $sum);
	while (<STDIN>) {
		my ($a, $z) = map { hex } (split)[0, 1];
		$lo = $a if !defined $lo || $a < $lo;
		$hi = $a + $z if !defined $hi || $a + $z > $hi;
		$sum += $z;
	}
	printf "%d %d\n", $hi - $lo, $sum;
' < "$T/hot" > "$T/span"
read -r span sum < "$T/span"
text=$(size -A "$BACKSTOP" | awk '$1 == ".text" { print $2 }')
diag "hot functions: $sum bytes of code over $span bytes of a $text-byte text"
[ "$span" -le $((sum * 2)) ] && [ "$span" -le $((text / 2)) ]
ok $? "the functions a delivery runs lie together"
done_testing
