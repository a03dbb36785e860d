/*
 * learnworld.c: what learn and check-rules read of the user's mail, below
 * learn.c (which alone calls it): the Message-IDs to learn from, the sent
 * copies, and the replies in the inbox that show the IDs the world saw.
 */
#ifndef LEARNWORLD_H
#define LEARNWORLD_H

#include <stddef.h>
#include <stdint.h>

/* One Message-ID to learn from. */
struct sentmsg {
	char	*id;		/* "<...>" */
	char	*path;		/* the sent copy, or the reply that quotes it */
	char	*key;		/* generator key */
	size_t	 group;
	int	 world;		/* as a reply quotes it, not as the copy has it */
};

/* A sent copy, read for its recipients and subject. */
struct sentcopy {
	char	*id;		/* NULL: it has none */
	char	*subj;		/* normalized, "" when none */
	int64_t	 date;		/* 0: none */
	char	**rcpt;		/* To:, Cc:, Bcc:, lower case */
	size_t	 nrcpt;
	char	*world;		/* the ID a reply quotes instead, or NULL */
	char	*reply;		/* that reply */
};

/* What the replies of the inbox showed of the IDs the world saw. */
struct world {
	size_t	 read;		/* inbox messages read */
	size_t	 replies;	/* from people written to, quoting an ID */
	size_t	 kept;		/* quoting an ID as a sent copy has it */
	size_t	 added;		/* answering a sent copy that has no ID */
	size_t	 rewritten;	/* answering a sent copy that has another */
	size_t	 unreadable;
	const struct sentcopy *ex_added, *ex_rewritten;
};

struct group;

struct learn {
	struct sentmsg	*m;
	size_t		 n, cap;
	size_t		 nmsgs, noid, unreadable;
	char		**folders;
	size_t		 nfolders;
	struct group	*g;
	size_t		 ng;
	struct sentcopy	*sc;		/* every sent copy read */
	size_t		 nsc, capsc;
	char		*inbox;		/* where the replies were looked for */
	struct world	 w;
	int		 accept_local;	/* learn --accept-local */
	size_t		 nrecorded;	/* ids backstop record saw */
};

void	 learn_add_id(struct learn *, const char *, const char *, int);
void	 learn_copy(struct learn *, const char *, const char *);
int	 learn_replies(struct learn *, const char *, char *, size_t);
void	 learn_world_print(const struct learn *);
size_t	 learn_copies_unproven(const struct learn *);
void	 learn_world_free(struct learn *);

#endif
