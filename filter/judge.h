/*
 * judge.c: the evidence the rules name, weighed into a verdict; outside
 * the guard.
 */
#ifndef JUDGE_H
#define JUDGE_H

#include "backstop.h"
#include "evidence.h"
#include "extract.h"
#include "rules.h"
#include "util.h"

/* Fixed size, plain data: nothing in it points anywhere. */
struct result {
	enum verdict	verdict;
	enum kind	kind;
	int		failed;		/* classification could not be done */
	char		msgid[LIM_MSGID + 1];	/* as written, brackets kept */
	char		where[160];	/* where the original was found */
	char		reason[240];	/* short, for a person */
	char		rule[320];	/* FILE:LINE of the deciding rule */
	int		by_rcpt;	/* the recipient evidence decided */
	int		config_error;	/* the rules cannot be used: reason
					 * says why (deliver: as broken rules) */
};

/* ctx NULL: the defaults (~/Maildir, $USER, now) */
void	 judge(const struct ev_ctx *, const struct rules *,
	    const struct extract *, struct result *, struct trace *);
void	 judge_message(const struct ev_ctx *, const char *, size_t,
	    const struct rules *, int, struct result *, struct trace *);
void	 judge_header(const struct result *, char *, size_t);

#endif
