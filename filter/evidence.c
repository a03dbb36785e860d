/*
 * The evidence sources, asked in a judging context.
 *
 * judge.c weighs the answers; this file knows where each answer comes
 * from: the sent index (sent.c) at the path the rules name, fed by the
 * sent folders they name, relative folder names looked for first in the
 * maildir being delivered to.  The context -- that maildir, the user, the
 * time of arrival, the time a stale index may take to bring up to date --
 * is passed in by the command, so nothing here is a global that one
 * module sets and another reads.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backstop.h"
#include "evidence.h"
#include "rules.h"
#include "sent.h"
#include "util.h"

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
	ctx->now = (int64_t)time(NULL);
	ctx->budget_ms = r != NULL ? (long)rules_timeout(r) * 1000 / 4 : 2500;
	if (ctx->budget_ms > 2500)
		ctx->budget_ms = 2500;
}

/*
 * The sent index of the rules, when on: its path into path and where it
 * reads from into src.  0, or -1 with rule saying why.
 */
static int
sent_src(const struct ev_ctx *ctx, const struct rules *r, int on,
    const char *what, struct sent_src *src, char *path, size_t pathsz,
    char *rule, size_t rulesz)
{
	rule[0] = '\0';
	if (!on) {
		snprintf(rule, rulesz, "%s evidence off", what);
		return -1;
	}
	if (sent_index_path(rules_sent_index(r), path, pathsz) == -1) {
		snprintf(rule, rulesz, "no home directory for the sent index");
		return -1;
	}
	memset(src, 0, sizeof(*src));
	src->index = path;
	src->folders = rules_sent_folders(r, &src->nfolders);
	src->maildir = ctx->maildir;
	return 0;
}

/*
 * Is id among the Message-IDs of the user's sent folders?  Returns 1
 * with rule naming the sent index, 0 when a complete, current index does
 * not hold it, -1 when there is no evidence either way (off, no folder,
 * index missing and not brought up to date in time): rule then says why.
 */
int
evidence_sent_id(const struct ev_ctx *ctx, const struct rules *r,
    const char *id, char *rule, size_t rulesz)
{
	struct sent_src	 src;
	char		 path[4096], why[600];
	int		 rc;

	if (sent_src(ctx, r, rules_has_evidence(r) & RULES_EV_SENT, "sent",
	    &src, path, sizeof(path), rule, rulesz) == -1)
		return -1;
	rc = sent_lookup(&src, id, ctx->budget_ms, why, sizeof(why));
	if (rc == 1)
		snprintf(rule, rulesz, "sent index %s", path);
	else if (rc == -1)
		snprintf(rule, rulesz, "%s", why);
	return rc;
}

/*
 * Did the user write to any of addrs between from and to?  each_r per
 * address as sent_lookup_rcpts().  Returns 1 with rule naming the sent
 * index, 0 when a complete, current index that reaches back to from says
 * never, -1 when there is no answer (rule says why).
 */
int
evidence_sent_rcpts(const struct ev_ctx *ctx, const struct rules *r,
    const char *const *addrs, size_t naddrs, int64_t from, int64_t to,
    int *each_r, char *rule, size_t rulesz)
{
	struct sent_src	 src;
	char		 path[4096], why[600];
	int		 mode = rules_recipients(r), rc;

	memset(each_r, 0, naddrs * sizeof(*each_r));
	if (sent_src(ctx, r, mode & RULES_RCPT_ON, "recipient", &src, path,
	    sizeof(path), rule, rulesz) == -1)
		return -1;
	rc = sent_lookup_rcpts(&src, addrs, naddrs,
	    (mode & RULES_RCPT_DOMAIN) != 0, from, to, ctx->budget_ms, each_r,
	    why, sizeof(why));
	if (rc == 1 || rc == 0)
		snprintf(rule, rulesz, "sent index %s", path);
	else
		snprintf(rule, rulesz, "%s", why);
	return rc;
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
	struct ev_ctx	 dflt;
	char		 path[4096];

	if (ctx == NULL) {
		ev_ctx_init(&dflt, r, NULL, NULL);
		ctx = &dflt;
	}
	if (!(rules_has_evidence(r) & RULES_EV_SENT))
		return 0;
	if (sent_src(ctx, r, 1, "sent", &src, path, sizeof(path), msg,
	    msgsz) == -1)
		return -1;
	return sent_refresh(&src, msg, msgsz) == -1 ? -1 : 1;
}
