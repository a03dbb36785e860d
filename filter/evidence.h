/*
 * evidence.c: the sources of evidence the rules name, asked about one
 * report in a judging context that the caller passes, never a global.
 * Each source answers on its own (struct ev_answer); judge.c combines
 * the answers by one table.
 */
#ifndef EVIDENCE_H
#define EVIDENCE_H

#include <stdint.h>

#include "backstop.h"
#include "extract.h"
#include "rules.h"
#include "sent.h"
#include "util.h"

/* What judging one message may know of its surroundings. */
struct ev_ctx {
	const char	*maildir;	/* delivered to (deliver -d), where
					 * relative sent folders are looked
					 * for first; NULL: ~/Maildir */
	const char	*user;		/* the recipient (-u, else $USER) */
	int64_t		 now;		/* when the message arrived */
	long		 budget_ms;	/* time allowed to bring a stale sent
					 * index up to date; < 0: no limit */
};

/* The sources, in the order their vouching is reported. */
enum ev_source {
	EVS_SENT = 0,	/* the sent index, by Message-ID */
	EVS_PATTERN,	/* outbound.message_id */
	EVS_RELAY,	/* outbound.relays, in the returned Received: */
	EVS_RCPT,	/* the sent index, by the addresses the report names */
	EVS_COUNT
};

/* What one source says. */
enum ev_answer {
	EV_OFF = 0,	/* not configured */
	EV_NA,		/* nothing to look at: no id, no Received, no address */
	EV_UNSURE,	/* could vouch, but cannot tell: no answer */
	EV_DENY,	/* looked, and the user did not send it */
	EV_VOUCH	/* the user sent it: ours */
};

struct ev_result {
	enum ev_answer	 ans[EVS_COUNT];
	char		 why[EVS_COUNT][240];	/* for explain, the reason */
	char		 rule[EVS_COUNT][320];	/* FILE:LINE, or the index */
	int		 rcpt_junk;	/* recipients may junk (DENY counts) */
	int		 rules_error;	/* the rules cannot be used: why[] */
	int64_t		 from, to;	/* the recipient window */
};

void	 ev_ctx_init(struct ev_ctx *, const struct rules *, const char *,
	    const char *);
void	 evidence_gather(const struct ev_ctx *, const struct rules *,
	    const struct extract *, struct ev_result *, struct trace *);
int	 evidence_refresh(const struct ev_ctx *, const struct rules *, char *,
	    size_t);
int	 evidence_sent_src(const struct ev_ctx *, const struct rules *,
	    struct sent_src *, char *, size_t, char *, size_t);
const char *evidence_source_name(int);
void	 evidence_describe(const struct ev_ctx *, const struct rules *,
	    void (*)(int, const char *));

#endif
