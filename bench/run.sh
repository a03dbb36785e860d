#!/bin/sh
# bench/run.sh: what `make bench` runs.  backstop against the floor (a bare
# fsynced maildir write, bench/floor.c) and against what users would run
# instead: procmail, maildrop, safecat, Sisimai, SpamAssassin and
# spamc -> spamd with VBounce.
#
# Every delivery is a whole process fed on a pipe as an MTA feeds it, fsync
# on, timed from fork() to wait4() by bench/pipebench.c, paired and
# alternating: each round runs every tool once, in a rotated order, and the
# ratio to the floor is taken within the round; the table gives the median
# of those ratios and their interquartile range.  Sisimai, spamc and
# SpamAssassin (30 to 800 times the floor) run alone and are divided by the
# paired floor's median: spamd's work after it answers slowed whatever ran
# next in a shared round.  Peak RSS of the 20 MiB bounce comes from
# /usr/bin/time -v.  hyperfine (1.15 cannot
# alternate commands nor feed a pipe) gives a second opinion on the typical
# bounce, in alternating rounds, with pipebench as its pipe feeder.
#
# Two mail stores, because fsync dominates the floor and this machine's
# disk is shared:
#   ram   a private ext4 on a loop device over tmpfs: fsync does the
#         journal work but never waits for a device, so the CPU cost of
#         each tool shows (the strict case; root only)
#   disk  bench/out on the repository's own filesystem, as a user's
#         ~/Maildir would be (noisy when others write to the same disk)
#
# env: BACKSTOP (default ./backstop), BENCH_OUT (default bench/out),
#      BENCH_CORPUS (default ../shared/corpus), BENCH_STORES ("ram disk"),
#      BENCH_SCALE (1; 0.3 for a quick look: fewer rounds everywhere)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_env "ram disk" 1
bounce=$corpus/sisimai/bounces/lhost-postfix-05.eml
port=${BENCH_SPAMD_PORT:-17830}

[ -x "$backstop" ] || { say "bench: no backstop at $backstop (make, or set BACKSTOP)"; exit 1; }
[ -r "$bounce" ] || { say "bench: corpus not found at $corpus (set BENCH_CORPUS)"; exit 1; }

# --- packages ---------------------------------------------------------------
if [ -x "$root/scripts/deps.sh" ]; then
	"$root/scripts/deps.sh" bench || say "bench: scripts/deps.sh bench failed, going on with what is installed"
fi
# spamd is its own Debian package since SpamAssassin 4
if ! command -v spamd >/dev/null 2>&1 && [ ! -x /usr/sbin/spamd ] && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q \
	    install --no-install-recommends spamd >/dev/null 2>&1 || say "bench: could not install spamd"
fi
PATH=$PATH:/usr/sbin

# --- build the floor and the driver -----------------------------------------
lib_init
mkdir -p "$out/raw"
"$here/gen-cases.sh" "$out/cases"
ordinary=$out/cases/ordinary.eml
big=$out/cases/big-bounce.eml

# the ram store is lib.sh's; spamd is this script's
spamd_pid=
cleanup() {
	if [ -n "$spamd_pid" ]; then kill "$spamd_pid" 2>/dev/null || true; fi
	lib_cleanup
}
trap cleanup EXIT

conf=$out/conf
use_stores=
for s in $stores; do
	case $s in
	ram)
		# 1 GiB, mkfs.ext4's own count of inodes for that size
		ram_store "$out/ram" 1G 65536 || continue
		;;
	disk)
		rm -rf "$out/disk"
		mkdir -p "$out/disk"
		;;
	*)
		say "bench: unknown store $s"
		continue
		;;
	esac
	"$here/anchors.sh" "$conf" "$out/$s"
	use_stores="$use_stores $s"
done
[ -n "$use_stores" ] || { say "bench: no mail store"; exit 1; }

export HOME=$conf/home BACKSTOP_SYSTEM_RULES=
unset SENDER RECIPIENT RPLINE DTLINE 2>/dev/null || true

