#!/bin/sh
# Build and run the classify() fuzz target (make fuzz; tests/t/fuzz-smoke.t).
#
#   fuzz/run.sh [SECONDS]        default 3600
#
# Environment:
#   FUZZ_BIN     where to build the target       (fuzz/fuzz_classify)
#   FUZZ_WORK    the corpus the fuzzer grows     (fuzz/corpus-run)
#   FUZZ_ARTIFACTS  prefix for crash-/leak-/timeout- files (fuzz/)
#   FUZZ_FORK    1: keep going after a crash, saving each one (-fork=1)
#   FUZZ_ARGS    more libFuzzer flags
#   FUZZ_BUILD   1: build only; 0: run the binary already built
#   FUZZ_LIBETPAN  a libetpan.a built with -fsanitize=fuzzer-no-link,address
#                (Debian's is not instrumented: no coverage inside it)
#   BACKSTOP_CORPUS  the shared corpus           (../shared/corpus)
#   BACKSTOP_FUZZ_RULES  the rule file           (fuzz/rules.yaml)
# Seeds: tests/fixtures/ (hostile/ included) and the shared corpus, read
# in place, never copied into the repository.  One job, niced: CI and the
# developers' machines have two cores.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-3600}
BIN=${FUZZ_BIN:-$TOP/fuzz/fuzz_classify}
WORK=${FUZZ_WORK:-$TOP/fuzz/corpus-run}
ART=${FUZZ_ARTIFACTS:-$TOP/fuzz/}
CORPUS=${BACKSTOP_CORPUS:-$TOP/../shared/corpus}
LIBDIR=$(pkg-config --variable=libdir libetpan 2>/dev/null ||
	echo /usr/lib/x86_64-linux-gnu)
CLANG=${CLANG:-clang}

SRCS=
for f in "$TOP"/filter/*.c; do
	case $f in */main.c) ;; *) SRCS="$SRCS $f" ;; esac
done
if [ "${FUZZ_BUILD:-}" != 0 ]; then
	# shellcheck disable=SC2086
	"$CLANG" -g -O1 -std=c11 -D_GNU_SOURCE -DBACKSTOP_SANITIZE \
		-DSYSCONFDIR='"/etc"' -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined \
		-o "$BIN" "$TOP/fuzz/fuzz_classify.c" $SRCS \
		"${FUZZ_LIBETPAN:-$LIBDIR/libetpan.a}" "$LIBDIR/libpcre2-8.a" \
		"$LIBDIR/libyaml.a"
	[ "${FUZZ_BUILD:-}" = 1 ] && exit 0
fi

mkdir -p "$WORK"
if [ -z "${BACKSTOP_FUZZ_RULES:-}" ]; then
	BACKSTOP_FUZZ_RULES=$TOP/fuzz/rules.yaml
	chmod go-w "$BACKSTOP_FUZZ_RULES"	# rules_load refuses it otherwise
fi
SEEDS="$TOP/tests/fixtures"
[ -d "$CORPUS" ] && SEEDS="$SEEDS $CORPUS"
FORK=
[ "${FUZZ_FORK:-0}" = 1 ] &&
	FORK="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"

export BACKSTOP_FUZZ_RULES
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -timeout: classification's own deadline is 10 s; -rss_limit_mb: the
# deliver child gets 512 MB of address space, ASan needs more headroom.
# shellcheck disable=SC2086
exec nice -n 10 "$BIN" -max_total_time="$SECS" -timeout=10 \
	-rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=262144 \
	-print_final_stats=1 -artifact_prefix="$ART" $FORK \
	-dict="$TOP/fuzz/classify.dict" \
	${FUZZ_ARGS:-} "$WORK" $SEEDS
