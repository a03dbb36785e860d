#!/bin/sh
# Build and run a fuzz target (make fuzz; tests/t/fuzz-smoke.t): classify()
# by default, the rule-file loader with FUZZ_TARGET=rules.
#
#   fuzz/run.sh [SECONDS]        default 3600
#
# Environment:
#   FUZZ_TARGET  classify (default): fuzz/fuzz_classify.c, message bytes
#                rules: fuzz/fuzz_rules.c, a rule file (rules_load_default)
#   FUZZ_BIN     where to build the target       (fuzz/fuzz_TARGET)
#   FUZZ_WORK    the corpus the fuzzer grows     (fuzz/corpus-run, and
#                fuzz/corpus-run/rules for rules)
#   FUZZ_ARTIFACTS  prefix for crash-/leak-/timeout- files (fuzz/)
#   FUZZ_FORK    1: keep going after a crash, saving each one (-fork=1)
#   FUZZ_ARGS    more libFuzzer flags
#   FUZZ_BUILD   1: build only; 0: run the binary already built
#   FUZZ_HOSTILE 0: rules without tests/fixtures/hostile/rules/ as seeds
#   FUZZ_LIBETPAN  a libetpan.a built with -fsanitize=fuzzer-no-link,address
#                (Debian's is not instrumented: no coverage inside it)
#   FUZZ_LIBYAML   the same for libyaml.a (the rules target's parser)
#   BACKSTOP_CORPUS  the shared corpus           (../shared/corpus)
#   BACKSTOP_FUZZ_RULES  the rule file           (fuzz/rules.yaml)
# Seeds: tests/fixtures/ (hostile/ included) and the shared corpus, read
# in place, never copied into the repository; for rules, every *.yaml in
# the tree, tests/fixtures/hostile/rules/ and a few hand-written files
# generated into FUZZ_WORK-seeds/.  One job, niced: CI and the
# developers' machines have two cores.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-3600}
TARGET=${FUZZ_TARGET:-classify}
case $TARGET in
classify)
	BIN=${FUZZ_BIN:-$TOP/fuzz/fuzz_classify}
	WORK=${FUZZ_WORK:-$TOP/fuzz/corpus-run} ;;
rules)
	BIN=${FUZZ_BIN:-$TOP/fuzz/fuzz_rules}
	WORK=${FUZZ_WORK:-$TOP/fuzz/corpus-run/rules} ;;
*)
	echo "fuzz/run.sh: FUZZ_TARGET=$TARGET: classify or rules" >&2
	exit 2 ;;
esac
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
		-o "$BIN" "$TOP/fuzz/fuzz_$TARGET.c" $SRCS \
		"${FUZZ_LIBETPAN:-$LIBDIR/libetpan.a}" "$LIBDIR/libpcre2-8.a" \
		"${FUZZ_LIBYAML:-$LIBDIR/libyaml.a}"
	[ "${FUZZ_BUILD:-}" = 1 ] && exit 0
fi

mkdir -p "$WORK"
FORK=
[ "${FUZZ_FORK:-0}" = 1 ] &&
	FORK="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The hand-written rule-file seeds, one file each, into $1.
rules_seeds() {
	rm -rf "$1"; mkdir -p "$1"
	cat > "$1/full.yaml" <<'SEED'
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]{6,20}@mail\.example\.org>$'
    - "(?i)@(mx|smtp)[0-9]*\\.example\\.(com|net)>$"
  relays: [smtp.example.org, MX1.Example.NET]
  sent: [.Sent, "Sent Items", /home/u/Maildir/.Out]
  sent_index: ~/.backstop-sent.idx
junk:
  folder: .Junk
  expire_after: 2w
verdicts:
  not-bounce: inbox
  ours: inbox
  backscatter: junk
  unknown: .Unknown
limits:
  parse_bytes: 64M
  timeout: 300s
SEED
	cat > "$1/merge.yaml" <<'SEED'
outbound:
  message_id: ['^<a@x>$']
  relays: [a.example]
  sent: on
junk: {folder: Spam, expire_after: 12h}
limits: {parse_bytes: 4096, timeout: 5m}
#%%system%%
outbound:
  message_id: ['^<b@y>$', '(a+)+$']
  relays:
  sent: [.Sent]
verdicts: {unknown: junk, backscatter: .Trash}
limits: {parse_bytes: 4k}
SEED
	cat > "$1/alias.yaml" <<'SEED'
x: &p ['^<[0-9]+@a>$', '^<b>$']
outbound:
  message_id: *p
  relays: &r [h1.example, h2.example]
junk: &j
  folder: .J
  <<: {expire_after: 1d}
SEED
	cat > "$1/alias-many.yaml" <<'SEED'
