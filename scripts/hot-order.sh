#!/bin/sh
# scripts/hot-order.sh: write filter/hot.order, the functions deliveries
# run, in the order they first run them, for the link (Makefile: ld.lld's
# --symbol-ordering-file).  A delivery is one short process: each 64 KiB
# of code it touches is a page fault, about 15 us on a virtual machine,
# and the code one delivery runs is spread over the whole 1.4 MB of text
# (libc, libetpan, PCRE2, libyaml and ours) unless the linker puts it
# together (docs/performance.md, "Code layout").
#
#   make hot-order          (after changing what a delivery runs)
#
# It traces ./backstop deliver (bench/hottrace.c, one instruction at a
# time) on fixtures that take the main paths: a forged DSN to Junk and a
# DSN of ours, with the sent index and the recipients asked; an NDR that
# quotes no Message-ID; an auto-reply; ordinary mail.  A stale order
# costs speed, never correctness: the linker skips names it does not
# find.  Needs perl and ptrace (not inside a container that forbids it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s backstop
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT INT TERM
cc -O2 -o "$t/hottrace" bench/hottrace.c

home=$t/home
md=$home/Maildir
for d in "$md" "$md/.Junk" "$md/.Sent"; do
	mkdir -p "$d/tmp" "$d/new" "$d/cur"
done
# a sent folder: what the index is built from, with more entries than
# one block of the index holds (its search then interpolates)
i=0
while [ $i -lt 600 ]; do
	printf 'Date: Mon, 2 Nov 2026 %02d:%02d:00 +0000\nFrom: Bob <bob@example.org>\nTo: friend%d@example.net\nSubject: notes %d\nMessage-ID: <202611020%03d00.%08X@mail.example.org>\n\nHello.\n' \
	    $((i / 60)) $((i % 60)) $i $i $i $i > "$md/.Sent/cur/$((1793610000 + i)).M${i}P1.trace:2,S"
	i=$((i + 1))
done
{
	cat tests/fixtures/rules.yaml
	printf '  sent: true\n  recipients: true\n'
	# one instruction at a time is slow: no time limit may cut the trace
	printf 'limits:\n  timeout: 300s\n'
} > "$t/rules.yaml"
chmod 600 "$t/rules.yaml"
export HOME="$home" BACKSTOP_SYSTEM_RULES=
# the index as if built long ago, so that it can answer "not sent"
BACKSTOP_TEST_CLOCK=1700000000 ./backstop check-rules -r "$t/rules.yaml" \
    > /dev/null 2>&1 || true
[ -s "$home/.backstop-sent.idx" ] || { echo "hot-order: no sent index" >&2; exit 1; }

n=0
for f in dsn-forged dsn-ours ndr-no-msgid-recipient ndr-base64-original \
    autoreply-vacation ham-plain; do
	n=$((n + 1))
	"$t/hottrace" "$t/trace.$n" "tests/fixtures/$f.eml" \
	    ./backstop deliver -d "$md" -r "$t/rules.yaml"
done

nm -n -S --defined-only ./backstop > "$t/nm"
{
	echo "# filter/hot.order: written by scripts/hot-order.sh (make hot-order),"
	echo "# read by the link (ld.lld --symbol-ordering-file); do not edit."
	# the symbol each traced address falls in, first run first
	perl -e '
		my $nm = shift;
		my @s;
		open my $fh, "<", $nm or die "$nm: $!";
		while (<$fh>) {
			my @p = split;
			my ($a, $z, $ty, $name) = @p == 4 ? @p : ($p[0], 0, $p[1], $p[2]);
			next unless defined $name && $ty =~ /^[tTWi]$/;
			push @s, [hex $a, hex $z, $name];
		}
		my %seen;
		for my $t (@ARGV) {
			open my $th, "<", $t or die "$t: $!";
			while (my $l = <$th>) {
				chomp $l;
				my $o = hex $l;
				next if !@s || $o < $s[0][0];
				my ($lo, $hi) = (0, $#s);
				while ($lo < $hi) {
					my $m = int(($lo + $hi + 1) / 2);
					if ($s[$m][0] <= $o) { $lo = $m } else { $hi = $m - 1 }
				}
				my $x = $s[$lo];
				next if $x->[1] && $o >= $x->[0] + $x->[1];
				print "$x->[2]\n" unless $seen{$x->[2]}++;
			}
		}
	' "$t/nm" "$t"/trace.*
} > "$t/hot.order"
lines=$(grep -vc '^#' "$t/hot.order")
[ "$lines" -gt 100 ] || { echo "hot-order: only $lines functions traced" >&2; exit 1; }
mv "$t/hot.order" filter/hot.order
echo "filter/hot.order: $lines functions"
