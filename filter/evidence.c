/*
 * The evidence sources, each asked about one report on its own.
 *
 * Four sources, each answering VOUCH (the user sent it), DENY (looked,
 * and the user did not), UNSURE (could vouch but cannot tell now), NA
 * (nothing to look at) or OFF (not configured); judge.c combines them by
 * one table, and the rules of when a source may DENY live here:
 *
 *   sent	the original's Message-ID, and the ids the report's
 *		In-Reply-To/References name, in the sent index.  DENY only
 *		from an index that is CURRENT (sent.c), holds Message-IDs at
 *		all, has watched the folders since before the original can
 *		have left (a folder thinned before that is not "not sent"),
 *		and not while a copy is being saved into a sent folder (a
 *		file in its tmp/ changed in the last EV_UPLOAD: the client
 *		saves its copy after sending, and an IMAP APPEND of a big
 *		message takes minutes) nor for an original dated within
 *		EV_GRACE of now (its APPEND may not have started).
 *   pattern	outbound.message_id against those ids.
 *   relay	outbound.relays in the returned original's Received:.
 *   rcpt	the addresses the report names (its failed recipients, or
 *		the replier) against whom the user wrote to, in one form
 *		(addr.c: case, IDN, +tag either way), in a window around the
 *		report's arrival and its own Date: (their union, EV_SKEW
 *		either way, a Sent copy dated after the report included).
 *		VOUCH whenever the sent index is on; DENY only with
 *		outbound.recipients, from a CURRENT index that has known
 *		every recipient since the window's start, for a report that
 *		names a recipient (not a mere mention), when no address at
 *		the same domain was written to either (an alias or a list
 *		may have expanded: a mailbox provider's domain aside).
 *
 * The context -- the maildir delivered to, the user, the time of
 * arrival, the time a stale index may take to bring up to date -- is
 * passed in by the command, so nothing here is a global that one module
 * sets and another reads.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "backstop.h"
#include "evidence.h"
#include "rules.h"
#include "sent.h"
#include "util.h"

#define EV_WINDOW_REPORT (14 * 86400L)	/* a delivery report: days later */
#define EV_WINDOW_REPLY	(60 * 86400L)	/* a reply, receipt: weeks later */
#define EV_SKEW		(3 * 86400L)	/* clocks off, queues long */
#define EV_GRACE	(2 * 60L)	/* a client saves its copy after sending */

/*
 * The context of one command: maildir and user as the command was told
 * (NULL: ~/Maildir, $USER), the time now, and a share of the
 * classification deadline for a stale sent index -- the rest waits for
 * the next bounce.
 */
void
ev_ctx_init(struct ev_ctx *ctx, const struct rules *r, const char *maildir,
    const char *user)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->maildir = maildir;
	ctx->user = user;
	ctx->now = clock_now();
	ctx->budget_ms = r != NULL ? (long)rules_timeout(r) * 1000 / 4 : 2500;
	if (ctx->budget_ms > 2500)
		ctx->budget_ms = 2500;
}

const char *
evidence_source_name(int s)
{
	static const char *const names[EVS_COUNT] = {
		"sent index", "outbound pattern", "relay", "recipients"
	};

	return s >= 0 && s < EVS_COUNT ? names[s] : "?";
}

/*
 * The sent index of the rules (whether or not they ask it: record writes
 * it all the same): its path into path and where it reads from into
 * src.  0, or -1 with why said.
 */
int
evidence_sent_src(const struct ev_ctx *ctx, const struct rules *r,
    struct sent_src *src, char *path, size_t pathsz, char *why,
    size_t whysz)
{
	why[0] = '\0';
	if (sent_index_path(rules_sent_index(r), path, pathsz) == -1) {
		snprintf(why, whysz, "no home directory for the sent index");
		return -1;
	}
	memset(src, 0, sizeof(*src));
	src->index = path;
	src->folders = rules_sent_folders(r, &src->nfolders);
	src->maildir = ctx != NULL ? ctx->maildir : NULL;
	src->delim = rules_recipient_delimiter(r);
	src->folders_on = (rules_has_evidence(r) & RULES_EV_SENT) != 0;
	return 0;
}

