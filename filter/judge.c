/*
 * Judgement: given what extraction found (extract.c), was the original
 * sent by us?  Each evidence source that the rules name is asked in turn
 * -- the sent index (sent.c), the outbound Message-ID patterns, the relays
 * in the returned original's Received: fields -- and the answers combine:
 * ours when any says "sent by us", backscatter only when every configured
 * source could answer and said "not us", and only on a strong bounce
 * signal; unknown otherwise.  Ordinary code, outside the guard: the sent
 * index is read and brought up to date here (its own I/O is atomic).
 *
 * The recipients (outbound.recipients) come second: the original's
 * Message-ID, when found, is the stronger evidence, so the counterpart
 * addresses (extract.c) are asked only when it was not found or gave
 * unknown, and they never turn ours into backscatter.  A counterpart the
 * user wrote to within RCPT_WINDOW before the report's own Date: (its
 * arrival when it has none or one in the future; RCPT_SKEW of clock skew
 * after it) makes the report ours.  When the user wrote to none of them
 * in that window, and the sent index is complete, current and reaches
 * back over the window, the report is backscatter -- only with a strong
 * bounce signal, only if a counterpart came from a field or line that
 * names recipients (not a mere mention in its text), and only when the
 * rules say so (recipients_unmatched); unknown otherwise.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backstop.h"
#include "evidence.h"
#include "extract.h"
#include "judge.h"
#include "rules.h"
#include "util.h"

/* Does a kept Received: line of the original name one of our relays? */
static int
relay_evidence(const struct rules *r, const struct extract *ex, char *rule,
    size_t rulesz)
{
	const char	*p = ex->received, *end = ex->received + ex->received_len;
	const char	*nl;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (rules_relay_match(r, p, (size_t)(nl - p), rule, rulesz))
			return 1;
	}
	return 0;
}

#define RCPT_WINDOW	(14 * 86400)
#define RCPT_SKEW	86400

static void	 judge_msgid(const struct ev_ctx *, const struct rules *,
		    const struct extract *, struct result *, struct trace *);

/*
 * The recipient evidence for a report the Message-ID left unknown.
 * Changes res only when it decides.
 */
static void
judge_rcpts(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, struct result *res, struct trace *t)
{
	const char	*addrs[EXTRACT_MAX_ADDRS];
	int		 each[EXTRACT_MAX_ADDRS], mode, rc, named = 0;
	int64_t		 d, now = ctx->now, from, to;
	char		 rule[sizeof(res->rule)], day[32];
	size_t		 i, hit = 0;

	mode = rules_recipients(r);
	if (!(mode & RULES_RCPT_ON) || ex->naddrs == 0)
		return;
	d = ex->date;
	if (d == 0 || d > now + RCPT_SKEW)
		d = now;	/* none, or from the future: its arrival */
	from = d - RCPT_WINDOW;
	to = d + RCPT_SKEW;
	for (i = 0; i < ex->naddrs; i++) {
		addrs[i] = ex->addrs[i].addr;
		if (ex->addrs[i].src != AS_TEXT_MENTION)
			named = 1;
	}
	rc = evidence_sent_rcpts(ctx, r, addrs, ex->naddrs, from, to, each,
	    rule, sizeof(rule));
	utc_day(d, day, sizeof(day));
	trace_add(t, "recipient evidence: did you write to them in the 14 "
	    "days before %s%s?\n", day, ex->date == 0 || d != ex->date ?
	    " (arrival)" : "");
	for (i = 0; i < ex->naddrs; i++) {
		trace_add(t, "  %s (%s): %s\n", addrs[i],
		    extract_addr_source(ex->addrs[i].src), each[i] == 1 ?
		    "you wrote to it" : each[i] == 2 ?
		    "you wrote to its domain" : rc == 0 ? "never" :
		    "no answer");
		if (each[i] && hit == 0)
			hit = i + 1;
	}
	if (rc == -1)
		trace_add(t, "  sent index: %s\n", rule);
	if (rc == 1) {
		res->verdict = V_OURS;
		res->by_rcpt = 1;
		snprintf(res->rule, sizeof(res->rule), "%s", rule);
		snprintf(res->reason, sizeof(res->reason), "you wrote to %s%.120s "
		    "in the 14 days before the report", each[hit - 1] == 2 ?
		    "the domain of " : "", addrs[hit - 1]);
	} else if (rc == 0 && (mode & RULES_RCPT_JUNK) && ex->strong &&
	    named) {
		res->verdict = V_BACKSCATTER;
		res->by_rcpt = 1;
		snprintf(res->rule, sizeof(res->rule), "%s", rule);
		snprintf(res->reason, sizeof(res->reason), "you never wrote to "
		    "%.120s%s in the 14 days before the report", addrs[0],
		    ex->naddrs > 1 ? " nor the others it names" : "");
	} else if (rc == 0)
		trace_add(t, "  never written to, but %s: unknown stays\n",
		    !(mode & RULES_RCPT_JUNK) ? "recipients_unmatched is "
		    "unknown" : !ex->strong ? "too little bounce evidence" :
		    "it names no recipient, only mentions addresses");
}