outbound:
  message_id: [&a '(x+x+)+y', *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  relays: [&h r.example, *h, *h, *h]
SEED
	cat > "$1/flow.yaml" <<'SEED'
{outbound: {message_id: ["^<\x00>$", '^<\C+>$'], sent: "no",
  sent_index: /var/idx}, verdicts: {ours: inbox}, junk: {folder: "..."}}
SEED
	cat > "$1/patterns.yaml" <<'SEED'
outbound:
  message_id:
    - '(*LIMIT_MATCH=1)^<.*>$'
    - '(*LIMIT_HEAP=1)(*LIMIT_DEPTH=1)(a|b)*c'
    - '(?C1)^<(?C"x")a>$'
    - '(*UTF)^<\x{1F600}>$'
    - '(*UCP)\w+\p{L}'
    - '(?|(a)|(b))\1'
    - '(?<n>x)(?&n){0,65535}'
    - '(?(DEFINE)(?<r>(?&r)?a))(?&r)'
    - '^(?=(a+))\1*$'
    - '(*COMMIT)(*SKIP)(*PRUNE)(*ACCEPT)'
    - '\Q...\E(?#comment)(?x) a b c # x'
    - '^<(?:(?:a{1,64}){1,64}){1,64}>$'
    - '[[:alpha:][:^digit:]]{,3}(*NOTEMPTY)'
SEED
	cat > "$1/tags.yaml" <<'SEED'
%YAML 1.1
%TAG !e! tag:example.org,2026:
---
!!map
outbound: !e!x
  message_id: !!seq [!!str '^<a>$', !!binary aGVsbG8=]
  ? relays
  : [!local a.example]
...
---
second: document
SEED
	printf '\357\273\277limits:\r\n  timeout: 1\r\n  parse_bytes: 4M\r\n' \
		> "$1/bom-crlf.yaml"
	printf '\377\376j\000u\000n\000k\000:\000 \000{\000}\000\n\000' \
		> "$1/utf16.yaml"
	printf 'junk:\n  folder: "a\\0b"\n' > "$1/nul.yaml"
	printf '' > "$1/empty.yaml"
	printf '~\n' > "$1/null.yaml"
	printf -- '- a\n- b\n' > "$1/list.yaml"
	printf '? [a, b]\n: c\n' > "$1/complex-key.yaml"
	printf 'limits:\n  parse_bytes: 18014398509481988k\n  timeout: 9223372036854775807s\njunk:\n  expire_after: -1\n' \
		> "$1/numbers.yaml"
	printf 'outbound:\n  message_id: [%s]\n' \
		"'$(head -c 4096 /dev/zero | tr '\0' a)'" > "$1/long-pattern.yaml"
	printf 'a: &a [*a]\nb: [[[[[[[[[[[[[[[[[[[[{{{{{{{{{{]]]]]]]]]]\n' \
		> "$1/nesting.yaml"
	printf 'outbound:\n  relays: |\n    literal\n  message_id: >-\n    folded\n    ^a\n' \
		> "$1/block-scalar.yaml"
}

if [ "$TARGET" = rules ]; then
	# hand-written seeds: each part of the format, merging, aliases,
	# hostile patterns; regenerated on every run, outside the repository
	SEEDDIR=${WORK%/}-seeds
	rules_seeds "$SEEDDIR"
	SEEDS="$SEEDDIR"
	for f in "$TOP"/rules/*.yaml "$TOP"/fuzz/*.yaml \
	    $(find "$TOP/tests" -path "$TOP/tests/fixtures/hostile/rules" \
	    -prune -o -name '*.yaml' -type f -print | sort); do
		[ -f "$f" ] && cp "$f" "$SEEDDIR/tree-$(echo "${f#"$TOP"/}" |
		    tr / _)"
	done
	# FUZZ_HOSTILE=0: not the regression inputs (while one of them
	# still fails, it would end the run at once)
	[ "${FUZZ_HOSTILE:-1}" = 1 ] &&
	    [ -d "$TOP/tests/fixtures/hostile/rules" ] &&
		SEEDS="$SEEDS $TOP/tests/fixtures/hostile/rules"
	# -max_len: a rule file may be 1 MiB, but 64 KiB reaches every
	# construct; -timeout: deliver loads the rules itself, in its
	# 600 s alarm but outside the classification child's limits, so a
	# second is already too long; -malloc_limit_mb: no single
	# allocation of a rule file's load should come near it
	# shellcheck disable=SC2086
	exec nice -n 10 "$BIN" -max_total_time="$SECS" -timeout=10 \
		-rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$ART" $FORK \
		-dict="$TOP/fuzz/rules.dict" -report_slow_units=2 \
		${FUZZ_ARGS:-} "$WORK" $SEEDS
fi

if [ -z "${BACKSTOP_FUZZ_RULES:-}" ]; then
	BACKSTOP_FUZZ_RULES=$TOP/fuzz/rules.yaml
	chmod go-w "$BACKSTOP_FUZZ_RULES"	# rules_load refuses it otherwise
fi
SEEDS="$TOP/tests/fixtures"
[ -d "$CORPUS" ] && SEEDS="$SEEDS $CORPUS"

export BACKSTOP_FUZZ_RULES
# -timeout: classification's own deadline is 10 s; -rss_limit_mb: the
# deliver child gets 512 MB of address space, ASan needs more headroom.
# shellcheck disable=SC2086
exec nice -n 10 "$BIN" -max_total_time="$SECS" -timeout=10 \
	-rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=262144 \
	-print_final_stats=1 -artifact_prefix="$ART" $FORK \
	-dict="$TOP/fuzz/classify.dict" \
	${FUZZ_ARGS:-} "$WORK" $SEEDS
