#!/bin/sh
# The classify() fuzz target: every regression fixture once, then about a
# minute of fuzzing seeded with tests/fixtures/ and the shared corpus, so
# CI keeps exercising it (make fuzz runs it for an hour).  Skipped in the
# ASan pass of make check: the target is already built with ASan + UBSan.
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

done_testing
