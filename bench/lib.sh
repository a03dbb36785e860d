# bench/lib.sh: what bench/pair.sh and bench/sent-index.sh share; sourced,
# not run.  The caller sets here (bench/), then calls lib_env and lib_init.
#
#   lib_env STORES BLOCKS
#                       root, backstop, out, corpus, stores, scale, blocks
#                       from the environment (BACKSTOP, BENCH_OUT,
#                       BENCH_CORPUS, BENCH_STORES, BENCH_SCALE,
#                       BENCH_BLOCKS), STORES and BLOCKS the defaults;
#                       the working directory becomes root
#   lib_init            floor and pipebench into $out/bin, a cleanup trap
#   ram_store DIR SIZE INODES
#                       mount a private ext4 on a loop device over tmpfs
#                       at DIR (root only); 0 or 1
#   wait_load           wait (sleep 60, at most 10 times) while the
#                       1-minute load is above BENCH_MAX_LOAD (2.5); prints
#                       the load it goes on with
#   summary RAW REF NAME...
#                       from pipebench -o RAW: per command the median of
#                       its per-round ratio to REF with quartiles, its
#                       median time, median and largest peak RSS

say() { printf '%s\n' "$*" >&2; }

lib_env() {
	root=$(dirname "$here")
	cd "$root"
	backstop=${BACKSTOP:-./backstop}
	case $backstop in /*) ;; *) backstop=$root/${backstop#./} ;; esac
	out=${BENCH_OUT:-$root/bench/out}
	corpus=${BENCH_CORPUS:-$root/../shared/corpus}
	stores=${BENCH_STORES:-$1}
	scale=${BENCH_SCALE:-1}
	blocks=${BENCH_BLOCKS:-$2}
}
rounds() { awk -v n="$1" -v s="$scale" 'BEGIN { r = int(n * s + 0.5); print (r < 3 ? 3 : r) }'; }
have() { command -v "$1" >/dev/null 2>&1; }

lib_loop= lib_img= lib_mnt=
lib_cleanup() {
	if [ -n "$lib_mnt" ]; then umount "$lib_mnt" 2>/dev/null || true; fi
	if [ -n "$lib_loop" ]; then losetup -d "$lib_loop" 2>/dev/null || true; fi
	if [ -n "$lib_img" ]; then rm -f "$lib_img"; fi
}

lib_init() {
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM
	bin=$out/bin
	mkdir -p "$bin"
	cc -O2 -o "$bin/floor" "$here/floor.c"
	cc -O2 -o "$bin/pipebench" "$here/pipebench.c"
}

# The same store as run.sh's "ram", with room for INODES files.
ram_store() {
	if [ "$(id -u)" -ne 0 ] || ! have losetup || ! have mkfs.ext4 || [ ! -d /dev/shm ]; then
		say "bench: no ram store (needs root, losetup, mkfs.ext4, /dev/shm)"
		return 1
	fi
	lib_img=/dev/shm/backstop-bench.$$.img
	mkdir -p "$1"
	truncate -s "$2" "$lib_img"
	mkfs.ext4 -q -F -N "$3" "$lib_img"
	if ! lib_loop=$(losetup -f --show "$lib_img"); then
		say "bench: no loop device"
		return 1
	fi
	if ! mount -o noatime "$lib_loop" "$1"; then
		say "bench: could not mount the ram store"
		return 1
	fi
	lib_mnt=$1
}

load1() { awk '{ print $1 }' /proc/loadavg; }
wait_load() {
	i=0
	while [ $i -lt 10 ] && awk -v l="$(load1)" -v m="${BENCH_MAX_LOAD:-2.5}" 'BEGIN { exit !(l > m) }'; do
		say "bench: load $(load1) above ${BENCH_MAX_LOAD:-2.5}, waiting a minute"
		sleep 60
		i=$((i + 1))
	done
	load1
}

# quantiles COLUMN < numbers: "median q1 q3 max" of that column,
# interpolated as pipebench does (position q * (n - 1)).
quantiles() {
	awk -v c="$1" '{ print $c }' | sort -g | awk '
	function q(p,   x, i) { x = p * (NR - 1); i = int(x); return (i + 1 >= NR) ? v[NR] : v[i + 1] + (x - i) * (v[i + 2] - v[i + 1]) }
	{ v[NR] = $1 }
	END { if (NR) print q(0.5), q(0.25), q(0.75), v[NR]; else print 0, 0, 0, 0 }'
}

# Per-round ratios from a pipebench raw file (round name wall_us cpu_us
# rss_kib status): for each NAME, the median, q1 and q3 of wall(NAME) /
# wall(REF) within each round, its median wall time in ms, its median and
# largest peak RSS in KiB, and its failures.  Output, tab-separated:
# name rounds ratio q1 q3 ms rss_median rss_max failures
summary() {
	raw=$1 ref=$2
	shift 2
	for n in "$@"; do
		awk -F'\t' -v ref="$ref" -v n="$n" '
		$2 == ref { r[$1] = $3 }
		$2 == n { w[$1] = $3; s[$1] = $5; st[$1] = $6 }
		END { for (k in w) if (k in r) print w[k] / r[k], w[k] / 1e3, s[k], (st[k] != 0) }' \
		    "$raw" > "$out/.per-round"
		set -- $(quantiles 1 < "$out/.per-round") \
		    $(quantiles 2 < "$out/.per-round") \
		    $(quantiles 3 < "$out/.per-round") "$@"
		printf '%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%d\n' "$n" \
		    "$(wc -l < "$out/.per-round")" "$1" "$2" "$3" "$5" "$9" "${12}" \
		    "$(awk '{ s += $4 } END { print s + 0 }' "$out/.per-round")"
		shift 12
	done
	rm -f "$out/.per-round"
}

# The per-round ratio of two commands of the same run: A / B.
# Output: median q1 q3 (space-separated).
ratio_of() {
	awk -F'\t' -v a="$2" -v b="$3" '
	$2 == a { x[$1] = $3 } $2 == b { y[$1] = $3 }
	END { for (k in x) if (k in y) print x[k] / y[k] }' "$1" | quantiles 1 |
	    awk '{ print $1, $2, $3 }'
}

# The per-round difference of two commands of the same run, A - B, in ms.
# Output: median q1 q3 (space-separated).
diff_of() {
	awk -F'\t' -v a="$2" -v b="$3" '
	$2 == a { x[$1] = $3 } $2 == b { y[$1] = $3 }
	END { for (k in x) if (k in y) print (x[k] - y[k]) / 1e3 }' "$1" | quantiles 1 |
	    awk '{ print $1, $2, $3 }'
}
