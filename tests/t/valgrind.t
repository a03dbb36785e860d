#!/bin/sh
# The real binary under valgrind: deliver (classification under the guard,
# filter/guard.c, included), filter, explain and scan on every fixture, the
# hostile ones up to 1.5 MB (the larger ones run under ASan) and a sample
# of the shared corpus.  Any memory error or definite leak fails the test
# (--error-exitcode).  Skipped in the ASan pass: ASan and valgrind do not
# mix.
. "$(dirname "$0")/../lib.sh"
[ "${BACKSTOP_SANITIZED:-0}" = 1 ] && skip_all "ASan binary: valgrind cannot run it"
command -v valgrind > /dev/null || skip_all "valgrind is not installed"
# valgrind cannot replace malloc in a static binary (the release build is
# -static-pie): the Makefile gives a dynamic build of the same sources
if ldd "$BACKSTOP" 2>&1 | grep -q -e "statically linked" -e "not a dynamic"; then
	[ -n "${BACKSTOP_DYNAMIC:-}" ] ||
	    skip_all "static binary and no BACKSTOP_DYNAMIC build to run"
	BACKSTOP=$BACKSTOP_DYNAMIC
fi
scratch
R=$T/rules.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
# glibc's ld.so reads 8 bytes at a time past a short rpath string when
# iconv dlopen()s a gconv module (ISO-2022-JP text): not ours, not a bug
cat > "$T/supp" <<'EOF'
{
   glibc-dlopen-is_dst-strncmp
   Memcheck:Addr8
   fun:strncmp
   fun:is_dst
}
EOF
VG="valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --suppressions=$T/supp --track-fds=no --log-file=$T/vg.%p"
vg_clean() {	# WHAT RC: exit status and no report in any log
	if [ "$2" != 99 ] && ! grep -qs '==[0-9]*== [A-Z]' "$T"/vg.*; then
		ok 0 "$1"
	else
		ok 1 "$1 (exit $2)"
		cat "$T"/vg.* | head -n 40 | sed 's/^/# /'
	fi
	rm -f "$T"/vg.*
}
# small hostile fixtures; the sample: every 12th file of the corpus
HOSTILE=$(find "$FIX/hostile" -name '*.eml' -size -1500k | sort)
SAMPLE=
if [ -d "$CORPUS" ]; then
	SAMPLE=$(find "$CORPUS" -type f \( -name '*.eml' -o -name '*.msg' -o \
	    -name '*.txt' \) ! -name 'README*' | sort | awk 'NR % 12 == 1')
fi

# scan: in-process, every fixture at once
$VG "$BACKSTOP" scan -r "$R" "$FIX"/*.eml > "$T/out"; vg_clean "scan fixtures" $?
is "$(wc -l < "$T/out" | tr -d ' ')" "$(ls "$FIX"/*.eml | wc -l | tr -d ' ')" \
    "scan fixtures: one line each"
# shellcheck disable=SC2086
$VG "$BACKSTOP" scan -r "$R" $HOSTILE > "$T/out"; vg_clean "scan small hostile fixtures" $?
if [ -n "$SAMPLE" ]; then
	# shellcheck disable=SC2086
	$VG "$BACKSTOP" scan -r "$R" $SAMPLE > "$T/out"
	vg_clean "scan $(echo "$SAMPLE" | wc -l | tr -d ' ') corpus messages" $?
else
	ok 0 "# SKIP no shared corpus at $CORPUS"
fi

# deliver: one process per message
for f in "$FIX"/*.eml $HOSTILE $(echo "$SAMPLE" | awk 'NR % 5 == 1'); do
	n=${f#"$TOP"/}; n=${n#"$CORPUS"/}
	rm -rf "$T/Maildir"
	BACKSTOP_LOG_STDERR=1 $VG "$BACKSTOP" deliver -d "$T/Maildir" -r "$R" \
	    < "$f" 2> "$T/err"
	rc=$?
	vg_clean "deliver $n" $rc
	if grep -q 'classification failed' "$T/err"; then
		ok 1 "deliver $n: classified under valgrind"
		sed 's/^/# /' "$T/err"
	fi
done

# filter and explain: the header and the trace paths
$VG "$BACKSTOP" filter -r "$R" < "$FIX/dsn-forged.eml" > "$T/out"
vg_clean "filter" $?
grep -q '^X-Backstop: backscatter' "$T/out"; ok $? "filter adds X-Backstop"
for f in "$FIX/dsn-ours.eml" "$FIX/ndr-base64-inline.eml" \
    "$FIX/hostile/nest-multipart-5000.eml"; do
	$VG "$BACKSTOP" explain -r "$R" "$f" > "$T/out"
	vg_clean "explain $(basename "$f")" $?
done

done_testing
