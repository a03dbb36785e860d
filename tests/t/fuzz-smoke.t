#!/bin/sh
# The classify() fuzz target: every regression fixture once, then about a
# minute of fuzzing seeded with tests/fixtures/ and the shared corpus, so
# CI keeps exercising it (make fuzz runs it for an hour).  Then the same for
# the rule-file loader (fuzz/fuzz_rules.c): every file of
# tests/fixtures/hostile/rules/ once, and 20 s of fuzzing
# (BACKSTOP_FUZZ_RULES_SECONDS).  Skipped in the ASan pass of make check:
# the targets are already built with ASan + UBSan.
. "$(dirname "$0")/../lib.sh"
[ "${BACKSTOP_SANITIZED:-0}" = 1 ] &&
	skip_all "the fuzz target is sanitized already: run once, not twice"
command -v clang > /dev/null || skip_all "clang is not installed"
scratch
printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
    '{ (void)d; (void)n; return 0; }' > "$T/probe.c"
clang -fsanitize=fuzzer -o "$T/probe" "$T/probe.c" > /dev/null 2>&1 ||
	skip_all "clang has no libFuzzer (Debian: libclang-rt-dev)"
SECS=${BACKSTOP_FUZZ_SECONDS:-60}
BIN=$T/fuzz_classify
cp "$TOP/fuzz/rules.yaml" "$T/rules.yaml"; chmod 600 "$T/rules.yaml"
export BACKSTOP_FUZZ_RULES=$T/rules.yaml FUZZ_BIN=$BIN FUZZ_WORK=$T/corpus \
    FUZZ_ARTIFACTS=$T/

FUZZ_BUILD=1 "$TOP/fuzz/run.sh" > "$T/build.log" 2>&1
ok $? "the fuzz target builds (clang -fsanitize=fuzzer,address,undefined)"
[ -x "$BIN" ] || { sed 's/^/# /' "$T/build.log"; done_testing; exit 1; }

# every input that ever crashed, and the other hostile fixtures, in-process
# under ASan + UBSan (-runs=1 per file)
set -- "$FIX"/hostile/*.eml "$FIX"/*.eml
ASAN_OPTIONS=detect_leaks=1 "$BIN" -timeout=60 -rss_limit_mb=2048 \
    "$@" > "$T/regress.log" 2>&1
rc=$?
is "$rc" 0 "the $# fixtures run through the target without a finding"
[ "$rc" = 0 ] || grep -E 'ERROR|SUMMARY|Running' "$T/regress.log" | tail -n 20 |
	sed 's/^/# /'

start=$(date +%s)
FUZZ_BUILD=0 "$TOP/fuzz/run.sh" "$SECS" > "$T/fuzz.log" 2>&1
rc=$?
is "$rc" 0 "fuzzing for ${SECS}s found nothing"
diag "$(grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$T/fuzz.log" | tr '\n' ' ')"
diag "$(grep -E '^#[0-9]+' "$T/fuzz.log" | tail -n 1)"
grep -q '^Done [0-9]* runs' "$T/fuzz.log"; ok $? "the fuzzer ran to its time limit"
if [ "$rc" != 0 ]; then
	grep -E 'ERROR|SUMMARY|Test unit written|#0 |#1 |#2 ' "$T/fuzz.log" |
		head -n 20 | sed 's/^/# /'
	for a in "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-*; do
		[ -f "$a" ] && cp "$a" "$TOP/fuzz/" &&
			diag "saved $TOP/fuzz/$(basename "$a"): minimize it" \
			    "(fuzz_classify -minimize_crash=1) and add it to" \
			    "tests/fixtures/hostile/"
	done
fi
took=$(( $(date +%s) - start ))
ok "$([ $took -lt $((SECS + 120)) ]; echo $?)" "smoke run took ${took}s"

# --- the rule-file loader ---------------------------------------------------
RSECS=${BACKSTOP_FUZZ_RULES_SECONDS:-20}
RBIN=$T/fuzz_rules
unset BACKSTOP_FUZZ_RULES
export FUZZ_TARGET=rules FUZZ_BIN=$RBIN FUZZ_WORK=$T/rules-corpus \
    FUZZ_ARTIFACTS=$T/rules-
FUZZ_BUILD=1 "$TOP/fuzz/run.sh" > "$T/rules-build.log" 2>&1
ok $? "the rules fuzz target builds"
[ -x "$RBIN" ] || { sed 's/^/# /' "$T/rules-build.log"; done_testing; exit 1; }

# every rule file that ever cost too much or crashed, one run each, so
# that each finding is named; the target aborts when a load takes more
# than 5 s of CPU or holds more than 64 MiB (fuzz/fuzz_rules.c)
rfail=0
for f in "$FIX"/hostile/rules/*; do
	[ -f "$f" ] || continue
	ASAN_OPTIONS=detect_leaks=1 "$RBIN" -timeout=60 -rss_limit_mb=2048 \
	    "$f" > "$T/rules-regress.log" 2>&1
	rc=$?
	is "$rc" 0 "hostile/rules/${f##*/} loads without a finding"
	[ "$rc" = 0 ] && continue
	rfail=1
	grep -E 'fuzz_rules:|ERROR|SUMMARY|#[0-9] ' "$T/rules-regress.log" |
	    head -n 12 | sed 's/^/# /'
done
# while one of them fails (reported above), fuzz without them as seeds:
# they would end the run at once and hide anything new
[ "$rfail" = 0 ] || export FUZZ_HOSTILE=0

start=$(date +%s)
FUZZ_BUILD=0 "$TOP/fuzz/run.sh" "$RSECS" > "$T/rules-fuzz.log" 2>&1
rc=$?
is "$rc" 0 "fuzzing the rule loader for ${RSECS}s found nothing"
diag "$(grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$T/rules-fuzz.log" | tr '\n' ' ')"
diag "$(grep -E '^#[0-9]+' "$T/rules-fuzz.log" | tail -n 1)"
grep -q '^Done [0-9]* runs' "$T/rules-fuzz.log"
ok $? "the rules fuzzer ran to its time limit"
if [ "$rc" != 0 ]; then
	grep -E 'fuzz_rules:|ERROR|SUMMARY|Test unit written|#0 |#1 |#2 ' \
	    "$T/rules-fuzz.log" | head -n 20 | sed 's/^/# /'
	for a in "$T"/rules-crash-* "$T"/rules-leak-* "$T"/rules-timeout-* \
	    "$T"/rules-oom-*; do
		[ -f "$a" ] && cp "$a" "$TOP/fuzz/" &&
			diag "saved $TOP/fuzz/$(basename "$a"): minimize it" \
			    "(fuzz_rules -minimize_crash=1) and add it to" \
			    "tests/fixtures/hostile/rules/"
	done
fi
took=$(( $(date +%s) - start ))
ok "$([ $took -lt $((RSECS + 60)) ]; echo $?)" "rules smoke run took ${took}s"

done_testing
