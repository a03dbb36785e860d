/* Table-driven tests of header scanning and Message-ID extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "backstop.h"
#include "hdr.h"
#include "util.h"

static void
test_msgid(void **state)
{
	static const struct {
		const char *label, *in, *want;
	} rows[] = {
		{ "plain", " <a@b>", "<a@b>" },
		{ "folded", "\n <abc@\n def.example>", "<abc@def.example>" },
		{ "crlf folded", "\r\n\t<x.y@z>\r\n", "<x.y@z>" },
		{ "comment after", " <id@h> (added by postmaster)", "<id@h>" },
		{ "comment before", " (c) <id@h>", "<id@h>" },
		{ "bare", " bare.id@host", "bare.id@host" },
		{ "bare with comment", " bare@host (x)", "bare@host" },
		{ "space inside brackets", " <a b@c>", "<ab@c>" },
		{ "empty", "   ", NULL },
		{ "empty brackets", " <>", NULL },
		{ "cut short: no id rather than a wrong one", " <abc@def", NULL },
		{ "comment only", " (nothing)", NULL },
	};
	size_t	 i;
	char	 out[LIM_MSGID + 1];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct slice v = { rows[i].in, strlen(rows[i].in) };
		int got = hdr_msgid(v, out, sizeof(out));

		if (rows[i].want == NULL) {
			if (got)
				fail_msg("%s: got %s, want none", rows[i].label,
				    out);
		} else if (!got || strcmp(out, rows[i].want) != 0)
			fail_msg("%s: got %s, want %s", rows[i].label,
			    got ? out : "(none)", rows[i].want);
	}
}

static void
test_last_msgid(void **state)
{
	const char *in = " <a@b>\n <c@d>\t<e@f>";
	struct slice v = { in, strlen(in) };
	char	 out[100];

	assert_true(hdr_last_msgid(v, out, sizeof(out)));
	assert_string_equal(out, "<e@f>");
}

static void
test_find(void **state)
{
	const char *h = "From: a@b\nmessage-id:\n <x@y>\nX-Junk\nSubject: s\n\nbody";
	struct slice blk = { h, hdr_block_len(h, strlen(h)) }, v;
	char	 out[100];

	assert_int_equal(blk.n, strlen("From: a@b\nmessage-id:\n <x@y>\n"
	    "X-Junk\nSubject: s\n"));
	assert_true(hdr_find(blk, "Message-ID", &v));
	assert_true(hdr_msgid(v, out, sizeof(out)));
	assert_string_equal(out, "<x@y>");
	/* a line without a colon inside the block is skipped, not an end */
	assert_true(hdr_find(blk, "subject", &v));
	assert_false(hdr_find(blk, "body", &v));
}

/* hdr_find_many gives what hdr_find gives, field by field, in one pass */
static void
test_find_many(void **state)
{
	static const char blk[] =
	    "Received: from a\n\tby b\n"
	    "subject: first\n"
	    "From: x@y\n"
	    "SUBJECT: second\n"
	    "X-Failed-Recipients: r@s,\n t@u\n"
	    "Fro: not From\n"
	    "Content-Type: text/plain\n";
	static const char *const names[] = {
		"Subject", "From", "X-Failed-Recipients", "Received",
		"Content-Type", "In-Reply-To", "Fr", "From-Long-Name"
	};
	struct slice	 b = { blk, sizeof(blk) - 1 }, vals[8], v;
	uint64_t	 has;
	size_t		 i;

	(void)state;
	has = hdr_find_many(b, names, 8, vals);
	for (i = 0; i < 8; i++) {
		int one = hdr_find(b, names[i], &v);

		assert_int_equal((int)((has >> i) & 1), one);
		if (one) {
			assert_ptr_equal(vals[i].p, v.p);
			assert_int_equal(vals[i].n, v.n);
		}
	}
	assert_true(has & 1);
	assert_memory_equal(vals[0].p, " first\n", 7);	/* the first one */
	assert_false(has & (1u << 5));		/* absent */
	assert_false(has & (1u << 6));		/* a prefix is not a name */
	assert_false(has & (1u << 7));		/* nor a longer name */
}