if have spamd && have spamc; then
	rm -f "$conf/spamd.pid"
	spamd -d -L -x -u nobody -i 127.0.0.1 -p "$port" \
	    --siteconfigpath="$conf/sa-site" --pidfile="$conf/spamd.pid" \
	    --min-children=1 --max-children=2 -s "$conf/spamd.log" 2>/dev/null || true
	i=0
	while [ $i -lt 60 ] && ! spamc -d 127.0.0.1 -p "$port" -K >/dev/null 2>&1; do
		sleep 0.5; i=$((i + 1))
	done
	[ -s "$conf/spamd.pid" ] && spamd_pid=$(cat "$conf/spamd.pid")
	spamc -d 127.0.0.1 -p "$port" -K >/dev/null 2>&1 || { say "bench: spamd did not start"; spamd_pid_fail=1; }
fi

# The command lines of each tool for store $1 (pipebench: blank-separated,
# no shell, except "sh:" lines).
cmdline() {
	s=$out/$1
	case $2 in
	floor) echo "$bin/floor $s/floor" ;;
	backstop) echo "$backstop deliver -d $s/backstop -r $conf/rules.yaml" ;;
	procmail) echo "procmail -m $conf/procmailrc-$1" ;;
	maildrop) echo "maildrop $conf/mailfilter-$1" ;;
	safecat) echo "safecat $s/safecat/tmp $s/safecat/new" ;;
	sisimai) echo "perl $here/sisimai-deliver.pl $s/sisimai" ;;
	spamc) echo "spamc -d 127.0.0.1 -p $port -e /usr/bin/safecat $s/spamc/tmp $s/spamc/new" ;;
	spamassassin) echo "sh:spamassassin -L -x --siteconfigpath=$conf/sa-site | safecat $s/spamassassin/tmp $s/spamassassin/new" ;;
	esac
}
available() {
	case $1 in
	floor|backstop) return 0 ;;
	sisimai) perl -MSisimai -e 1 2>/dev/null ;;
	spamc) have spamc && [ -z "${spamd_pid_fail:-}" ] && [ -n "$spamd_pid" ] ;;
	*) have "$1" ;;
	esac
}

# bench STORE CASE-NAME FILE ROUNDS TOOL... -> $out/raw/STORE-CASE-TOOLS.tsv
# The floor runs first in every set, except with SOLO=1: a tool so slow
# that pairing adds nothing, or one that disturbs whatever runs after it
# (spamd goes on working after spamc has its answer), runs alone and is
# compared with the median floor of the paired set.
bench() {
	st=$1 cname=$2 file=$3 n=$4
	shift 4
	[ "${SOLO:-0}" = 1 ] || set -- floor "$@"
	tag=$st-$cname-$(echo "$*" | tr ' ' '+')
	for t in "$@"; do
		available "$t" || say "bench: $t not available, skipped"
	done
	set -- $(for t in "$@"; do available "$t" && echo "$t"; done)
	[ $# -ge 1 ] || return 0
	say "  $st / $cname: $* ($n rounds)"
	{
		printf '%s\n' "$bin/pipebench" -r "$n" -w 2 \
		    -c "find $out/$st -path '*/new/*' -type f -delete" \
		    -o "$out/raw/$tag.runs" -i "$file"
		for t in "$@"; do
			printf '%s\n' "$t" "$(cmdline "$st" "$t")"
		done
	} > "$out/raw/$tag.argv"
	# run the argv file, one argument per line
	(
		IFS='
'
		set -f
		# shellcheck disable=SC2046
		exec $(cat "$out/raw/$tag.argv")
	) > "$out/raw/$tag.tsv"
	# keep a per-case summary: STORE CASE then pipebench's columns
	awk -v st="$st" -v c="$cname" -v solo="${SOLO:-0}" \
	    '{ print st "\t" c "\t" $0 "\t" solo }' \
	    "$out/raw/$tag.tsv" >> "$out/summary.tsv"
}

# peak RSS with /usr/bin/time -v, the message on a pipe: STORE TOOL -> KiB
peak_rss() {
	c=$(cmdline "$1" "$2")
	case $c in
	sh:*) set -- /bin/sh -c "${c#sh:}" ;;
	*) set -f; set -- $c; set +f ;;
	esac
	{ cat "$big" | /usr/bin/time -v "$@" >/dev/null; } 2>&1 |
	    awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }'
	find "$out" -path '*/new/*' -type f -size +1M -delete 2>/dev/null || true
}

