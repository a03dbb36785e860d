/* extract() and judge(): message in, (kind, original, verdict) out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <cmocka.h>

#include "backstop.h"
#include "extract.h"
#include "judge.h"
#include "rules.h"
#include "util.h"

static struct rules *rules;

static const struct {
	const char	*label;
	const char	*msg;
	enum kind	 kind;
	const char	*id;		/* NULL: none */
	enum verdict	 verdict;
} rows[] = {
	{ "plain ham",
	  "From: a@b.example\nSubject: hi\nMessage-ID: <h@b>\n\nhello\n",
	  K_NONE, NULL, V_NOT_BOUNCE },
	{ "RFC 3464 with text/rfc822-headers, ours",
	  "From: MAILER-DAEMON@x.example\nSubject: Delivery Status Notification\n"
	  "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n"
	  "Message-ID: <report@x.example>\n\n--B\nContent-Type: text/plain\n\nfailed\n"
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
	  "Final-Recipient: rfc822; z@x\nAction: failed\nStatus: 5.1.1\n\n"
	  "--B\nContent-Type: text/rfc822-headers\n\nFrom: me@example.org\n"
	  "Message-ID: <1.2@mail.example.org>\nSubject: x\n\n--B--\n",
	  K_DSN, "<1.2@mail.example.org>", V_OURS },
	{ "qmail inline copy, forged",
	  "Return-Path: <>\nFrom: MAILER-DAEMON@q.example\nSubject: failure notice\n\n"
	  "Hi. This is the qmail-send program at q.example.\n\n"
	  "--- Below this line is a copy of the message.\n\n"
	  "Return-Path: <me@example.org>\nMessage-ID: <zz@spam.example>\n"
	  "From: me@example.org\nSubject: buy\n\nbuy\n",
	  K_NDR, "<zz@spam.example>", V_BACKSCATTER },
	{ "original headers right after a MIME boundary",
	  "From: \"Mail Deliver System\" <MAILER-DAEMON@x.example>\n"
	  "Subject: Returned Mail: User unknown\n"
	  "Content-Type: multipart/mixed; boundary=\"-b\"\n\n"
	  "---b\nContent-Type: text/plain\n\nuser unknown\n"
	  "---b\nReceived: from a by b\nMessage-Id: <p@spam.example>\n"
	  "From: me@example.org\nTo: x@y\n\nbody\n---b--\n",
	  K_NDR, "<p@spam.example>", V_BACKSCATTER },
	{ "vacation auto-reply",
	  "From: b@b.example\nSubject: away\nAuto-Submitted: auto-replied\n"
	  "In-Reply-To: <7.8@mail.example.org>\n\naway\n",
	  K_AUTOREPLY, "<7.8@mail.example.org>", V_OURS },
	{ "X-Auto-Response-Suppress is a request, not a marker",
	  "From: b@b.example\nSubject: Accepted: meeting\n"
	  "X-Auto-Response-Suppress: All\nIn-Reply-To: <x@spam.example>\n\nok\n",
	  K_NONE, NULL, V_NOT_BOUNCE },
	{ "forwarded bounce from a person",
	  "From: bob@b.example\nSubject: Fwd: Undelivered Mail Returned to Sender\n"
	  "Content-Type: multipart/mixed; boundary=F\n\n--F\nContent-Type: text/plain\n\n"
	  "see below, it could not be delivered\n--F\nContent-Type: message/rfc822\n\n"
	  "Message-ID: <q@spam.example>\nFrom: me@example.org\n\nx\n--F--\n",
	  K_NONE, NULL, V_NOT_BOUNCE },
	{ "bounce without any copy",
	  "Return-Path: <>\nFrom: postmaster@x.example\nSubject: Undeliverable\n\n"
	  "Your message could not be delivered.\n",
	  K_NDR, NULL, V_UNKNOWN },
	{ "MDN Original-Message-ID",
	  "From: b@b.example\nSubject: Read: x\n"
	  "Content-Type: multipart/report; report-type=disposition-notification; boundary=M\n\n"
	  "--M\nContent-Type: message/disposition-notification\n\n"
	  "Final-Recipient: rfc822; b@b.example\nOriginal-Message-ID: <9@mail.example.org>\n"
	  "Disposition: manual-action/MDN-sent-manually; displayed\n\n--M--\n",
	  K_MDN, "<9@mail.example.org>", V_OURS },
	{ "Amazon SES JSON bounce",
	  "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n"
	  "{\"notificationType\":\"Bounce\",\"bounce\":{},\"mail\":{\"messageId\":"
	  "\"0101-abc-000000\"}}\n",
	  K_NDR, "0101-abc-000000", V_BACKSCATTER },
	{ "RE: in front of a gateway's NDR subject, null sender",
	  "Return-Path: <>\nFrom: gw@notes.example\nSubject: RE: Unzustellbar: x\n"
	  "In-Reply-To: <zz@spam.example>\n\nnicht zugestellt\n",
	  K_NDR, "<zz@spam.example>", V_BACKSCATTER },
	{ "RE: in front of a bounce subject, from a person",
	  "From: Mail Delivery <md@person.example>\nSubject: Re: Undeliverable: x\n"
	  "In-Reply-To: <zz@spam.example>\n\nit came back\n",
	  K_NONE, NULL, V_NOT_BOUNCE },
	{ "Latin-1 bytes in an encoded word labelled UTF-8",
	  "Return-Path: <>\nFrom: adm@x.example\n"
	  "Subject: =?utf-8?Q?N=E3o_=E9_poss=EDvel_entregar:?= x\n\nfalhou\n",
	  K_NDR, NULL, V_UNKNOWN },
	{ "out-of-office, null sender, no RFC 3834 field",
	  "Return-Path: <>\nFrom: b@b.example\nSubject: Autosvar: x\n"
	  "References: <7.8@mail.example.org>\n\nborta\n",
	  K_AUTOREPLY, "<7.8@mail.example.org>", V_OURS },
	{ "Precedence: bulk and an auto-reply subject alone: never junk",
	  "From: b@b.example\nSubject: Out of Office: x\nPrecedence: bulk\n"
	  "References: <zz@spam.example>\n\naway\n",
	  K_AUTOREPLY, "<zz@spam.example>", V_UNKNOWN },
	{ "Precedence: bulk newsletter about an office party",
	  "From: n@news.example\nSubject: Out of office party deals\n"
	  "Precedence: bulk\n\ndeals\n",
	  K_NONE, NULL, V_NOT_BOUNCE },
};

