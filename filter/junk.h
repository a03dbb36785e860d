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

#endif
