/*
 * Judgement: given what extraction found (extract.c), was the original
 * sent by us?  Each evidence source that the rules name is asked in turn
 * -- the sent index (sent.c), the outbound Message-ID patterns, the relays
 * in the returned original's Received: fields -- and the answers combine:
 * ours when any says "sent by us", backscatter only when every configured
 * source could answer and said "not us", and only on a strong bounce
 * signal; unknown otherwise.  Ordinary code, outside the guard: the sent
 * index is read and brought up to date here (its own I/O is atomic).
 */
#include <stdio.h>
#include <string.h>

#include "backstop.h"

/* Does a kept Received: line of the returned original name one of our relays? */
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

void
judge(const struct rules *r, const struct extract *ex, struct result *res,
    struct trace *t)
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
	sent = (ev & RULES_EV_SENT) ? rules_sent_lookup(r, ex->msgid, srule,
	    sizeof(srule)) : -1;
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
judge_message(const char *msg, size_t len, const struct rules *r,
    int env_null, struct result *res, struct trace *t)
{
	static struct extract ex;	/* 20 KiB: not on every stack */

	extract(msg, len, r != NULL ? rules_parse_bytes(r) : LIM_PARSE_BYTES,
	    env_null, &ex, t);
	judge(r, &ex, res, t);
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
	snprintf(out, outsz, "%s; kind=%s; original=%s; rule=%s",
	    verdict_name(res->verdict), kind_name(res->kind), id, rule);
}
