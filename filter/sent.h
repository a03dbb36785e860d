/*
 * sent.c: what the user sent -- the Message-IDs and recipients of the
 * sent folders (and, with backstop record, of the mail the MTA saw
 * leave), kept in an index file (sentfile.c) and asked by evidence.c.
 */
#ifndef SENT_H
#define SENT_H

#include <stdint.h>

#include "backstop.h"

#define SENT_MAX_IDS	1000000
#define SENT_MAX_RCPTS	4000000	/* recipients (and their domains) kept */
#define SENT_MAX_ASK	32	/* addresses asked about at once */

uint64_t sent_hash(const char *);
int	 sent_folder_valid(const char *, char *, size_t);
int	 sent_folder_path(const char *, const char *, char *, size_t);
int	 sent_index_path(const char *, char *, size_t);
const char *const *sent_default_names(void);
int	 sent_msgid_file(const char *, char *, size_t);
int	 sent_each(const char *, int (*)(void *, const char *, const char *),
	    void *, size_t *, char *, size_t);

/* Where the sent evidence lives: the index and the folders it reads. */
struct sent_src {
	const char	*index;		/* the index file */
	const char *const *folders;	/* folder names; none: the defaults */
	size_t		 nfolders;
	const char	*maildir;	/* relative names are looked for here
					 * first (deliver -d), NULL: none */
	const char	*delim;		/* subaddress delimiters ("+") */
	int		 folders_on;	/* outbound.sent: read the folders */
};

/* Where an entry came from. */
#define SENT_FOLDER	1	/* a message of the sent folders */
#define SENT_RECORD	2	/* a message backstop record saw leave */
/* What one address matched (sent_query.each[i]). */
#define SENT_HIT_ADDR	0x1	/* the address, with or without +tag */
#define SENT_HIT_DOMAIN	0x2	/* another address at its domain */

/* The state of the index an answer came from. */
#define SENT_NONE	0	/* no index to ask (why says why) */
#define SENT_STALE	1	/* an index, but not all of what was sent */
#define SENT_CURRENT	2	/* every sent folder read, as it is now */

/* One report's questions to the index, and the answers. */
struct sent_query {
	const char *const *ids;		/* Message-IDs to look for */
	size_t		 nids;
	const char *const *addrs;	/* counterparts, lower case */
	size_t		 naddrs;	/* at most SENT_MAX_ASK */
	int64_t		 from, to;	/* written to between them */

	size_t		 id_hit;	/* 1 + which id was found, 0: none */
	int		 id_src;	/* SENT_FOLDER or SENT_RECORD */
	unsigned char	 each[SENT_MAX_ASK];	/* SENT_HIT_* per address */
	int		 each_src[SENT_MAX_ASK];	/* SENT_FOLDER/_RECORD */
	int		 state;		/* SENT_NONE, _STALE or _CURRENT */
	int64_t		 watched;	/* the folders watched since */
	int64_t		 rcpt_from;	/* all recipients known from */
	int64_t		 rec_from;	/* recording complete from; 0: none */
	int		 absent;	/* no sent folder (or none read) */
	int		 uploading;	/* a copy being saved into one now */
	uint64_t	 nids_known;	/* Message-IDs of the folders */
	uint64_t	 nrids_known;	/* Message-IDs recorded */
	uint64_t	 nskipped;	/* files it could not read */
	uint64_t	 nrcpts_known;	/* recipient entries (sent_status) */
	int64_t		 built;		/* when written (sent_status) */
	char		 why[400];	/* why not current; what was done */
};
int	 sent_query(const struct sent_src *, struct sent_query *, long);
int	 sent_has_journal(const char *);
long	 sent_refresh(const struct sent_src *, char *, size_t);
int	 sent_index_foreign(const char *, char *, size_t);
int	 sent_status(const struct sent_src *, struct sent_query *);
int	 sent_record(const struct sent_src *, const char *, const char *const *,
	    size_t, int64_t, long, char *, size_t);
int	 sent_recent(const struct sent_src *, void (*)(void *, const char *),
	    void *);
size_t	 sent_unreadable(const struct sent_src *,
	    void (*)(void *, const char *, const char *), void *);

#endif