static void
say(struct ev_result *ev, int s, enum ev_answer a, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
say(struct ev_result *ev, int s, enum ev_answer a, const char *fmt, ...)
{
	va_list	 ap;

	ev->ans[s] = a;
	va_start(ap, fmt);
	vsnprintf(ev->why[s], sizeof(ev->why[s]), fmt, ap);
	va_end(ap);
}

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

static void
ask_patterns(const struct rules *r, const struct extract *ex,
    const char *const *ids, size_t nids, struct ev_result *ev)
{
	size_t	 i;
	int	 rc, limit = 0;

	if (rules_count(r, RULES_EV_PATTERNS) == 0)
		return;
	for (i = 0; i < nids; i++) {
		rc = rules_match_msgid(r, ids[i], ev->rule[EVS_PATTERN],
		    sizeof(ev->rule[EVS_PATTERN]));
		if (rc == 1) {
			say(ev, EVS_PATTERN, EV_VOUCH, "%s%.120s matches an "
			    "outbound pattern", i == 0 && ex->msgid[0] ?
			    "original Message-ID" : "the id it refers to, ",
			    i == 0 && ex->msgid[0] ? "" : ids[i]);
			return;
		}
		if (rc == -1)
			limit = 1;
	}
	ev->rule[EVS_PATTERN][0] = '\0';
	if (limit)
		say(ev, EVS_PATTERN, EV_UNSURE, "pattern match limit reached");
	else if (ex->msgid[0] == '\0')
		say(ev, EVS_PATTERN, EV_NA, "no original Message-ID");
	else
		say(ev, EVS_PATTERN, EV_DENY, "original Message-ID matches no "
		    "outbound pattern");
}

static void
ask_relays(const struct rules *r, const struct extract *ex,
    struct ev_result *ev)
{
	if (rules_count(r, RULES_EV_RELAYS) == 0)
		return;
	if (relay_evidence(r, ex, ev->rule[EVS_RELAY],
	    sizeof(ev->rule[EVS_RELAY])))
		say(ev, EVS_RELAY, EV_VOUCH, "returned original passed an "
		    "outbound relay");
	else if (ex->msgid[0] == '\0' || ex->received_len == 0)
		say(ev, EVS_RELAY, EV_NA, "no returned original with its "
		    "Received: fields");
	else
		say(ev, EVS_RELAY, EV_DENY, "returned original passed none of "
		    "your relays");
}

/* The user's own address, in its one form ("" when not known). */
static void
own_address(const struct ev_ctx *ctx, char *out, size_t outsz)
{
	out[0] = '\0';
	if (ctx->user != NULL && strchr(ctx->user, '@') != NULL)
		(void)addr_norm(ctx->user, out, outsz);
}

/*
 * The window a counterpart must have been written to in: around the
 * report's arrival and its own Date: (their union), with EV_SKEW either
 * way; W after the kind (a delivery report comes days after the
 * message, a reply or a receipt weeks).
 */
static void
window(const struct ev_ctx *ctx, const struct extract *ex, int64_t *from,
    int64_t *to)
{
	int64_t	 a = ctx->now, d = ex->date, w;

	w = ex->kind == K_DSN || ex->kind == K_NDR ? EV_WINDOW_REPORT :
	    EV_WINDOW_REPLY;
	if (d == 0 || d > a + EV_SKEW)
		d = a;		/* none, or from the future: arrival alone */
	*from = (d < a ? d : a) - w - EV_SKEW;
	*to = (d > a ? d : a) + EV_SKEW;
}

/*
 * May a miss in the index be taken for "not sent" for a time from lo on
 * (rcpt: of the recipients, else of the Message-IDs)?  When a source
 * that sees everything the user sends covers it: the sent folders, read
 * whole and as they are now, watched since before lo; or, with
 * outbound.record, the MTA's record, complete since before lo.  Never
 * while the folders hold files not read.  1, or 0 with why.
 */
static int
covered(const struct rules *r, const struct sent_query *q, int64_t lo,
    int rcpt, char *why, size_t whysz)
{
	int	 folders = (rules_has_evidence(r) & RULES_EV_SENT) != 0;
	int	 record = (rules_has_evidence(r) & RULES_EV_RECORD) != 0;
	int64_t	 ffrom = rcpt ? q->rcpt_from : q->watched;
	char	 d1[32], d2[32];

	if (folders && !q->absent && q->state != SENT_CURRENT) {
		snprintf(why, whysz, "%.230s", q->why[0] ? q->why :
		    "the sent index cannot answer");
		return 0;
	}
	if (folders && q->state == SENT_CURRENT && ffrom <= lo &&
	    (rcpt || q->nids_known > 0))
		return 1;
	if (record && q->rec_from != 0 && q->rec_from <= lo)
		return 1;
	utc_day(lo, d2, sizeof(d2));
	if (record && q->rec_from == 0)
		snprintf(why, whysz, "nothing recorded yet, or the record is "
		    "damaged");
	else if (record && !folders) {
		utc_day(q->rec_from, d1, sizeof(d1));
		snprintf(why, whysz, "recorded only since %s, and the original "
		    "may have left before (%s)", d1, d2);
	} else if (q->absent)
		snprintf(why, whysz, "%.230s", q->why[0] ? q->why : "no sent "
		    "folder found");
	else if (!rcpt && q->nids_known == 0)
		snprintf(why, whysz, "the sent folders hold no Message-ID");
	else {
		utc_day(ffrom, d1, sizeof(d1));
		snprintf(why, whysz, "the sent index has %s only since %s, and "
		    "the original may have left before (%s)%s", rcpt ? "known "
		    "your recipients" : "watched your sent folders", d1, d2,
		    rcpt ? "" : ": a copy deleted then was never seen");
	}
	return 0;
}

/*
 * May the original's copy be on its way into a sent folder?  While a
 * client uploads it (a file in a sent folder's tmp/, sent.c), or when the
 * original is dated within EV_GRACE of now (its upload may not have
 * begun).  A date further off says nothing: spam is dated anyhow.  1
 * with why, else 0.
 */
static int
unsaved(const struct ev_ctx *ctx, const struct extract *ex,
    const struct sent_query *q, char *why, size_t whysz)
{
	int64_t	 od = ex->orig_date;

	if (q->uploading) {
		snprintf(why, whysz, "a copy is being saved into your sent "
		    "folder right now: it may be the original's");
		return 1;
	}
	if (od != 0 && od > ctx->now - EV_GRACE && od < ctx->now + EV_GRACE) {
		snprintf(why, whysz, "the original left %lld seconds ago: its "
		    "sent copy may not be saved yet",
		    (long long)(ctx->now - od));
		return 1;
	}
	return 0;
}

static void
ask_sent_id(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, const struct sent_query *q,
    const char *path, struct ev_result *ev)
{
	char	 why[240];
	int64_t	 od = ex->orig_date, lo;

	if (q->id_hit) {
		snprintf(ev->rule[EVS_SENT], sizeof(ev->rule[EVS_SENT]),
		    "sent index %.300s", path);
		say(ev, EVS_SENT, EV_VOUCH, "%s %s: you sent it",
		    q->id_hit == 1 && ex->msgid[0] ? "original Message-ID" :
		    "an id the report refers to", q->id_src == SENT_RECORD ?
		    "was recorded as it left" : "is in the sent index");
		return;
	}
	if (ex->msgid[0] == '\0') {
		say(ev, EVS_SENT, EV_NA, "no original Message-ID");
		return;
	}
	if (od != 0 && od > ctx->now + EV_SKEW)
		od = 0;		/* dated in the future: not a date */
	lo = od != 0 ? od - EV_SKEW : ev->from;
	if (!covered(r, q, lo, 0, why, sizeof(why))) {
		say(ev, EVS_SENT, EV_UNSURE, "%s", why);
		return;
	}
	if (unsaved(ctx, ex, q, why, sizeof(why))) {
		say(ev, EVS_SENT, EV_UNSURE, "%s", why);
		return;
	}
	say(ev, EVS_SENT, EV_DENY, "original Message-ID is not in the sent "
	    "index");
}

static void
ask_rcpts(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, const struct sent_query *q, const char *path,
    const size_t *map, size_t n, int named, struct ev_result *ev,
    struct trace *t)
{
	char		 d1[32], d2[32], dom[300];
	const char	*at;
	size_t		 i, vouch = 0, dhit = 0;
	int		 mode = rules_recipients(r);

	utc_day(ev->from, d1, sizeof(d1));
	utc_day(ev->to, d2, sizeof(d2));
	if (n > 0)
		trace_add(t, "recipient evidence: did you write to them "
		    "between %s and %s?\n", d1, d2);
	for (i = 0; i < n; i++) {
		at = strrchr(ex->addrs[map[i]].addr, '@');
		if ((q->each[i] & SENT_HIT_DOMAIN) && at != NULL &&
		    addr_shared_domain(at + 1))
			;	/* anyone may have a mailbox there */
		else if ((q->each[i] & SENT_HIT_DOMAIN) && dhit == 0)
			dhit = i + 1;
		if ((q->each[i] & SENT_HIT_ADDR) && vouch == 0)
			vouch = i + 1;
		trace_add(t, "  %s (%s): %s%s\n", ex->addrs[map[i]].addr,
		    extract_addr_source(ex->addrs[map[i]].src),
		    (q->each[i] & SENT_HIT_ADDR) ? "you wrote to it" :
		    (q->each[i] & SENT_HIT_DOMAIN) ? "you wrote to its domain" :
		    q->state == SENT_CURRENT ? "never" : "no answer",
		    q->each[i] != 0 && q->each_src[i] == SENT_RECORD ?
		    " (recorded)" : "");
	}
	snprintf(ev->rule[EVS_RCPT], sizeof(ev->rule[EVS_RCPT]),
	    "sent index %.300s", path);
	if (n == 0) {
		say(ev, EVS_RCPT, EV_NA, "it names no address to ask about");
		return;
	}
	if (vouch) {
		say(ev, EVS_RCPT, EV_VOUCH, "you wrote to %.120s between %s "
		    "and %s", ex->addrs[map[vouch - 1]].addr, d1, d2);
		return;
	}
	if (dhit && (mode & RULES_RCPT_DOMAIN)) {
		say(ev, EVS_RCPT, EV_VOUCH, "you wrote to the domain of %.120s "
		    "between %s and %s", ex->addrs[map[dhit - 1]].addr, d1, d2);
		return;
	}
	if (!(mode & RULES_RCPT_ON)) {
		ev->rule[EVS_RCPT][0] = '\0';
		say(ev, EVS_RCPT, EV_OFF, "outbound.recipients is off");
		return;
	}
	if (dhit) {
		at = strrchr(ex->addrs[map[dhit - 1]].addr, '@');
		snprintf(dom, sizeof(dom), "%s", at != NULL ? at : "");
		say(ev, EVS_RCPT, EV_UNSURE, "you wrote to other addresses at "
		    "%.120s between %s and %s: an alias or a list may have "
		    "expanded", dom, d1, d2);
		return;
	}
	if (!named) {
		say(ev, EVS_RCPT, EV_NA, "it names no recipient, only mentions "
		    "addresses");
		return;
	}
	if (!covered(r, q, ev->from, 1, dom, sizeof(dom))) {
		say(ev, EVS_RCPT, EV_UNSURE, "%s", dom);
		return;
	}
	if (unsaved(ctx, ex, q, dom, sizeof(dom))) {
		say(ev, EVS_RCPT, EV_UNSURE, "%s", dom);
		return;
	}
	if (!ev->rcpt_junk) {
		say(ev, EVS_RCPT, EV_NA, "you never wrote to them, but "
		    "recipients_unmatched is unknown");
		return;
	}
	say(ev, EVS_RCPT, EV_DENY, "you never wrote to %.120s%s between %s "
	    "and %s", ex->addrs[map[0]].addr, n > 1 ? " nor the others it "
	    "names" : "", d1, d2);
}

/*
 * Ask the sent index (src) about the original's ids and the addresses, in
 * the window of ev; the answer is in q.
 */
static void
query_sent(const struct ev_ctx *ctx, const struct sent_src *src,
    struct sent_query *q, const char *const *ids, size_t nids,
    const char *const *addrs, size_t n, const struct ev_result *ev)
{
	memset(q, 0, sizeof(*q));
	q->ids = ids;
	q->nids = nids;
	q->addrs = addrs;
	q->naddrs = n;
	q->from = ev->from;
	q->to = ev->to;
	(void)sent_query(src, q, ctx->budget_ms);
}

/*
 * With neither outbound.sent nor outbound.record, a journal that backstop
 * record wrote (the mail system records for the user, and the rules are
 * a host's patterns alone) still vouches: its ids and recipients are
 * asked, and only a hit counts; anything else leaves both sources off.
 */
static void __attribute__((noinline))	/* 4 KiB of path: not in
					 * evidence_gather()'s frame */
ask_record_only(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, const char *const *ids, size_t nids,
    const char *const *addrs, const size_t *map, size_t n,
    struct ev_result *ev)
{
	struct sent_src	 src;
	struct sent_query q;
	char		 path[4096], why[300];
	size_t		 i;

	if (evidence_sent_src(ctx, r, &src, path, sizeof(path), why,
	    sizeof(why)) == -1 || !sent_has_journal(path))
		return;
	src.folders_on = 0;
	query_sent(ctx, &src, &q, ids, nids, addrs, n, ev);
	if (q.id_hit) {
		ask_sent_id(ctx, r, ex, &q, path, ev);
		return;
	}
	for (i = 0; i < n; i++)
		if (q.each[i] & SENT_HIT_ADDR) {
			snprintf(ev->rule[EVS_RCPT], sizeof(ev->rule[EVS_RCPT]),
			    "sent index %.300s", path);
			say(ev, EVS_RCPT, EV_VOUCH, "you wrote to %.120s "
			    "(recorded)", ex->addrs[map[i]].addr);
			return;
		}
}

/* Did another source vouch already?  (Then the index need not be read.) */
static int
vouched(const struct ev_result *ev)
{
	int	 s;

	for (s = 0; s < EVS_COUNT; s++)
		if (ev->ans[s] == EV_VOUCH)
			return 1;
	return 0;
}

/*
 * Ask every source the rules configure about the report ex, into ev.
 * With a trace (explain) every source is asked; otherwise the sent index
 * is not read once a pattern or a relay has vouched.
 */
void
evidence_gather(const struct ev_ctx *ctx, const struct rules *r,
    const struct extract *ex, struct ev_result *ev, struct trace *t)
{
	struct sent_src	 src;
	struct sent_query q;
	const char	*ids[1 + EXTRACT_MAX_REFS], *addrs[SENT_MAX_ASK];
	char		 path[4096], why[400], own[4 * LIM_ADDR + 8];
	char		 norm[4 * LIM_ADDR + 8];
	size_t		 nids = 0, n = 0, map[SENT_MAX_ASK], i;
	int		 named = 0, s;
	static const char *const label[EVS_COUNT] = {
		"sent", "pattern", "relay", "recipient"
	};

	memset(ev, 0, sizeof(*ev));
	ev->rcpt_junk = (rules_recipients(r) & RULES_RCPT_JUNK) != 0;
	window(ctx, ex, &ev->from, &ev->to);
	if (ex->msgid[0] != '\0')
		ids[nids++] = ex->msgid;
	for (i = 0; i < ex->nrefs && i < EXTRACT_MAX_REFS; i++)
		if (strcmp(ex->refs[i], ex->msgid) != 0)
			ids[nids++] = ex->refs[i];
	own_address(ctx, own, sizeof(own));
	for (i = 0; i < ex->naddrs && n < SENT_MAX_ASK; i++) {
		if (own[0] != '\0' && addr_norm(ex->addrs[i].addr, norm,
		    sizeof(norm)) != 0 && strcmp(norm, own) == 0)
			continue;	/* the user's own, never a counterpart */
		map[n] = i;
		addrs[n++] = ex->addrs[i].addr;
		if (ex->addrs[i].src != AS_TEXT_MENTION)
			named = 1;
	}
	ask_patterns(r, ex, ids, nids, ev);
	ask_relays(r, ex, ev);
	if (!(rules_has_evidence(r) & RULES_EV_INDEX)) {
		/* off; but what record saw vouches all the same */
		if ((t != NULL || !vouched(ev)) && (nids > 0 || n > 0))
			ask_record_only(ctx, r, ex, ids, nids, addrs, map, n,
			    ev);
	} else if (evidence_sent_src(ctx, r, &src, path, sizeof(path), why,
	    sizeof(why)) == -1) {
		say(ev, EVS_SENT, EV_UNSURE, "%s", why);
		say(ev, EVS_RCPT, EV_UNSURE, "%s", why);
	} else if (nids == 0 && n == 0) {
		say(ev, EVS_SENT, EV_NA, "no original Message-ID");
		say(ev, EVS_RCPT, EV_NA, "it names no address to ask about");
	} else if (t != NULL || !vouched(ev)) {
		query_sent(ctx, &src, &q, ids, nids, addrs, n, ev);
		if (q.state != SENT_CURRENT && q.id_hit == 0 &&
		    sent_index_foreign(path, why, sizeof(why))) {
			ev->rules_error = 1;
			say(ev, EVS_SENT, EV_UNSURE, "%s%s%s",
			    rules_sent_index_at(r), rules_sent_index_at(r)[0] ?
			    ": " : "", why);
			return;
		}
		ask_sent_id(ctx, r, ex, &q, path, ev);
		ask_rcpts(ctx, r, ex, &q, path, map, n, named, ev, t);
	}
	for (s = 0; s < EVS_COUNT; s++)
		if (ev->ans[s] != EV_OFF)
			trace_add(t, "%s evidence: %s (%s)\n", label[s],
			    ev->ans[s] == EV_VOUCH ?
			    "sent by you" : ev->ans[s] == EV_DENY ? "not sent "
			    "by you" : ev->ans[s] == EV_UNSURE ? "no answer" :
			    "nothing to ask", ev->why[s]);
}

/*
 * Bring the sent index fully up to date (learn, check-rules; ctx NULL:
 * the defaults): 1 with msg saying what it holds, 0 when the evidence is
 * off, -1 on failure.
 */
int
evidence_refresh(const struct ev_ctx *ctx, const struct rules *r, char *msg,
    size_t msgsz)
{
	struct sent_src	 src;
	char		 path[4096];

	if (!(rules_has_evidence(r) & RULES_EV_INDEX))
		return 0;
	if (evidence_sent_src(ctx, r, &src, path, sizeof(path), msg,
	    msgsz) == -1)
		return -1;
	return sent_refresh(&src, msg, msgsz) == -1 ? -1 : 1;
}

/* evidence_describe()'s report of one unreadable file: a warning. */
struct ev_describe {
	void	(*report)(int, const char *);
	char	 msg[4600];
};

static void
on_unreadable(void *arg, const char *path, const char *why)
{
	struct ev_describe *dc = arg;
	char	 shown[4400];

	sanitize(shown, sizeof(shown), path, strlen(path));
	snprintf(dc->msg, sizeof(dc->msg), "sent folder file %s: %s: "
	    "skipped by the sent index (a bounce of it cannot be proven ours "
	    "by it)", shown, why);
	dc->report(0, dc->msg);
}

/* evidence_describe()'s lines on the index at path: its state, its
 * coverage, when it was written; a problem when it cannot be used. */
static void
describe_index(const struct sent_src *src, const char *path, int ev,
    struct ev_describe *dc)
{
	struct sent_query q;
	char		 dir[4096], d1[32], d2[32];

	(void)sent_status(src, &q);
	if (q.state == SENT_NONE && q.built == 0) {
		printf("sent index: %s (not built yet: the first bounce, "
		    "backstop learn or check-rules builds it)\n", path);
		snprintf(dir, sizeof(dir), "%s", path);
		if (strrchr(dir, '/') != NULL)
			*strrchr(dir, '/') = '\0';
		if (access(dir[0] ? dir : "/", W_OK | X_OK) == -1) {
			snprintf(dc->msg, sizeof(dc->msg), "%.2000s: sent index missing, "
			    "and %.2000s is not a writable directory to build it "
			    "in", path, dir);
			dc->report(1, dc->msg);
		}
	} else {
		utc_day(q.watched, d1, sizeof(d1));
		utc_day(q.rcpt_from, d2, sizeof(d2));
		printf("sent index: %s (%s%s%s)\n", path, q.state ==
		    SENT_CURRENT ? "up to date" : !(ev & RULES_EV_SENT) ?
		    "no sent folder read: outbound.sent is off" : "stale",
		    q.state == SENT_CURRENT || !(ev & RULES_EV_SENT) ? "" : ": ",
		    q.state == SENT_CURRENT || !(ev & RULES_EV_SENT) ? "" :
		    q.why);
		printf("  holds %llu Message-IDs, %llu recipient entries; "
		    "%llu files skipped\n", (unsigned long long)(q.nids_known +
		    q.nrids_known),
		    (unsigned long long)q.nrcpts_known,
		    (unsigned long long)q.nskipped);
		if (ev & RULES_EV_SENT)
			printf("  watched your sent folders since %s: \"not "
			    "sent\" holds from then on; recipients known since "
			    "%s\n", d1, d2);
		if (q.rec_from != 0) {
			utc_day(q.rec_from, d1, sizeof(d1));
			printf("  recorded by backstop record since %s: %llu "
			    "Message-IDs merged\n", d1,
			    (unsigned long long)q.nrids_known);
		}
		utc_day(q.built, d1, sizeof(d1));
		printf("  last written %s\n", d1);
		if (access(path, R_OK | W_OK) == -1) {
			snprintf(dc->msg, sizeof(dc->msg), "%s: sent index not "
			    "readable and writable: %s", path, strerror(errno));
			dc->report(1, dc->msg);
		}
	}
}

/*
 * check-config's account of the evidence: the settings, the sent
 * index's coverage (watched since, entries, when written, state), the
 * folders and their files that cannot be read; report(1, what) for a
 * problem, report(0, what) for a warning.  Changes nothing.
 */
void
evidence_describe(const struct ev_ctx *ctx, const struct rules *r,
    void (*report)(int, const char *))
{
	struct ev_describe dc;
	struct sent_src	 src;
	char		 path[4096], why[600], dir[4096];
	const char *const *names;
	size_t		 i, n;
	int		 mode = rules_recipients(r), ev = rules_has_evidence(r);

	dc.report = report;
	printf("evidence: %zu outbound pattern%s, %zu relay%s, sent %s, "
	    "recipients %s\n", rules_count(r, RULES_EV_PATTERNS),
	    rules_count(r, RULES_EV_PATTERNS) == 1 ? "" : "s",
	    rules_count(r, RULES_EV_RELAYS),
	    rules_count(r, RULES_EV_RELAYS) == 1 ? "" : "s",
	    (ev & RULES_EV_SENT) ? "on" : "off", (mode & RULES_RCPT_ON) ?
	    "on (they may also junk)" : (ev & RULES_EV_SENT) ? "vouch only" :
	    "off");
	if (mode & RULES_RCPT_ON)
		printf("  recipients_unmatched: %s, recipients_domain: %s\n",
		    (mode & RULES_RCPT_JUNK) ? "backscatter" : "unknown",
		    (mode & RULES_RCPT_DOMAIN) ? "true" : "false");
	if (!(ev & RULES_EV_INDEX))
		return;
	printf("  outbound.record: %s\n", (ev & RULES_EV_RECORD) ? "on: the "
	    "MTA's record may also say \"not sent\"" : "off: what backstop "
	    "record saw only vouches");
	printf("  recipient_delimiter: \"%s\"\n",
	    rules_recipient_delimiter(r));
	if (evidence_sent_src(ctx, r, &src, path, sizeof(path), why,
	    sizeof(why)) == -1) {
		snprintf(dc.msg, sizeof(dc.msg), "%s: the sent index is on, "
		    "but %s; set outbound.sent_index", rules_files(r), why);
		report(1, dc.msg);
		return;
	}
	if (sent_index_foreign(path, why, sizeof(why))) {
		snprintf(dc.msg, sizeof(dc.msg), "%s%s%s", rules_sent_index_at(r),
		    rules_sent_index_at(r)[0] ? ": outbound.sent_index: " : "",
		    why);
		report(1, dc.msg);
		return;
	}
	describe_index(&src, path, ev, &dc);
	names = rules_sent_folders(r, &n);
	if (n == 0)
		names = sent_default_names();
	for (i = 0; (ev & RULES_EV_SENT) && names[i] != NULL &&
	    (n == 0 || i < n); i++) {
		struct stat	 st;

		if (sent_folder_path(src.maildir, names[i], dir,
		    sizeof(dir)) == -1 || stat(dir, &st) == -1 ||
		    !S_ISDIR(st.st_mode))
			printf("sent folder %s: not there\n", names[i]);
		else
			printf("sent folder %s: %s\n", names[i], dir);
	}
	(void)sent_unreadable(&src, on_unreadable, &dc);
}
