/*
 * maildir.c: the Maildir protocol, tmp/ -> fsync -> new/: the one
 * publisher, the one maildirsize writer, Maildir++ folders and quota.
 */
#ifndef MAILDIR_H
#define MAILDIR_H

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "backstop.h"

/*
 * The core of the protocol, system calls only: a signal handler (the
 * guard's rescue) uses it as deliver and restore do.
 */
int	 maildir_tmp_open(int, const char *);
int	 maildir_tmp_fill(int, const struct slice *, size_t, int);
int	 maildir_tmp_seal(int, off_t *);
void	 maildir_tmp_drop(int, const char *);
#define MAILDIR_UNIQUE	0x1	/* the new name is unique: rename() may do */
int	 maildir_publish(int, const char *, int, const char *, int);
int	 maildir_abort_inflight(void);
int	 maildir_size_add(int, const char *, long long, long long);
size_t	 maildir_name_sized(char *, size_t, const char *, unsigned long long);

/*
 * Asked once the message is written and its size known, before it is
 * published: make(arg, need) makes room for it.  need says what the
 * maildir is over its quota by (0: not over), and gets back what was
 * removed (and subtracted in maildirsize).  0, or -1 with errno.
 */
struct maildir_need {
	off_t		 size;		/* of the message */
	long long	 over_bytes;	/* over the quota by, with it */
	long long	 over_count;
	long long	 quota_bytes;	/* the quota; 0: none */
	long long	 quota_count;
	long long	 freed_bytes;	/* out */
	long long	 freed_count;
};
struct maildir_room {
	int	(*make)(void *, struct maildir_need *);
	void	 *arg;
};
/* One message into a maildir by the whole protocol: maildir_put(). */
struct maildir_put {
	const char		*root;		/* the maildir */
	const char		*folder;	/* ".Name", or NULL: the inbox */
	const struct slice	*iov;		/* the message, then */
	size_t			 niov;
	int			 tail_fd;	/* the rest of this fd, or -1 */
	const struct maildir_room *room;	/* or NULL */
	const char		*unquoted;	/* a folder out of the quota */
	off_t			 size;		/* out: its size */
};
int	 maildir_put(struct maildir_put *, char *, size_t);

/* Maildir++ quota (maildirquota(7)): root/maildirsize. */
struct maildir_quota {
	long long	 qs, qc;	/* the quota: bytes, messages; 0: none */
	long long	 us, uc;	/* in use */
	int		 lines;		/* usage lines read */
	int		 bad;		/* a line that is not "BYTES COUNT" */
	off_t		 fsize;		/* of the file */
	time_t		 mtime;
	char		 qline[128];	/* the quota line as written */
};
int	 maildir_quota_read(int, const char *, struct maildir_quota *, char *,
	    size_t);
int	 maildir_quota_recount(const char *, const char *,
	    struct maildir_quota *, char *, size_t);

int	 maildir_ensure(const char *, const char *, char *, size_t);
const char *maildir_link_refused(const struct stat *, const struct stat *,
	    const struct stat *);
int	 maildir_unique(char *, size_t);
int	 maildir_name_time(const char *, time_t *);
unsigned long long maildir_name_size(const char *, const struct stat *);
int	 maildir_name_sized_as(const char *, unsigned long long *);
const char *maildir_home(void);

#endif
