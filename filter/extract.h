/*
 * extract.c: what a message is and what it quotes.  Reads the message
 * bytes only (no file, no rules), so it can run under the guard; the
 * result is plain data that leaves the guard whole.
 */
#ifndef EXTRACT_H
#define EXTRACT_H

#include <stdint.h>

#include "backstop.h"
#include "util.h"

#define LIM_RECEIVED	(16u * 1024)	/* Received: text kept for relays */
#define EXTRACT_MAX_ADDRS 32		/* counterpart addresses kept */
#define EXTRACT_MAX_REFS 8		/* In-Reply-To, References kept */
#define EXTRACT_REF_LEN	251		/* a longer one is not kept */
/* Where a counterpart address was found, in order of trust. */
enum addr_src {
	AS_NONE = 0,
	AS_ORIGINAL_RCPT,	/* DSN Original-Recipient: before aliases */
	AS_FINAL_RCPT,		/* DSN Final-Recipient: */
	AS_FAILED_RCPTS,	/* X-Failed-Recipients: */
	AS_COMPLAINANT,		/* a feedback report's Original-Rcpt-To:,
				 * Removal-Recipient:, the reported copy's
				 * X-HmXmrOriginalRecipient: */
	AS_NOTIFIED,		/* a JSON notification's recipient field */
	AS_RETURNED,		/* the returned original's To:/Cc: */
	AS_REPLIER,		/* the auto-reply's From:/Reply-To: */
	AS_TEXT,		/* a recipient line of the bounce's text */
	AS_TEXT_MENTION		/* named elsewhere in the text: weak */
};
struct extract_addr {
	char		 addr[LIM_ADDR + 1];	/* lower case */
	unsigned char	 src;			/* enum addr_src */
};
/* The small members first, the arrays each filled from its start: a
 * page of these 26 KiB not written is a page fault not taken. */
/*
 * Who wrote the message, for judging by recipients (struct extract's
 * report): only a report a mail system writes about mail it could not
 * deliver, or about mail a user complained of, names recipients that the
 * user must have written to; an auto-reply, a receipt or a challenge is
 * a person's or their program's answer.
 */
#define EXTRACT_REPORT_NONE	0	/* not a mail system's report: an
					 * auto-reply, an MDN, a challenge,
					 * or no report at all */
#define EXTRACT_REPORT_DELIVERY	1	/* a delivery report from a mail
					 * system: a DSN (delivery-status part,
					 * or a report from a null or daemon
					 * sender), X-Failed-Recipients, a JSON
					 * bounce notification, or an NDR that
					 * its body proves one (statement plus
					 * returned copy or failed recipient) */
#define EXTRACT_REPORT_FEEDBACK	2	/* a feedback (abuse) report: RFC 5965
					 * ARF and its older forms */
struct extract {
	enum kind	 kind;
	int		 strong;	/* a strong bounce signal: may be junk */
	int		 report;	/* EXTRACT_REPORT_*: who wrote it; the
					 * strong flag is apart (a gateway's
					 * NDR is a delivery report, not
					 * strong) */
	int64_t		 date;		/* the report's own Date:, 0: none */
	int64_t		 orig_date;	/* the returned original's Date:, 0 */
	size_t		 naddrs;	/* counterparts: the failed recipients */
	size_t		 nrefs;		/* ids of the report's In-Reply-To and
					 * References, newest first */
	size_t		 received_len;	/* bytes of received[] */
	char		 msgid[LIM_MSGID + 1];	/* the original's, or "" */
	char		 where[160];	/* where it was found */
	struct extract_addr addrs[EXTRACT_MAX_ADDRS];	/* or the replier */
	char		 refs[EXTRACT_MAX_REFS][EXTRACT_REF_LEN + 1];
	char		 received[LIM_RECEIVED];	/* the original's
					 * Received: values, one a line */
};
#define EXTRACT_NULL_SENDER	0x1	/* the envelope sender was null */
#define EXTRACT_ADDRS		0x2	/* the counterparts and Date too */
void	 extract(const char *, size_t, size_t, unsigned, struct extract *,
	    struct trace *);
int	 extract_maybe_bounce(const char *, size_t, size_t, int);
void	 extract_header_rcpts(struct slice,
	    int (*)(void *, const char *, size_t, size_t), void *);
int	 extract_addrs(const char *, size_t,
	    int (*)(void *, const char *, size_t, size_t), void *);
int64_t	 extract_date(const char *, size_t);
const char *extract_addr_source(int);

#endif