static void
test_rows(void **state)
{
	struct result	 res;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		judge_message(NULL, rows[i].msg, strlen(rows[i].msg), rules, 0, &res,
		    NULL);
		if (res.kind != rows[i].kind)
			fail_msg("%s: kind %s, want %s", rows[i].label,
			    kind_name(res.kind), kind_name(rows[i].kind));
		if (strcmp(res.msgid, rows[i].id ? rows[i].id : "") != 0)
			fail_msg("%s: id '%s', want '%s'", rows[i].label,
			    res.msgid, rows[i].id ? rows[i].id : "");
		if (res.verdict != rows[i].verdict)
			fail_msg("%s: verdict %s, want %s (%s)", rows[i].label,
			    verdict_name(res.verdict),
			    verdict_name(rows[i].verdict), res.reason);
	}
}

/* No rules, no evidence: a bounce is never backscatter. */
static void
test_no_rules(void **state)
{
	struct result	 res;

	judge_message(NULL, rows[2].msg, strlen(rows[2].msg), NULL, 0, &res, NULL);
	assert_int_equal(res.kind, K_NDR);
	assert_int_equal(res.verdict, V_UNKNOWN);
}

/* 5000 nested multiparts: bounded, no crash, still a verdict. */
static void
test_deep_nesting(void **state)
{
	size_t	 cap = 5000 * 80 + 1000, n = 0, i;
	char	*m = malloc(cap);
	struct result res;

	assert_non_null(m);
	n += (size_t)snprintf(m + n, cap - n, "Return-Path: <>\nFrom: "
	    "MAILER-DAEMON@x\nSubject: Undelivered\n");
	for (i = 0; i < 5000; i++)
		n += (size_t)snprintf(m + n, cap - n, "Content-Type: "
		    "multipart/mixed; boundary=b%zu\n\n--b%zu\n", i, i);
	n += (size_t)snprintf(m + n, cap - n, "\nx\n");
	judge_message(NULL, m, n, rules, 0, &res, NULL);
	assert_int_equal(res.kind, K_NDR);
	free(m);
}