/* sanitize_utf8: printable UTF-8 kept, everything else one '?' a byte */
static void
test_sanitize_utf8(void **state)
{
	static const struct {
		const char *label, *in, *want;
	} rows[] = {
		{ "ascii", "Returned mail", "Returned mail" },
		{ "latin", "Syst\xc3\xa8me", "Syst\xc3\xa8me" },
		{ "cjk", "\xe9\x85\x8d\xe4\xbf\xa1", "\xe9\x85\x8d\xe4\xbf\xa1" },
		{ "emoji", "\xf0\x9f\x93\xa7 mail", "\xf0\x9f\x93\xa7 mail" },
		{ "C0 and DEL", "a\x1b[31mb\x7f", "a?[31mb?" },
		{ "C1 (U+009B, CSI)", "a\xc2\x9b" "b", "a??b" },
		{ "overlong slash", "\xc0\xaf", "??" },
		{ "overlong 3-byte", "\xe0\x80\xaf", "???" },
		{ "surrogate", "\xed\xa0\x80", "???" },
		{ "above U+10FFFF", "\xf4\x90\x80\x80", "????" },
		{ "cut short", "ok\xe9\x85", "ok??" },
		{ "lone continuation", "\x80x", "?x" },
	};
	char	 out[64];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sanitize_utf8(out, sizeof(out), rows[i].in, strlen(rows[i].in));
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("%s: got '%s'", rows[i].label, out);
	}
	/* a sequence that does not fit is not cut in half */
	sanitize_utf8(out, 4, "ab\xc3\xa8", 4);
	assert_string_equal(out, "ab?");
}

static void
test_field_line(void **state)
{
	assert_true(hdr_is_field_line("Received: x", 11));
	assert_false(hdr_is_field_line("no colon here", 13));
	assert_false(hdr_is_field_line(": empty name", 12));
	assert_false(hdr_is_field_line("two words: x", 12));
	assert_false(hdr_is_field_line("caf\xe9: x", 7));
}

static void
test_age(void **state)
{
	long s;

	assert_int_equal(parse_age("30d", &s), 0);
	assert_int_equal(s, 30L * 86400);
	assert_int_equal(parse_age("2w", &s), 0);
	assert_int_equal(s, 14L * 86400);
	assert_int_equal(parse_age("12h", &s), 0);
	assert_int_equal(s, 12L * 3600);
	assert_int_equal(parse_age("7", &s), 0);
	assert_int_equal(s, 7L * 86400);
	assert_int_equal(parse_age("x", &s), -1);
	assert_int_equal(parse_age("3y", &s), -1);
	assert_int_equal(parse_age("-1d", &s), -1);
	assert_int_equal(parse_age("1dd", &s), -1);
}

