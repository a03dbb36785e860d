/*
 * The journal of what left: the entries backstop record adds, one
 * fixed-size checked entry each, appended under an exclusive lock and
 * fsynced before record exits 0.  It is the one copy of that evidence
 * (the sent folders can be rebuilt from, this cannot), so it is never
 * rewritten by a lookup: the index merges it (sent.c) and remembers how
 * far.  Its header holds the salt of the recipient hashes (the index
 * takes it from here) and the time from which recording is complete.
 *
 * A crash mid-append leaves a torn last entry: it fails its check, the
 * next append cuts it off under the lock (that record never exited 0,
 * so the MTA sends it again).  A damaged entry elsewhere is reported:
 * recording can then vouch, but never say "not sent".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "journal.h"
#include "sentfile.h"
#include "util.h"

#define SJ_LOCK_TRIES	200		/* 10 ms apart: 2 s at most */

uint32_t
sj_check(const struct sj_entry *e)
{
	uint64_t	 v;

	v = sf_mix64(e->h ^ sf_mix64((uint64_t)e->t ^ 0x6a09e667f3bcc908ULL) ^
	    ((uint64_t)e->kind << 32));
	return (uint32_t)(v ^ (v >> 32)) | 1;	/* never 0: zeroed fails */
}

static uint64_t
hdr_check(const struct sj_hdr *h)
{
	struct sj_hdr	 c = *h;

	c.check = 0;
	return sf_mix64(sf_hash_bytes(0xcbf29ce484222325ULL, &c, sizeof(c)));
}

/* The journal of the index at index: INDEX.journal. */
int
sj_path(const char *index, char *out, size_t outsz)
{
	return (size_t)snprintf(out, outsz, "%s.journal", index) < outsz ?
	    0 : -1;
}

static int
ours(int fd, struct stat *st)
{
	return fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
	    st->st_uid == getuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/*
 * Open the journal path for an append, locked (created with salt and
 * now as its start when there is none; a torn last entry cut off):
 * *fd_r and the journal's salt in *salt_r.  0, or -1 with why (errno
 * set: the caller decides whether that is temporary).
 */
int
sj_begin(const char *path, uint64_t salt, int *fd_r, uint64_t *salt_r,
    char *why, size_t whysz)
{
	struct stat	 st;
	struct sj_hdr	 h;
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	off_t		 whole;
	int		 fd, i, e;

	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0600)) == -1) {
		e = errno;
		snprintf(why, whysz, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	for (i = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; i++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    i == SJ_LOCK_TRIES) {
			snprintf(why, whysz, "%s: cannot lock it: %s", path,
			    strerror(errno));
			goto fail_keep;
		}
		nanosleep(&ts, NULL);
	}
	if (!ours(fd, &st)) {
		snprintf(why, whysz, "%s: not a journal of yours (type, owner "
		    "or mode)", path);
		errno = EPERM;
		goto fail_keep;
	}
	if (st.st_size < (off_t)sizeof(h)) {
		/* new, or its header torn before it was ever fsynced */
		memset(&h, 0, sizeof(h));
		memcpy(h.magic, SJ_MAGIC, 8);
		h.salt = salt;
		h.since = clock_now();
		h.check = hdr_check(&h);
		if (ftruncate(fd, 0) == -1 || write(fd, &h, sizeof(h)) !=
		    (ssize_t)sizeof(h) || fsync(fd) == -1) {
			snprintf(why, whysz, "%s: %s", path, strerror(errno));
			goto fail_keep;
		}
	} else if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, SJ_MAGIC, 8) != 0 || hdr_check(&h) != h.check) {
		snprintf(why, whysz, "%s: damaged header, not written to "
		    "(move it away to start recording afresh)", path);
		errno = EINVAL;
		goto fail_keep;
	} else {
		whole = (off_t)sizeof(h) + (st.st_size - (off_t)sizeof(h)) /
		    (off_t)sizeof(struct sj_entry) *
		    (off_t)sizeof(struct sj_entry);
		if (whole != st.st_size && ftruncate(fd, whole) == -1) {
			snprintf(why, whysz, "%s: %s", path, strerror(errno));
			goto fail_keep;
		}
	}
	*fd_r = fd;
	*salt_r = h.salt;
	return 0;
fail_keep:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * Append the n entries (their checks set here) in one write, fsync, and
 * close (the lock goes with it).  0, or -1 with why and errno.
 */
int
sj_commit(int fd, struct sj_entry *v, size_t n, char *why, size_t whysz)
{
	size_t	 i, len = n * sizeof(*v);
	ssize_t	 k;
	int	 e;

	for (i = 0; i < n; i++)
		v[i].check = sj_check(&v[i]);
	k = len ? write(fd, v, len) : 0;
	if (k != (ssize_t)len || fsync(fd) == -1) {
		e = k >= 0 && k != (ssize_t)len ? ENOSPC : errno;
		snprintf(why, whysz, "journal: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (close(fd) == -1) {
		snprintf(why, whysz, "journal: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Read the journal at path from offset from (from the first entry when
 * from is before it), at most max entries, into a new array *v_r of *n_r
 * (the caller frees it).  0; 1 when more than max remain; -1 when there
 * is no journal, or its header is not one (v set only on 0 and 1).
 */
int
sj_read(const char *path, off_t from, size_t max, struct sj_view *v,
    struct sj_entry **v_r, size_t *n_r)
{
	struct stat	 st;
	struct sj_entry	*e;
	size_t		 n, i, j;
	ssize_t		 k;
	int		 fd, more = 0;

	memset(v, 0, sizeof(*v));
	*v_r = NULL;
	*n_r = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return -1;
	if (!ours(fd, &st) || st.st_size < (off_t)sizeof(v->h) ||
	    pread(fd, &v->h, sizeof(v->h), 0) != (ssize_t)sizeof(v->h) ||
	    memcmp(v->h.magic, SJ_MAGIC, 8) != 0 ||
	    hdr_check(&v->h) != v->h.check) {
		close(fd);
		memset(v, 0, sizeof(*v));
		return -1;
	}
	v->dev = (uint64_t)st.st_dev;
	v->ino = (uint64_t)st.st_ino;
	v->size = (off_t)sizeof(v->h) + (st.st_size - (off_t)sizeof(v->h)) /
	    (off_t)sizeof(*e) * (off_t)sizeof(*e);
	if (from < (off_t)sizeof(v->h) || (from - (off_t)sizeof(v->h)) %
	    (off_t)sizeof(*e) != 0)
		from = (off_t)sizeof(v->h);
	if (from >= v->size) {
		close(fd);
		return 0;
	}
	n = (size_t)(v->size - from) / sizeof(*e);
	if (n > max) {
		n = max;
		more = 1;
	}
	e = xmalloc(n * sizeof(*e) + 1);
	k = pread(fd, e, n * sizeof(*e), from);
	close(fd);
	if (k < 0)
		k = 0;
	n = (size_t)k / sizeof(*e);
	for (i = j = 0; i < n; i++) {
		if (e[i].check != sj_check(&e[i])) {
			v->damaged = 1;
			continue;
		}
		e[j++] = e[i];
	}
	*v_r = e;
	*n_r = j;
	return more;
}
