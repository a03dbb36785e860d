/*
 * The Junk folder as backstop files into it.  It is also the mail
 * client's own spam folder (Dovecot marks .Junk \Junk), so whoever acts
 * on it acts only on what is backstop's: a message with backstop's
 * X-Backstop: field in its top header block (deliver renames incoming
 * ones to X-Backstop-Incoming, so the field is backstop's own).  The
 * commands that read the folder (expire, junk, restore: expire.c) and
 * deliver share what is here, so that neither calls the other.
 *
 * The folder is opened once, relative to the maildir; it may be a
 * symbolic link (a .Junk on another disk) only as maildir.c's one rule
 * says (maildir_link_refused()), for every command alike.  Its cur/ new/
 * tmp/ are opened with O_NOFOLLOW, and everything below is reached
 * relative to those descriptors, so that no symbolic link below the
 * folder is ever followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backstop.h"
#include "hdr.h"
#include "junk.h"
#include "maildir.h"
#include "util.h"

/*
 * Open the maildir root and its Junk folder (one Maildir++ folder name,
 * checked again here: this is what keeps every command inside it,
 * whatever a rule file says).  A missing Junk folder is not an error:
 * f->fd is then -1.  0, or -1 (err says why, the names escaped).
 */
int
junk_open(struct junk_folder *f, const char *root, const char *junk,
    char *err, size_t errsz)
{
	struct stat	 st, lst, rst;
	const char	*why = NULL;

	f->rootfd = f->fd = -1;
	f->shown[0] = f->shownroot[0] = '\0';
	if (junk == NULL || junk[0] != '.' || strchr(junk, '/') != NULL ||
	    strstr(junk, "..") != NULL || strcmp(junk, ".") == 0) {
		sanitize(f->shown, sizeof(f->shown), junk ? junk : "(null)",
		    strlen(junk ? junk : "(null)"));
		snprintf(err, errsz, "junk folder '%s' is not one Maildir++ "
		    "folder name, refused", f->shown);
		return -1;
	}
	path_escape(f->shownroot, sizeof(f->shownroot), root, strlen(root));
	if ((size_t)snprintf(f->root, sizeof(f->root), "%s", root) >=
	    sizeof(f->root) || (size_t)snprintf(f->path, sizeof(f->path),
	    "%s/%s", root, junk) >= sizeof(f->path)) {
		snprintf(err, errsz, "%s: path too long", f->shownroot);
		return -1;
	}
	path_escape(f->shown, sizeof(f->shown), f->path, strlen(f->path));
	if ((f->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fstat(f->rootfd, &rst) == -1) {
		snprintf(err, errsz, "maildir %s: %s", f->shownroot,
		    strerror(errno));
		junk_close(f);
		return -1;
	}
	if (fstatat(f->rootfd, junk, &lst, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	if ((why = maildir_link_refused(&rst, &lst, NULL)) != NULL)
		goto fail;
	f->fd = openat(f->rootfd, junk, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (S_ISLNK(lst.st_mode) ? 0 : O_NOFOLLOW));
	if (f->fd == -1 && errno == ENOENT && !S_ISLNK(lst.st_mode))
		return 0;	/* removed meanwhile */
	if (f->fd == -1 || fstat(f->fd, &st) == -1)
		goto fail;
	if ((why = maildir_link_refused(&rst, &lst, &st)) != NULL)
		goto fail;
	return 0;
fail:
	snprintf(err, errsz, "%s: %s", f->shown, why != NULL ? why :
	    strerror(errno));
	junk_close(f);
	return -1;
}

void
junk_close(struct junk_folder *f)
{
	if (f->fd != -1)
		close(f->fd);
	if (f->rootfd != -1)
		close(f->rootfd);
	f->fd = f->rootfd = -1;
}

/*
 * cur/, new/ or tmp/ of the folder dfd, never through a symbolic link.
 * The fd, or -1 with errno (ENOENT: absent) and err saying why: a link
 * is named as one (O_NOFOLLOW | O_DIRECTORY says only "Not a
 * directory").
 */
int
junk_subdir(int dfd, const char *name, char *err, size_t errsz)
{
	struct stat	 st;
	int		 fd, e;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd != -1)
		return fd;
	e = errno;
	if ((e == ENOTDIR || e == ELOOP) &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		snprintf(err, errsz, "a symbolic link, not followed");
	else
		snprintf(err, errsz, "%s", strerror(e));
	errno = e;
	return -1;
}

void
junk_entries_free(struct junk_entry *e, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/*
 * The entries of directory dfd, dot names skipped, each with its lstat;
 * entries that vanish meanwhile are left out, one whose lstat fails
 * otherwise is kept with err set.  Names are read to the end before
 * anything is removed, so that unlinking cannot make readdir skip an
 * entry.  0, or -1 with errno.
 */
int
junk_entries(int dfd, struct junk_entry **ents_r, size_t *n_r)
{
	DIR		*d;
	struct dirent	*de;
	struct junk_entry *ents = NULL;
	size_t		 n = 0, cap = 0, i, o;
	int		 fd, e;

	*ents_r = NULL;
	*n_r = 0;
	if ((fd = dup(dfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	rewinddir(d);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ents = xrealloc(ents, cap * sizeof(*ents));
		}
		memset(&ents[n], 0, sizeof(ents[n]));
		ents[n++].name = xstrdup(de->d_name);
	}
	e = errno;
	closedir(d);
	if (e != 0) {
		junk_entries_free(ents, n);
		errno = e;
		return -1;
	}
	for (i = o = 0; i < n; i++) {
		if (fstatat(dfd, ents[i].name, &ents[i].st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT) {	/* moved away */
				free(ents[i].name);
				continue;
			}
			ents[i].err = errno;
		}
		ents[o++] = ents[i];
	}
	*ents_r = ents;
	*n_r = o;
	return 0;
}

/*
 * The top header block of the file open on fd, read until its end or
 * LIM_HEADER_BYTES.  Returns 0 (a buffer to free) or -1.
 */
int
junk_read_header(int fd, char **buf_r, size_t *len_r)
{
	size_t	 len = 0, cap = LIM_HEADER_BYTES, step;
	ssize_t	 k;
	char	*buf = xmalloc(cap);

	while (len < cap) {
		step = cap - len < 16384 ? cap - len : 16384;
		k = read(fd, buf + len, step);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1) {
			free(buf);
			return -1;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (hdr_block_len(buf, len) < len)
			break;		/* the blank line is in */
	}
	*buf_r = buf;
	*len_r = len;
	return 0;
}

/*
 * Whether the file name of directory dfd, which readdir saw as st, carries
 * backstop's X-Backstop: field in its top header block.  Returns 0 with
 * *ours_r, or -1 when it could not be read (ENOENT: moved away).
 */
int
junk_filed_by_us(int dfd, const char *name, const struct stat *st,
    int *ours_r)
{
	struct stat	 fst;
	struct slice	 block, v;
	char		*buf;
	size_t		 len;
	int		 fd, e;

	*ours_r = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &fst) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
		close(fd);	/* not the file readdir saw: not ours */
		return 0;
	}
	if (junk_read_header(fd, &buf, &len) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	block.p = buf;
	block.n = hdr_block_len(buf, len);
	*ours_r = hdr_find(block, "X-Backstop", &v);
	free(buf);
	return 0;
}

/*
 * Split the X-Backstop: value that deliver wrote,
 *	<verdict>; kind=<k>; original=<id>; rule=<r>
 * into the original id and the reason (the rest).  The id was sanitized
 * but may hold ';', so the rule is taken from the last "; rule=".
 */
void
junk_why(const char *v, char *id, size_t idsz, char *reason,
    size_t reasonsz)
{
	const char	*o, *rl, *p;
	size_t		 vlen;

	snprintf(id, idsz, "-");
	if ((o = strstr(v, "; original=")) == NULL) {
		snprintf(reason, reasonsz, "%s", v);
		return;
	}
	for (rl = NULL, p = o; (p = strstr(p, "; rule=")) != NULL; p++)
		rl = p;
	vlen = (size_t)(o - v);
	if (rl == NULL) {
		snprintf(id, idsz, "%s", o + 11);
		snprintf(reason, reasonsz, "%.*s", (int)vlen, v);
		return;
	}
	snprintf(id, idsz, "%.*s", (int)(rl - (o + 11)), o + 11);
	snprintf(reason, reasonsz, "%.*s%s", (int)vlen, v, rl);
}
