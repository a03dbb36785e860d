/*
 * evidence.c: the sources of evidence the rules name -- the sent index
 * (sent.c), fed by the sent folders -- asked for one message in a
 * judging context that the caller passes, never a global.
 */
#ifndef EVIDENCE_H
#define EVIDENCE_H

#include <stdint.h>

#include "backstop.h"
#include "rules.h"

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
void	 ev_ctx_init(struct ev_ctx *, const struct rules *, const char *,
	    const char *);
int	 evidence_sent_id(const struct ev_ctx *, const struct rules *,
	    const char *, char *, size_t);
int	 evidence_sent_rcpts(const struct ev_ctx *, const struct rules *,
	    const char *const *, size_t, int64_t, int64_t, int *, char *,
	    size_t);
int	 evidence_refresh(const struct ev_ctx *, const struct rules *, char *,
	    size_t);

#endif