/*
 * extract_maybe_bounce() lets ordinary mail skip the parser: it must say
 * "maybe" for every message that extract() takes for a report.  Checked
 * on every fixture and, where it is found, the whole shared corpus.
 */
static void
check_dir(const char *dir, size_t *files, size_t *skipped)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	char		 path[4096], *buf;
	size_t		 len, skip;
	int		 fd;
	struct result	 res;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		if (read_all_fd(fd, &buf, &len, 0) == -1) {
			close(fd);
			continue;
		}
		close(fd);
		skip = (len > 5 && memcmp(buf, "From ", 5) == 0 &&
		    memchr(buf, '\n', len)) ?
		    (size_t)((char *)memchr(buf, '\n', len) - buf) + 1 : 0;
		judge_message(NULL, buf + skip, len - skip, rules, 0, &res, NULL);
		(*files)++;
		if (!extract_maybe_bounce(buf + skip, len - skip,
		    LIM_PARSE_BYTES, 0)) {
			(*skipped)++;
			if (res.kind != K_NONE)
				fail_msg("%s: a %s, but the quick check said "
				    "no", path, kind_name(res.kind));
		}
		free(buf);
	}
	closedir(d);
}

static void
test_quick_superset(void **state)
{
	static const char *const dirs[] = {
		"tests/fixtures", "tests/fixtures/hostile",
		"../shared/corpus/sisimai/bounces",
		"../shared/corpus/sisimai/not-bounces",
		"../shared/corpus/ham",
	};
	size_t	 i, files = 0, skipped = 0;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		check_dir(dirs[i], &files, &skipped);
	assert_true(files >= 30);
	print_message("quick check: %zu of %zu messages skip the parser\n",
	    skipped, files);
}