/* utc_day against the C library's gmtime, over every day of 1900-2400 */
static void
test_utc_day(void **state)
{
	char	 a[32], b[32];
	struct tm tm;
	time_t	 t;
	int64_t	 s;

	(void)state;
	utc_day(0, a, sizeof(a));
	assert_string_equal(a, "1970-01-01");
	utc_day(951782400 + 86399, a, sizeof(a));	/* a leap day */
	assert_string_equal(a, "2000-02-29");
	utc_day(-1, a, sizeof(a));
	assert_string_equal(a, "1969-12-31");
	for (s = -2208988800LL; s < 13569465600LL; s += 86400 - 7) {
		t = (time_t)s;
		assert_non_null(gmtime_r(&t, &tm));
		snprintf(b, sizeof(b), "%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
		utc_day(s, a, sizeof(a));
		assert_string_equal(a, b);
	}
}

/* raw 8-bit text: Latin-1 unless its bytes vote for Windows-1250 */
static void
test_8bit_utf8(void **state)
{
	static const struct {
		const char *label, *in;
		int	 cs;
		const char *want;
	} t[] = {
		{ "cs NDR", "Nedoru\xe8iteln\xe9:", HDR_CP1250,
		    "Nedoru\xc4\x8diteln\xc3\xa9:" },
		{ "pl NDR", "Nie mo\xbfna dostarczy\xe6", HDR_CP1250,
		    "Nie mo\xc5\xbcna dostarczy\xc4\x87" },
		{ "pl auto-reply", "Odpowied\x9f automatyczna", HDR_CP1250,
		    "Odpowied\xc5\xba automatyczna" },
		{ "sk NDR", "Nedoru\xe8ite\xbestr", HDR_CP1250,
		    "Nedoru\xc4\x8dite\xc4\xbestr" },
		{ "fr", "R\xe9ponse \xe0 votre message", HDR_LATIN1,
		    "R\xc3\xa9ponse \xc3\xa0 votre message" },
		{ "es", "\xbfQu\xe9 tal? \xa3" "5", HDR_LATIN1,
		    "\xc2\xbfQu\xc3\xa9 tal? \xc2\xa3" "5" },
		{ "pt", "N\xe3o entregue", HDR_LATIN1,
		    "N\xc3\xa3o entregue" },
		{ "da", "K\xe6re S\xf8ren, p\xe5 gensyn", HDR_LATIN1,
		    "K\xc3\xa6re S\xc3\xb8ren, p\xc3\xa5 gensyn" },
		{ "same in both", "Caf\xe9 f\xfcr M\xfcller", HDR_LATIN1,
		    "Caf\xc3\xa9 f\xc3\xbcr M\xc3\xbcller" },
	};
	char	 out[64], small[5];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int cs = hdr_8bit_utf8((const unsigned char *)t[i].in,
		    strlen(t[i].in), out, sizeof(out));

		if (cs != t[i].cs || strcmp(out, t[i].want) != 0)
			fail_msg("%s: got %d \"%s\"", t[i].label, cs, out);
	}
	/* cut at a whole character, NUL as a blank */
	hdr_8bit_utf8((const unsigned char *)"a\0\xe8\xe8", 4, small,
	    sizeof(small));
	assert_string_equal(small, "a \xc4\x8d");
}

/* the case fold of phrase matching: ASCII and two-byte capitals */
static void
test_fold_case(void **state)
{
	static const struct {
		const char *label, *in, *want;
	} t[] = {
		{ "ascii", "Undeliverable: X", "undeliverable: x" },
		{ "latin-1", "\xc3\x89" "CHEC \xc3\x80 \xc3\x97 \xc3\x9f",
		    "\xc3\xa9" "chec \xc3\xa0 \xc3\x97 \xc3\x9f" },
		{ "cs", "NEDORU\xc4\x8cITELN\xc3\x89",
		    "nedoru\xc4\x8diteln\xc3\xa9" },
		{ "pl", "NIE MO\xc5\xbbNA DOSTARCZY\xc4\x86",
		    "nie mo\xc5\xbcna dostarczy\xc4\x87" },
		{ "sk caron l", "\xc4\xbd\xc5\xa0\xc5\xb8",
		    "\xc4\xbe\xc5\xa1\xc3\xbf" },
		{ "no pair", "\xc4\xb0\xc4\xb1\xc5\xbf", "\xc4\xb0\xc4\xb1\xc5\xbf" },
		{ "ru", "\xd0\x9d\xd0\x95 \xd0\x94\xd0\x9e\xd0\xa1\xd0\xa2\xd0\x90\xd0\x92"
		    "\xd0\x9b\xd0\x95\xd0\x9d\xd0\x9e \xd0\x81",
		    "\xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2"
		    "\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe \xd1\x91" },
		{ "el", "\xce\x91\xce\xa0\xce\xa9 \xce\x86\xce\x8f",
		    "\xce\xb1\xcf\x80\xcf\x89 \xce\xac\xcf\x8e" },
		{ "3-byte and broken", "\xe3\x83\xa1\xc4 \xc3", "\xe3\x83\xa1\xc4 \xc3" },
	};
	char	 buf[64];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].in);
		hdr_fold_case(buf);
		if (strcmp(buf, t[i].want) != 0)
			fail_msg("%s: got \"%s\"", t[i].label, buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msgid),
		cmocka_unit_test(test_last_msgid),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_many),
		cmocka_unit_test(test_sanitize_utf8),
		cmocka_unit_test(test_field_line),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_utc_day),
		cmocka_unit_test(test_8bit_utf8),
		cmocka_unit_test(test_fold_case),
	};

	return cmocka_run_group_tests_name("hdr", tests, NULL, NULL);
}
