/*
 * junk.c: the Junk folder as backstop files into it, for the commands
 * that read it (expire, junk, restore) and for deliver (the cap, making
 * room, the digest).
 */
#ifndef JUNK_H
#define JUNK_H

#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "backstop.h"
#include "maildir.h"

#define JUNK_SHOWN	(4 * PATH_MAX + 1)	/* path_escape() of a path */

/* The maildir and its Junk folder, opened by the one rule (junk_open). */
struct junk_folder {
	char		 root[PATH_MAX];	/* the maildir, as named */
	char		 path[PATH_MAX];	/* root/.Junk */
	char		 shownroot[JUNK_SHOWN];	/* both escaped, to print */
	char		 shown[JUNK_SHOWN];
	int		 rootfd;
	int		 fd;			/* root/.Junk, or -1: absent */
};
int	 junk_open(struct junk_folder *, const char *, const char *, char *,
	    size_t);
void	 junk_close(struct junk_folder *);
int	 junk_subdir(int, const char *, char *, size_t);

/* An entry of cur/ or new/, with its lstat (err: why it has none). */
struct junk_entry {
	char		*name;
	struct stat	 st;
	int		 err;		/* errno of its lstat, or 0 */
	int		 sub;		/* for the caller */
};
int	 junk_entries(int, struct junk_entry **, size_t *);
void	 junk_entries_free(struct junk_entry *, size_t);

int	 junk_read_header(int, char **, size_t *);
int	 junk_filed_by_us(int, const char *, const struct stat *, int *);
void	 junk_why(const char *, char *, size_t, char *, size_t);
void	 junk_field(struct slice, char *, size_t);
void	 junk_field_words(struct slice, char *, size_t);

/* What a message of the folder says, for a person (junk_item_read). */
#define JUNK_FIELD	200		/* bytes of From/Subject kept */
struct junk_item {
	time_t		 filed;		/* the time in its name, else mtime */
	time_t		 mtime;
	unsigned long long size;	/* as the quota counts it */
	int		 ours;		/* backstop's X-Backstop: field */
	enum kind	 kind;		/* from that field */
	int		 strength;	/* of its evidence: lower, weaker */
	char		 original[LIM_MSGID + 1];	/* or "-" */
	char		 reason[1024];	/* the field but the original */
	char		 msgid[LIM_MSGID + 1];	/* its own, or "-" */
	char		 from[JUNK_FIELD + 1];	/* decoded, printable */
	char		 subject[JUNK_FIELD + 1];
	char		 rdomain[256];	/* From's domain: who reported */
	char		 odomain[256];	/* the original's id's domain */
	char		 name[NAME_MAX + 1];	/* for the caller */
};
int	 junk_item_read(int, const char *, const struct stat *,
	    struct junk_item *);

/* Counts by key (junk_tally_add), for junk --summary and the digest. */
struct junk_count {
	char		*key;
	unsigned long	 n;
};
struct junk_tally {
	struct junk_count *slot;
	size_t		 cap, used;
	unsigned long	 other;		/* past the keys kept */
};
void	 junk_tally_add(struct junk_tally *, const char *, unsigned long);
size_t	 junk_tally_sorted(const struct junk_tally *, int,
	    struct junk_count **);
void	 junk_tally_free(struct junk_tally *);

#define JUNK_WEAKEST	5
struct junk_summary {
	unsigned long	 total, ours, other, unread;
	unsigned long long bytes;
	struct junk_tally days, kinds, rdomains, odomains, pruned;
	struct junk_item weak[JUNK_WEAKEST];	/* weakest evidence first */
	size_t		 nweak;
};
void	 junk_summary_add(struct junk_summary *, const struct junk_item *);
void	 junk_summary_free(struct junk_summary *);
unsigned long junk_pruned_count(const struct junk_folder *, time_t, time_t,
	    struct junk_tally *);

/* The rules' junk section, for a delivery (deliver.c fills it). */
struct junk_policy {
	const char	*root;		/* the maildir */
	const char	*folder;	/* the Junk folder, ".Junk" */
	long long	 max_messages;	/* junk.max_messages; 0: none */
	long long	 max_bytes;	/* junk.max_size; 0: none */
	int		 quota_ignore;	/* junk.quota: ignore */
	int		 filing;	/* this delivery files into Junk */
};
int	 junk_room(const struct junk_policy *, struct maildir_need *);
void	 junk_filed(const struct junk_policy *, off_t);
void	 junk_ledger_add(const struct junk_folder *, long long, long long);
void	 junk_digest(const struct junk_policy *, time_t);

#endif