: > "$out/summary.tsv"
load0=$(uptime | sed 's/.*load/load/')
say "bench: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
say "bench: backstop $backstop"
cheap="backstop procmail maildrop safecat"
for st in $use_stores; do
	if [ "$st" = ram ]; then nc=300 ne=40 ns=8; else nc=100 ne=20 ns=5; fi
	for c in bounce ordinary; do
		f=$bounce
		[ "$c" = ordinary ] && f=$ordinary
		SOLO=0
		# issue 7's own measure: floor and backstop alone, alternating
		bench "$st" "$c-pair" "$f" "$(rounds $((nc + nc / 3)))" backstop
		bench "$st" "$c" "$f" "$(rounds $nc)" $cheap
		SOLO=1
		bench "$st" "$c" "$f" "$(rounds $ne)" sisimai
		bench "$st" "$c" "$f" "$(rounds $ne)" spamc
		bench "$st" "$c" "$f" "$(rounds $ns)" spamassassin
	done
done

# 20 MiB: time on the first store, peak RSS with /usr/bin/time -v
st=${use_stores# }
st=${st%% *}
SOLO=0
bench "$st" big "$big" "$(rounds 15)" $cheap
SOLO=1
bench "$st" big "$big" "$(rounds 5)" sisimai
bench "$st" big "$big" "$(rounds 3)" spamassassin
: > "$out/rss.tsv"
for t in floor backstop procmail maildrop safecat sisimai spamassassin; do
	available "$t" || continue
	printf '%s\t%s\n' "$t" "$(peak_rss "$st" "$t")" >> "$out/rss.tsv"
done

# --- hyperfine's second opinion: typical bounce, floor vs backstop ----------
hf=
if have hyperfine; then
	say "  hyperfine: floor vs backstop, 10 alternating rounds"
	: > "$out/raw/hyperfine.times"
	for r in 1 2 3 4 5 6 7 8 9 10; do
		a="$bin/pipebench -1 -i $bounce $(cmdline "$st" floor)"
		b="$bin/pipebench -1 -i $bounce $(cmdline "$st" backstop)"
		if [ $((r % 2)) -eq 0 ]; then x=$a; a=$b; b=$x; fi
		hyperfine -N -w 3 -r "$(rounds 25)" --export-json "$out/raw/hf-$r.json" \
		    "$a" "$b" >/dev/null 2>&1 || continue
		perl -MJSON::PP -e '
			local $/; my $j = decode_json(<STDIN>);
			for my $r (@{ $j->{results} }) {
				my $n = $r->{command} =~ /deliver/ ? "backstop" : "floor";
				print "$n\t$_\n" for @{ $r->{times} };
			}' < "$out/raw/hf-$r.json" >> "$out/raw/hyperfine.times"
		find "$out/$st" -path '*/new/*' -type f -delete
	done
	hf=$(sort -t'	' -k1,1 -k2,2g "$out/raw/hyperfine.times" | awk -F'\t' '
		{ v[$1, ++n[$1]] = $2 }
		function med(k) { return (n[k] % 2) ? v[k, (n[k] + 1) / 2] : (v[k, n[k] / 2] + v[k, n[k] / 2 + 1]) / 2 }
		END { if (n["floor"] && n["backstop"]) printf "median floor %.2f ms, backstop %.2f ms (%.2fx); fastest floor %.2f ms, backstop %.2f ms (%.2fx); %d runs each in blocks of %d, feeder included", med("floor") * 1e3, med("backstop") * 1e3, med("backstop") / med("floor"), v["floor", 1] * 1e3, v["backstop", 1] * 1e3, v["backstop", 1] / v["floor", 1], n["floor"], n["floor"] / 10 }')
fi

# --- scan throughput, one process, one core ---------------------------------
say "  scan: backstop scan and Sisimai over the corpus"
nb=$(ls "$corpus/sisimai/bounces" | wc -l)
"$bin/pipebench" -r "$(rounds 7)" -w 1 -i /dev/null \
    scan "$backstop scan -r $conf/rules.yaml $corpus/sisimai/bounces" > "$out/raw/scan.tsv"
scan_ms=$(awk -F'\t' '{ print $4 }' "$out/raw/scan.tsv")
sis_line=
if available sisimai; then
	sis_line=$(perl "$here/sisimai-scan.pl" "$corpus"/sisimai/bounces/* 2>&1 >/dev/null)
	"$bin/pipebench" -r "$(rounds 3)" -w 0 -i /dev/null \
	    sisimai "sh:perl $here/sisimai-scan.pl $corpus/sisimai/bounces/* 2>/dev/null" \
	    > "$out/raw/sisimai-scan.tsv" 2>/dev/null || true
fi
sis_ms=$(awk -F'\t' '{ print $4 }' "$out/raw/sisimai-scan.tsv" 2>/dev/null || true)

# --- instructions: callgrind, start-up included -----------------------------
cg=
if have valgrind; then
	say "  callgrind: deliver and scan of the typical bounce"
	rm -rf "$out/callgrind"
	mkdir -p "$out/callgrind"
	# one process: start-up, rules, read, classification, delivery
	valgrind --tool=callgrind \
	    --callgrind-out-file="$out/callgrind/deliver.%p" \
	    $(cmdline "$st" backstop) < "$bounce" >/dev/null 2>&1 || true
	valgrind --tool=callgrind --callgrind-out-file="$out/callgrind/scan.%p" \
	    "$backstop" scan -r "$conf/rules.yaml" "$bounce" >/dev/null 2>&1 || true
	valgrind --tool=callgrind --callgrind-out-file="$out/callgrind/floor.%p" \
	    $(cmdline "$st" floor) < "$bounce" >/dev/null 2>&1 || true
	total() { cat "$out"/callgrind/"$1".* 2>/dev/null | awk '/^totals:/ { s += $2 } END { print s + 0 }'; }
	cg="deliver $(total deliver), scan $(total scan), floor $(total floor) instructions"
	find "$out/$st" -path '*/new/*' -type f -delete
fi

# --- where backstop's time goes: syscalls and software counters -------------
{
	echo "== strace -f -c: floor"
	strace -f -c -w -o /dev/stdout $(cmdline "$st" floor) < "$bounce" 2>&1 | tail -n +1
	echo "== strace -f -c: backstop deliver"
	strace -f -c -w -o /dev/stdout $(cmdline "$st" backstop) < "$bounce" 2>&1 | tail -n +1
	if have perf; then
		for t in floor backstop; do
			echo "== perf stat (software events, pipebench feeder included): $t"
			perf stat -r 50 -e task-clock,page-faults,context-switches \
			    "$bin/pipebench" -1 -i "$bounce" $(cmdline "$st" "$t") 2>&1 | grep -E 'task-clock|page-faults|context-sw|elapsed'
		done
	fi
} > "$out/profile.txt" 2>&1 || true
find "$out/$st" -path '*/new/*' -type f -delete 2>/dev/null || true

# --- detection: Sisimai vs backstop on the corpus ---------------------------
det=
if available sisimai; then
	say "  detection: bench/sisimai-compare.sh"
	BACKSTOP=$backstop BENCH_CORPUS=$corpus "$here/sisimai-compare.sh" "$out" > /dev/null 2>&1 || true
	det=$(sed -n 4p "$out/compare.txt" 2>/dev/null)
fi

# --- the table --------------------------------------------------------------
{
	echo "load before: $load0"
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r); $(uptime | sed 's/.*load/load/')"
	echo
	awk -F'\t' -v stores="$use_stores" '
	# summary.tsv: store case name runs fail med q1 q3 ratio r1 r3 rss cpu solo
	FNR == NR { if ($3 == "floor" && $4 > fn[$1, $2]) { fl[$1, $2] = $6; fn[$1, $2] = $4 }; next }
	$3 == "floor" { next }
	{
		k = $1 SUBSEP $2 SUBSEP $3
		if ($14 == 1) {
			f = fl[$1, $2]
			if (f <= 0) next
			rt[k] = sprintf("%.0f× [%.0f–%.0f] †", $6 / f, $7 / f, $8 / f)
			if ($6 / f < 20) rt[k] = sprintf("%.1f× [%.1f–%.1f] †", $6 / f, $7 / f, $8 / f)
		} else {
			if ((k) in rt && rn[k] >= $4) next
			rt[k] = sprintf("%.2f× [%.2f–%.2f]", $9, $10, $11); rn[k] = $4
		}
		bad[k] = $5
		tools[$3] = 1
	}
	END {
		ns = split(stores, S, " ")
		order = "backstop procmail maildrop safecat sisimai spamc spamassassin"
		nt = split(order, T, " ")
		hdr = "| per message, × floor: median [IQR] |"
		sep = "| --- |"
		for (i = 1; i <= ns; i++) for (c = 1; c <= 2; c++) {
			cn = (c == 1) ? "bounce 2.8 KB" : "ordinary 2.7 KB"
			hdr = hdr " " cn ", " S[i] " |"; sep = sep " --- |"
		}
		print hdr; print sep
		line = "| floor (ms) |"
		for (i = 1; i <= ns; i++) for (c = 1; c <= 2; c++) {
			cn = (c == 1) ? "bounce" : "ordinary"
			line = line sprintf(" %.2f ms |", fl[S[i], cn])
		}
		print line
		for (t = 1; t <= nt; t++) {
			if (!(T[t] in tools)) continue
			line = "| " T[t] " |"
			for (i = 1; i <= ns; i++) for (c = 1; c <= 2; c++) {
				cn = (c == 1) ? "bounce" : "ordinary"
				k = S[i] SUBSEP cn SUBSEP T[t]
				line = line " " ((k in rt) ? rt[k] (bad[k] > 0 ? " (" bad[k] " failed)" : "") : "–") " |"
			}
			print line
		}
	}' "$out/summary.tsv" "$out/summary.tsv"
	echo
	echo "| 20 MiB bounce ($st store) | median | × floor [IQR] | peak RSS |"
	echo "| --- | --- | --- | --- |"
	awk -F'\t' 'FILENAME == ARGV[1] { rss[$1] = $2; next }
	$2 == "big" {
		if ($3 == "floor") { if (!fl) { fl = $6 } ; next }
		if (($3 in seen)) next
		seen[$3] = 1; n[++k] = $3
		if ($14 == 1)
			row[$3] = sprintf("%.0f ms | %.1f× [%.1f–%.1f] †", $6, $6 / fl, $7 / fl, $8 / fl)
		else
			row[$3] = sprintf("%.0f ms | %.2f× [%.2f–%.2f]", $6, $9, $10, $11)
	}
	END {
		printf "| floor | %.0f ms | 1 | %.1f MiB |\n", fl, rss["floor"] / 1024
		for (i = 1; i <= k; i++)
			printf "| %s | %s | %.1f MiB |\n", n[i], row[n[i]], rss[n[i]] / 1024
	}' "$out/rss.tsv" "$out/summary.tsv"
	echo
	awk -v n="$nb" -v ms="$scan_ms" 'BEGIN { if (ms > 0) printf "scan: backstop scan of %d corpus bounces, one process: %.0f ms, %.0f messages/s\n", n, ms, n / (ms / 1000) }'
	[ -n "$sis_ms" ] && awk -v n="$nb" -v ms="$sis_ms" -v l="$sis_line" 'BEGIN { printf "scan: Sisimai->make over the same files, one process: %.0f ms, %.0f messages/s whole process (%s)\n", ms, n / (ms / 1000), l }'
	awk -F'\t' '$2 ~ /-pair$/ && $3 == "backstop" {
		c = $2; sub(/-pair$/, "", c)
		l = l (l ? ", " : "") sprintf("%s %s %.2f× [%.2f–%.2f] (%d rounds)", c, $1, $9, $10, $11, $4) }
	END { if (l) printf "floor and backstop alone, alternating: %s\n", l }' "$out/summary.tsv"
	echo "†: run alone, not paired; the median and quartiles of its times over the median floor of the paired run"
	[ -n "$cg" ] && echo "callgrind, typical bounce, start-up included: $cg"
	[ -n "$hf" ] && echo "hyperfine, typical bounce, $st store: $hf"
	[ -n "$det" ] && echo "detection (bench/sisimai-compare.sh): $det"
	echo
	echo "raw data: $out/summary.tsv, $out/raw/, $out/profile.txt, $out/compare.txt"
} | tee "$out/results.md"
