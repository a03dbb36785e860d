/*
 * Judgement: given what extraction found (extract.c) and what each
 * evidence source says of it (evidence.c), the verdict.  One table,
 * read top to bottom (docs/evidence.md shows the same):
 *
 *   not a bounce, auto-reply or report		not-bounce
 *   any source VOUCHes				ours
 *   no source configured			unknown
 *   any source UNSURE (could vouch, cannot	unknown
 *   tell)
 *   no source DENYs (nothing to look at)	unknown
 *   sent/pattern/relay DENY, no strong		unknown
 *   bounce signal
 *   sent/pattern/relay DENY			backscatter
 *   only recipients DENY, not a delivery	unknown
 *   report from a mail system with a strong
 *   signal (auto-reply, read receipt,
 *   challenge, complaint, a gateway's NDR)
 *   only recipients DENY			backscatter (evidence=recipient)
 *
 * Positive evidence wins whatever the order the sources are asked in;
 * backscatter needs every configured source that could vouch to have
 * answered, none vouching.  Ordinary code outside the guard: the sent
 * index is read (and brought up to date in a child of its own) by
 * evidence.c.
 */
#include <stdio.h>
#include <string.h>

#include "backstop.h"
#include "evidence.h"
#include "judge.h"

/* The verdict of the answers in ev, by the table above. */
static void
decide(const struct extract *ex, const struct ev_result *ev,
    struct result *res)
{
	int	 s, configured = 0, iddeny = 0;

	for (s = 0; s < EVS_COUNT; s++)
		if (ev->ans[s] == EV_VOUCH) {
			res->verdict = V_OURS;
			res->by_rcpt = s == EVS_RCPT;
			snprintf(res->rule, sizeof(res->rule), "%s",
			    ev->rule[s]);
			snprintf(res->reason, sizeof(res->reason), "%s",
			    ev->why[s]);
			return;
		}
	res->verdict = V_UNKNOWN;
	for (s = 0; s < EVS_COUNT; s++)
		if (ev->ans[s] != EV_OFF)
			configured = 1;
	if (!configured) {
		snprintf(res->reason, sizeof(res->reason), "%s",
		    ex->msgid[0] ? "no outbound patterns, relays or sent "
		    "evidence in the rules" : "no evidence configured, and "
		    "without the original Message-ID");
		return;
	}
	for (s = 0; s < EVS_COUNT; s++)
		if (ev->ans[s] == EV_UNSURE) {
			snprintf(res->reason, sizeof(res->reason), "the %s "
			    "cannot answer: %s", evidence_source_name(s),
			    ev->why[s]);
			return;
		}
	for (s = 0; s < EVS_COUNT; s++)
		if (s != EVS_RCPT && ev->ans[s] == EV_DENY)
			iddeny = 1;
	if (!iddeny && ev->ans[EVS_RCPT] != EV_DENY) {
		snprintf(res->reason, sizeof(res->reason), "%s without the "
		    "original Message-ID%s%.180s", kind_name(ex->kind),
		    ev->ans[EVS_RCPT] == EV_NA ? ": " : "",
		    ev->ans[EVS_RCPT] == EV_NA ? ev->why[EVS_RCPT] : "");
		return;
	}
	if (iddeny && !ex->strong) {
		snprintf(res->reason, sizeof(res->reason), "not ours, but too "
		    "little bounce evidence for junk");
		return;
	}
	if (!iddeny && !(ex->report == EXTRACT_REPORT_DELIVERY &&
	    ex->strong)) {
		snprintf(res->reason, sizeof(res->reason), "not written to, but "
		    "a %s is never junked on its recipients alone: only a "
		    "delivery report from a mail system", ex->kind ==
		    K_AUTOREPLY ? "auto-reply" : ex->kind == K_MDN ?
		    "read receipt" : ex->report == EXTRACT_REPORT_FEEDBACK ?
		    "complaint" : "report without a mail system's sender");
		return;
	}
	res->verdict = V_BACKSCATTER;
	res->by_rcpt = !iddeny;
	if (ev->ans[EVS_SENT] == EV_DENY && ev->ans[EVS_PATTERN] == EV_DENY)
		snprintf(res->reason, sizeof(res->reason), "original "
		    "Message-ID is not in the sent index and matches no "
		    "outbound pattern");
	else
		for (s = 0; s < EVS_COUNT; s++)
			if (ev->ans[s] == EV_DENY) {
				snprintf(res->rule, sizeof(res->rule), "%s",
				    ev->rule[s]);
				snprintf(res->reason, sizeof(res->reason),
				    "%s", ev->why[s]);
				break;
			}
}

void
judge(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, struct result *res, struct trace *t)
{
	struct ev_ctx	 dflt;
	struct ev_result ev;

	memset(res, 0, sizeof(*res));
	res->kind = ex->kind;
	if (ex->kind == K_NONE) {
		res->verdict = V_NOT_BOUNCE;
		snprintf(res->reason, sizeof(res->reason), "not a bounce");
		return;
	}
	snprintf(res->msgid, sizeof(res->msgid), "%s", ex->msgid);
	snprintf(res->where, sizeof(res->where), "%s", ex->where);
	if (ctx == NULL) {
		ev_ctx_init(&dflt, r, NULL, NULL);
		ctx = &dflt;
	}
	if (r == NULL)
		memset(&ev, 0, sizeof(ev));
	else
		evidence_gather(ctx, r, ex, &ev, t);
	if (ev.rules_error) {
		res->verdict = V_UNKNOWN;
		res->config_error = 1;
		snprintf(res->reason, sizeof(res->reason), "%s",
		    ev.why[EVS_SENT]);
		return;
	}
	decide(ex, &ev, res);
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
	static struct extract ex;	/* 30 KiB: not on every stack */

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
