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
struct extract {
	enum kind	 kind;
	int		 strong;	/* a strong bounce signal: may be junk */
	int64_t		 date;		/* the report's own Date:, 0: none */
	size_t		 naddrs;	/* counterparts: the failed recipients */
	size_t		 received_len;	/* bytes of received[] */
	char		 msgid[LIM_MSGID + 1];	/* the original's, or "" */
	char		 where[160];	/* where it was found */
	struct extract_addr addrs[EXTRACT_MAX_ADDRS];	/* or the replier */
	char		 received[LIM_RECEIVED];	/* the original's
					 * Received: values, one a line */
};
#define EXTRACT_NULL_SENDER	0x1	/* the envelope sender was null */
#define EXTRACT_ADDRS		0x2	/* the counterparts and Date too */
void	 extract(const char *, size_t, size_t, unsigned, struct extract *,
	    struct trace *);
int	 extract_maybe_bounce(const char *, size_t, size_t, int);
int	 extract_addrs(const char *, size_t,
	    int (*)(void *, const char *, size_t, size_t), void *);
int64_t	 extract_date(const char *, size_t);
const char *extract_addr_source(int);

#endif