void
judge(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, struct result *res, struct trace *t)
{
	struct ev_ctx	 dflt;

	if (ctx == NULL) {
		ev_ctx_init(&dflt, r, NULL, NULL);
		ctx = &dflt;
	}
	judge_msgid(ctx, r, ex, res, t);
	if (res->verdict == V_UNKNOWN && r != NULL)
		judge_rcpts(ctx, r, ex, res, t);
}

/* The original's Message-ID against the sent index, patterns, relays. */
static void
judge_msgid(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, struct result *res, struct trace *t)
{
	char	 srule[sizeof(res->rule)];
	int	 ev, sent, rc;

	memset(res, 0, sizeof(*res));
	res->kind = ex->kind;
	if (ex->kind == K_NONE) {
		res->verdict = V_NOT_BOUNCE;
		snprintf(res->reason, sizeof(res->reason), "not a bounce");
		return;
	}
	if (ex->msgid[0] == '\0') {
		res->verdict = V_UNKNOWN;
		snprintf(res->reason, sizeof(res->reason),
		    "%s without the original Message-ID", kind_name(ex->kind));
		return;
	}
	snprintf(res->msgid, sizeof(res->msgid), "%s", ex->msgid);
	snprintf(res->where, sizeof(res->where), "%s", ex->where);
	/*
	 * The signals: a sent-index hit, a pattern or a relay match each
	 * make it ours.  Junk only when every source configured could answer
	 * and none did: a sent index that cannot answer (stale beyond the
	 * budget, missing folder) gives unknown, never backscatter.
	 */
	ev = r != NULL ? rules_has_evidence(r) : 0;
	sent = (ev & RULES_EV_SENT) ? evidence_sent_id(ctx, r, ex->msgid,
	    srule, sizeof(srule)) : -1;
	if (ev & RULES_EV_SENT)
		trace_add(t, "sent evidence: %s (%s)\n", sent == 1 ?
		    "sent by you" : sent == 0 ? "not in your sent folders" :
		    "no answer", sent == 0 ? "index up to date" : srule);
	if (ev == 0) {
		res->verdict = V_UNKNOWN;
		snprintf(res->reason, sizeof(res->reason),
		    "no outbound patterns in the rules");
	} else if (sent == 1) {
		res->verdict = V_OURS;
		snprintf(res->rule, sizeof(res->rule), "%s", srule);
		snprintf(res->reason, sizeof(res->reason),
		    "original Message-ID is in the sent index: you sent it");
	} else if ((rc = rules_match_msgid(r, ex->msgid, res->rule,
	    sizeof(res->rule))) == 1) {
		res->verdict = V_OURS;
		snprintf(res->reason, sizeof(res->reason),
		    "original Message-ID matches an outbound pattern");
	} else if (rc == -1) {
		res->verdict = V_UNKNOWN;
		snprintf(res->reason, sizeof(res->reason),
		    "pattern match limit reached");
	} else if (relay_evidence(r, ex, res->rule, sizeof(res->rule))) {
		res->verdict = V_OURS;
		snprintf(res->reason, sizeof(res->reason),
		    "returned original passed an outbound relay");
	} else if ((ev & RULES_EV_SENT) && sent == -1) {
		res->verdict = V_UNKNOWN;
		snprintf(res->reason, sizeof(res->reason),
		    "no outbound pattern or relay matches, and the sent index "
		    "cannot answer: %.160s", srule);
	} else if (!ex->strong) {
		res->verdict = V_UNKNOWN;
		snprintf(res->reason, sizeof(res->reason),
		    "not ours, but too little bounce evidence for junk");
	} else {
		res->verdict = V_BACKSCATTER;
		snprintf(res->reason, sizeof(res->reason), "%s", sent == 0 ?
		    "original Message-ID is not in the sent index and matches "
		    "no outbound pattern" :
		    "original Message-ID matches no outbound pattern");
	}
}

/*
 * Both stages in one call, for the commands that run no guard (scan,
 * explain, check-rules) and for the tests: what deliver does in two steps.
 */
void
judge_message(const struct ev_ctx *ctx, const char *msg, size_t len,
    const struct rules *r, int env_null, struct result *res,
    struct trace *t)
{
	static struct extract ex;	/* 20 KiB: not on every stack */

	extract(msg, len, r != NULL ? rules_parse_bytes(r) : LIM_PARSE_BYTES,
	    (env_null ? EXTRACT_NULL_SENDER : 0) | EXTRACT_ADDRS, &ex, t);
	judge(ctx, r, &ex, res, t);
}

/*
 * The X-Backstop: field body for a delivered bounce: verdict, kind, the
 * original and the rule, all printable ASCII.
 */
void
judge_header(const struct result *res, char *out, size_t outsz)
{
	char	 id[256], rule[256];

	sanitize(id, sizeof(id), res->msgid[0] ? res->msgid : "-",
	    strlen(res->msgid[0] ? res->msgid : "-"));
	sanitize(rule, sizeof(rule), res->rule[0] ? res->rule : "-",
	    strlen(res->rule[0] ? res->rule : "-"));
	snprintf(out, outsz, "%s; kind=%s; original=%s; rule=%s%s",
	    verdict_name(res->verdict), kind_name(res->kind), id, rule,
	    res->by_rcpt ? "; evidence=recipient" : "");
}