static int
setup(void **state)
{
	char	 path[] = "/tmp/backstop-unit-rules.XXXXXX", err[512];
	int	 fd = mkstemp(path);
	const char *y = "outbound:\n  message_id: ['@mail\\.example\\.org>$']\n";

	if (fd == -1 || write(fd, y, strlen(y)) != (ssize_t)strlen(y))
		return -1;
	close(fd);
	rules = rules_new(NULL);
	if (rules_load(rules, path, 1, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	unlink(path);
	return 0;
}

static int
teardown(void **state)
{
	rules_free(rules);
	return 0;
}

/* The counterpart addresses: {label, message, comma-separated want}. */
/* 300 bytes of folded continuation lines */
#define LONG_FOLD \
	" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" \
	" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" \
	" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" \
	" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"

static const struct {
	const char	*label;
	const char	*msg;
	const char	*want;
} crows[] = {
	{ "DSN: Final- and Original-Recipient, folded, any type",
	  "From: MAILER-DAEMON@x.example\nTo: me@example.org\n"
	  "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
	  "Final-Recipient: RFC822;\n <Bob@Other.Example>\nOriginal-Recipient: rfc822;team@x.example\n"
	  "Action: failed\n\n--B--\n",
	  "bob@other.example,team@x.example" },
	{ "qmail text: <addr>:, the report's own addresses left out",
	  "Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nTo: me@example.org\n"
	  "Subject: failure notice\n\nHi. This is the qmail-send program at x.example.\n"
	  "I'm afraid I wasn't able to deliver your message from me@example.org to the following addresses.\n\n"
	  "<carol@y.example>:\nSorry, no mailbox here by that name. Contact postmaster@x.example\n",
	  "carol@y.example" },
	{ "X-Failed-Recipients, encoded word and comment",
	  "Return-Path: <>\nFrom: Mail Delivery System <Mailer-Daemon@x.example>\n"
	  "X-Failed-Recipients: =?utf-8?q?dave=40z=2Eexample?=, erin@z.example (Erin)\n"
	  "Subject: Mail delivery failed\n\nA message that you sent could not be delivered.\n",
	  "dave@z.example,erin@z.example" },
	{ "auto-reply: the replier, not a role address",
	  "From: Frank <frank@w.example>\nReply-To: noreply@w.example\nAuto-Submitted: auto-replied\n"
	  "In-Reply-To: <1@example.org>\nSubject: Out of office\n\nAway.\n",
	  "frank@w.example" },
	{ "a Message-ID in the text is no recipient",
	  "Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nSubject: Undeliverable\n\n"
	  "Your message could not be delivered.\nMessage-ID: <abc.123@mail.example.org>\n"
	  "Reason: mailbox full\n",
	  "" },
	{ "DSN: a Final-Recipient folded past 1 KiB is cut, not overrun",
	  "From: MAILER-DAEMON@x.example\nTo: me@example.org\n"
	  "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
	  "Final-Recipient: rfc822; lily@r.example\n"
	  LONG_FOLD LONG_FOLD LONG_FOLD LONG_FOLD
	  "Action: failed\n\n--B--\n",
	  "lily@r.example" },
	{ "Sendmail: '554 <addr>... reason' lines name recipients",
	  "Return-Path: <>\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@x.example>\n"
	  "Subject: Returned mail: Host unknown\n\n   ----- Transcript of session follows -----\n"
	  "554 <gina@v.example>... 550 Host unknown\n"
	  "550 5.1.1 <hank@u.example>... User unknown\n"
	  ">>> RCPT To:<ivy@t.example>\n<<< 550 No such user\n"
	  "\n   ----- Unsent message follows -----\nFrom: me@example.org\nTo: gina@v.example\n\nhi\n",
	  "gina@v.example,hank@u.example,ivy@t.example" },
	{ "a copy-marker phrase inside a sentence does not end the recipients",
	  "Return-Path: <>\nFrom: postmaster@x.example\nSubject: Undeliverable: hello\n\n"
	  "Your message did not reach the following recipient(s):\n\n"
	  "jack@s.example on Thu, 29 Apr 2007 16:51:51 -0500\n"
	  "    The MTS-ID of the original message is: c=jp;a= ;p=x\n"
	  "kate@s.example on Thu, 29 Apr 2007 16:51:51 -0500\n"
	  "    Unknown Recipient\n",
	  "jack@s.example,kate@s.example" },
	{ "prose examples, help lines and links are not recipients",
	  "Return-Path: <>\nFrom: postmaster@p.example\nTo: me@example.org\n"
	  "Subject: Undeliverable: offer\n\n"
	  "Delivery to lena@p.example failed: the mailbox was closed.\n"
	  "If mike.fox@p.example fails, try m.fox@p.example instead.\n"
	  "For help, please write to: desk@p.example\n"
	  "Help: https://p.example/help?user=nora@p.example\n",
	  "lena@p.example" },
	{ "smtp= and SMTP: before an address are no part of it",
	  "Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nTo: me@example.org\n"
	  "Subject: Delivery Failure\n\nwas not delivered to:\n\n"
	  "  smtp=olga@q.example\n  SMTP:paul@q.example\n  RFC822;quinn@q.example\n",
	  "olga@q.example,paul@q.example,quinn@q.example" },
	/* a guard: a bare local part was never taken, and must not be */
	{ "a bare local part is no address",
	  "From: MAILER-DAEMON@x.example\nTo: me@example.org\n"
	  "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	  "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x.example\n\n"
	  "Final-Recipient: rfc822; jdoe\nAction: failed\n\n--B--\n",
	  "" },
	{ "a Message-ID in prose is no recipient",
	  "Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nTo: me@example.org\n"
	  "Subject: failure notice\n\nYour message with the id\n"
	  "1234.5678@mail.example.org could not be delivered to\n"
	  "rita@r.example: mailbox full\n\n--- Below this line is a copy of the message.\n\n"
	  "Message-ID: <1234.5678@mail.example.org>\nFrom: me@example.org\n"
	  "Subject: hi\n\nhi\n",
	  "rita@r.example" },
	{ "a JSON notification: its bounced recipients, not its source",
	  "From: no-reply@sns.amazonaws.com\nTo: me@example.org\n"
	  "Subject: AWS Notification Message\n\n"
	  "{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":"
	  "[{\"emailAddress\":\"sam@s.example\",\"status\":\"5.1.1\"}]},"
	  "\"mail\":{\"source\":\"news@example.org\",\"destination\":"
	  "[\"sam@s.example\",\"tom@s.example\"],\"messageId\":\"0101-abc\"}}\n",
	  "sam@s.example" },
};

static void
test_counterparts(void **state)
{
	static struct extract ex;
	char	 got[2048];
	size_t	 i, j;

	(void)state;
	for (i = 0; i < sizeof(crows) / sizeof(crows[0]); i++) {
		extract(crows[i].msg, strlen(crows[i].msg), LIM_PARSE_BYTES,
		    EXTRACT_ADDRS, &ex, NULL);
		got[0] = '\0';
		for (j = 0; j < ex.naddrs; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			    "%s%s", j ? "," : "", ex.addrs[j].addr);
		if (strcmp(got, crows[i].want) != 0)
			fail_msg("%s: got '%s', want '%s'", crows[i].label, got,
			    crows[i].want);
	}
}

/*
 * Who wrote a report (struct extract's report, for the judge): rows[] by
 * index, and what each must say.
 */
static void
test_report(void **state)
{
	static const struct {
		size_t	 row;
		int	 report;
		int	 strong;
	} want[] = {
		{ 1, EXTRACT_REPORT_DELIVERY, 1 },	/* RFC 3464 */
		{ 2, EXTRACT_REPORT_DELIVERY, 1 },	/* qmail */
		{ 4, EXTRACT_REPORT_NONE, 1 },		/* vacation */
		{ 8, EXTRACT_REPORT_NONE, 1 },		/* MDN */
		{ 9, EXTRACT_REPORT_DELIVERY, 1 },	/* SES JSON */
		{ 14, EXTRACT_REPORT_NONE, 0 },		/* bulk auto-reply */
	};
	static const char gateway[] =
	    "From: MailMarshal <mm@gw.example>\nSubject: Delivery Failure: x\n\n"
	    "Delivery to the following recipients failed.\n\n"
	    "       jana@p.example\n";
	static const char arf[] =
	    "From: fbl@isp.example\nSubject: Spam report\n"
	    "Content-Type: multipart/mixed; boundary=A\n\n--A\n"
	    "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
	    "User-Agent: x/1\nVersion: 1\n\n--A\nContent-Type: message/rfc822\n\n"
	    "Message-ID: <1@example.org>\nFrom: a@example.org\n\nx\n--A--\n";
	static struct extract ex;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		extract(rows[want[i].row].msg, strlen(rows[want[i].row].msg),
		    LIM_PARSE_BYTES, 0, &ex, NULL);
		if (ex.report != want[i].report || ex.strong != want[i].strong)
			fail_msg("%s: report %d strong %d, want %d %d",
			    rows[want[i].row].label, ex.report, ex.strong,
			    want[i].report, want[i].strong);
	}
	extract(gateway, strlen(gateway), LIM_PARSE_BYTES, 0, &ex, NULL);
	assert_int_equal(ex.kind, K_NDR);
	assert_int_equal(ex.report, EXTRACT_REPORT_DELIVERY);
	assert_int_equal(ex.strong, 0);
	extract(arf, strlen(arf), LIM_PARSE_BYTES, 0, &ex, NULL);
	assert_int_equal(ex.kind, K_DSN);
	assert_int_equal(ex.report, EXTRACT_REPORT_FEEDBACK);
	assert_int_equal(ex.strong, 1);
}

static void
test_date(void **state)
{
	static const struct {
		const char	*in;
		int64_t		 want;
	} d[] = {
		{ "Mon, 02 Mar 2026 10:00:00 +0000", 1772445600 },
		{ "2 Mar 2026 11:00:00 +0100 (CET)", 1772445600 },
		{ "Mon,  2 Mar 26 05:00 EST", 1772445600 },
		/* the clock as sscanf("%ld:%ld:%ld") read it */
		{ "2 Mar 2026 10:00:0x +0000", 1772445600 },
		{ "2 Mar 2026 10:00:59 +0000", 1772445659 },
		{ "2 Mar 2026 24:00:00 +0000", 0 },
		{ "2 Mar 2026 10:60 +0000", 0 },
		{ "2 Mar 2026 10: +0000", 0 },
		{ "2 Mar 2026 :30:00 +0000", 0 },
		{ "2 Mar 2026 10:-1 +0000", 0 },
		{ "2 Mar 2026 99999999999999999999:00 +0000", 0 },
		{ "garbage", 0 },
		{ "", 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (extract_date(d[i].in, strlen(d[i].in)) != d[i].want)
			fail_msg("date '%s': got %lld, want %lld", d[i].in,
			    (long long)extract_date(d[i].in, strlen(d[i].in)),
			    (long long)d[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_no_rules),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_quick_superset),
		cmocka_unit_test(test_counterparts),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests_name("classify", tests, setup, teardown);
}
