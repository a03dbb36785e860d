/*
 * Maildir delivery, after qmail-local.c, Postfix local/maildir.c and
 * Dovecot's maildir-save.c: a unique name in tmp/, every byte written,
 * fsync, close checked, link() into new/ (rename() where the filesystem
 * has no hard links, never over an existing name), the tmp name always
 * unlinked, then fsync of new/.  Missing maildirs are created only after
 * ENOENT, and a Maildir++ subfolder gets its maildirfolder file.  Exit
 * codes are not decided here: functions return 0 or -1 with errno and a
 * message for the caller.
 *
 * This is the one publisher: deliver (maildir_put()), the guard's rescue
 * and restore's copy across filesystems all use its core, which makes
 * system calls only, so that a signal handler may run it.  The core also
 * keeps the one piece of state that deliver's signal handlers need: the
 * tmp/ file being written, and whether a message has been published
 * (maildir_abort_inflight()).  And it is the one writer of maildirsize
 * (maildir_size_add()), for deliver, the rescue, expire and pruning.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "maildir.h"
#include "util.h"

#define QUOTA_RECOUNT_BYTES 5120	/* maildirquota(7): past it, recount */
#define QUOTA_STALE_SECS (15 * 60)	/* an old file over quota: recount */

/*
 * The tmp/ file of this process being written (its directory and name),
 * and whether a message is published.  Written with the signals of
 * hold_signals() held and read by maildir_abort_inflight() in a signal
 * handler: state of this module alone, reached through that function.
 */
static volatile int		 inflight_dfd = AT_FDCWD;
static const char *volatile	 inflight_name;
static volatile sig_atomic_t	 published;

static void	 hold_signals(sigset_t *);
static void	 release_signals(const sigset_t *);
static int	 folder_allowed(const char *, const char *, char *, size_t);

const char *
maildir_home(void)
{
	const char	*h = getenv("HOME");
	struct passwd	*pw;

	static char	*dir;	/* found once; a pointer, see xstrjoin() */
	FILE		*f;
	uid_t		 uid;

	if (h != NULL && *h == '/')
		return h;
	if (dir != NULL)
		return dir;
	uid = getuid();
	/*
	 * Every MTA and MDA sets HOME; without it, the passwd file itself.
	 * fgetpwent() reads the file and needs no NSS module: getpwuid() in
	 * a static binary loads them at run time, and crashed here when the
	 * user had no passwd entry.
	 */
	if ((f = fopen("/etc/passwd", "re")) == NULL)
		return NULL;
	while ((pw = fgetpwent(f)) != NULL)
		if (pw->pw_uid == uid && pw->pw_dir != NULL &&
		    *pw->pw_dir == '/' && strlen(pw->pw_dir) < PATH_MAX) {
			dir = xstrdup(pw->pw_dir);
			fclose(f);
			return dir;
		}
	fclose(f);
	return NULL;
}

static int
mkdir_one(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Make dir with cur/ new/ tmp/ (and maildirfolder if sub). */
static int
make_maildir(const char *dir, int sub, const char *parent, char *err,
    size_t errsz)
{
	char	 p[PATH_MAX];
	int	 fd;
	static const char *const subs[] = { "tmp", "new", "cur" };
	size_t	 i;

	if (mkdir_one(dir) == -1) {
		snprintf(err, errsz, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, subs[i]) >=
		    sizeof(p)) {
			errno = ENAMETOOLONG;
			snprintf(err, errsz, "%s: path too long", dir);
			return -1;
		}
		if (mkdir_one(p) == -1) {
			snprintf(err, errsz, "mkdir %s: %s", p,
			    strerror(errno));
			return -1;
		}
	}
	if (sub) {
		if ((size_t)snprintf(p, sizeof(p), "%s/maildirfolder", dir) >=
		    sizeof(p)) {
			errno = ENAMETOOLONG;
			snprintf(err, errsz, "%s: path too long", dir);
			return -1;
		}
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 || close(fd) == -1) {
			snprintf(err, errsz, "create %s: %s", p,
			    strerror(errno));
			return -1;
		}
	}
	if (fsync_dir(dir) == -1 || fsync_dir(parent) == -1) {
		snprintf(err, errsz, "fsync %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Make sure root (and root/folder when folder is not NULL) is a maildir.
 * Only after a failed stat, as qmail creates nothing it does not need.
 */
int
maildir_ensure(const char *root, const char *folder, char *err, size_t errsz)
{
	struct stat	 st;
	char		*dir, *t, *parent = NULL, *slash;
	size_t		 dl;
	int		 rc = -1;

	dir = xstrjoin(root, folder ? "/" : "", folder ? folder : "",
	    (char *)NULL);
	dl = strlen(dir);
	t = xstrjoin(dir, "/new", (char *)NULL);
	if (dl + 4 >= PATH_MAX) {
		errno = ENAMETOOLONG;
		snprintf(err, errsz, "%s: path too long", dir);
		goto out;
	}
	if (folder != NULL && folder_allowed(root, dir, err, errsz) == -1)
		goto out;
	errno = 0;
	if (stat(t, &st) == 0 && S_ISDIR(st.st_mode)) {
		memcpy(t + dl, "/tmp", 4);
		if (stat(t, &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = 0;
			goto out;
		}
	}
	if (errno != ENOENT && errno != 0) {
		snprintf(err, errsz, "%s: %s", t, strerror(errno));
		goto out;
	}
	if (folder != NULL && maildir_ensure(root, NULL, err, errsz) == -1)
		goto out;
	parent = xstrdup(folder ? root : dir);
	if (folder == NULL && (slash = strrchr(parent, '/')) != NULL) {
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	rc = make_maildir(dir, folder != NULL, parent, err, errsz);
out:
	free(parent);
	free(t);
	free(dir);
	return rc;
}

/*
 * "<sec>.M<usec>P<pid>Q<n>R<random>.<host>", / and : escaped.  The host
 * and the random part are taken once per process; Q counts the names a
 * process takes (the guard's and the delivery's).
 */
int
maildir_unique(char *out, size_t outsz)
{
	static unsigned	 seq;
	static char	 h[800];
	static unsigned long long r;
	struct timeval	 tv;
	char		 host[256];
	unsigned char	 rnd[8];
	size_t		 i, o = 0;
	int		 fd;

	gettimeofday(&tv, NULL);
	if (seq == 0) {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		for (i = 0; host[i] && o + 5 < sizeof(h); i++) {
			if (host[i] == '/')
				o += (size_t)snprintf(h + o, sizeof(h) - o,
				    "\\057");
			else if (host[i] == ':')
				o += (size_t)snprintf(h + o, sizeof(h) - o,
				    "\\072");
			else
				h[o++] = host[i];
		}
		h[o] = '\0';
		/* one system call; /dev/urandom where getrandom() fails */
		if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) ==
		    (ssize_t)sizeof(rnd))
			memcpy(&r, rnd, sizeof(r));
		else if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) !=
		    -1) {
			if (read(fd, rnd, sizeof(rnd)) == (ssize_t)sizeof(rnd))
				memcpy(&r, rnd, sizeof(r));
			close(fd);
		}
		if (r == 0)
			r = (unsigned long long)tv.tv_usec * 2654435761u ^
			    (unsigned long long)getpid();
	}
	if ((size_t)snprintf(out, outsz, "%lld.M%ldP%ldQ%uR%016llx.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), ++seq, r,
	    h) >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * The signals that end a delivery early: the deadline and the MTA or an
 * operator stopping it.  They are held back while the tmp/ name is being
 * taken (so that the handler knows exactly which file is ours) and from
 * the link into new/ until the message is marked published (so that a
 * message once in new/ is neither removed nor reported as a failure:
 * that would deliver it twice).  sigprocmask only: async-signal-safe.
 */
static void
hold_signals(sigset_t *old)
{
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void
release_signals(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

/*
 * Create the tmp/ file name of directory dfd (AT_FDCWD: name is a path),
 * exclusively, and remember it as the one in flight until it is dropped
 * or published.  name must stay valid until then.  The fd, or -1.
 */
int
maildir_tmp_open(int dfd, const char *name)
{
	sigset_t	 old;
	int		 fd, e;

	hold_signals(&old);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	e = errno;
	if (fd != -1) {
		inflight_name = NULL;
		inflight_dfd = dfd;
		inflight_name = name;
	}
	release_signals(&old);
	errno = e;
	return fd;
}

/* Every byte of iov[], then the rest of tail_fd (-1: none).  0 or -1. */
int
maildir_tmp_fill(int fd, const struct slice *iov, size_t niov, int tail_fd)
{
	if (write_iov(fd, iov, niov) == -1)
		return -1;
	if (tail_fd >= 0 && copy_fd(fd, tail_fd) == -1)
		return -1;
	return 0;
}

/* fsync, the size, close checked; the fd is closed in any case.  0/-1. */
int
maildir_tmp_seal(int fd, off_t *size_r)
{
	struct stat	 st;
	int		 e;

	if (fsync(fd) == -1 || fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*size_r = st.st_size;
	return close(fd);
}

/* Remove the tmp/ file (a failed delivery); it is no longer in flight. */
void
maildir_tmp_drop(int dfd, const char *name)
{
	sigset_t	 old;
	int		 e = errno;

	hold_signals(&old);
	unlinkat(dfd, name, 0);
	if (inflight_name == name)
		inflight_name = NULL;
	release_signals(&old);
	errno = e;
}

/*
 * Publish the sealed tmp file (tdfd, tname) as nname in the directory
 * ndfd (new/ or cur/, an open descriptor): link() that never replaces a
 * file, the tmp name unlinked; where the filesystem has no hard links a
 * rename() that cannot replace (RENAME_NOREPLACE), or with MAILDIR_UNIQUE
 * (the name is unique in new/ as it was in tmp/) a plain one where even
 * that is not supported; then fsync of ndfd.  From the link until the
 * message is marked published the cancelling signals are held.  0, or
 * -1 with errno (EEXIST: nname is taken; the tmp file is then left for
 * the caller to retry or drop).  After a failed fsync the new name is
 * taken back.
 */
int
maildir_publish(int tdfd, const char *tname, int ndfd, const char *nname,
    int flags)
{
	sigset_t	 old;
	int		 e;

	hold_signals(&old);
	if (linkat(tdfd, tname, ndfd, nname, 0) == 0)
		unlinkat(tdfd, tname, 0);
	else if (errno != EXDEV && errno != EPERM && errno != ENOSYS &&
	    errno != EOPNOTSUPP)
		goto fail;
	else if (renameat2(tdfd, tname, ndfd, nname, RENAME_NOREPLACE) ==
	    -1 && (errno != EINVAL || !(flags & MAILDIR_UNIQUE) ||
	    renameat(tdfd, tname, ndfd, nname) == -1))
		goto fail;
	if (fsync_dirfd(ndfd) == -1) {
		/* in new/, but its name may not be on disk: take it back,
		 * the caller fails and the MTA retries */
		e = errno;
		unlinkat(ndfd, nname, 0);
		errno = e;
		goto fail;
	}
	published = 1;
	inflight_name = NULL;
	release_signals(&old);
	return 0;
fail:
	e = errno;
	release_signals(&old);
	errno = e;
	return -1;
}

/*
 * For a signal handler that would end the delivery: 1 when a message is
 * published (the handler must then let the delivery finish: a failure
 * now would have the MTA deliver it twice), else 0 with the tmp/ file in
 * flight, if any, removed.  Async-signal-safe.
 */
int
maildir_abort_inflight(void)
{
	const char	*name = inflight_name;

	if (published)
		return 1;
	if (name != NULL)
		unlinkat(inflight_dfd, name, 0);
	return 0;
}

/* Append v in decimal to buf (size sz) at *o; system calls only. */
static void
put_num(char *buf, size_t sz, size_t *o, long long v)
{
	char			 d[24];
	size_t			 i = sizeof(d);
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;

	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 && i > 1);
	if (v < 0)
		d[--i] = '-';
	while (i < sizeof(d) && *o + 1 < sz)
		buf[(*o)++] = d[i++];
	buf[*o < sz ? *o : sz - 1] = '\0';
}

/*
 * "uniq,S=size" into out (Maildir++: the IMAP server reads the size from
 * the name).  Its length, or 0 when it does not fit.  System calls only.
 */
size_t
maildir_name_sized(char *out, size_t outsz, const char *uniq,
    unsigned long long size)
{
	size_t	 o = 0;

	while (*uniq != '\0' && o + 1 < outsz)
		out[o++] = *uniq++;
	if (*uniq != '\0' || o + 4 >= outsz)
		return 0;
	memcpy(out + o, ",S=", 3);
	o += 3;
	put_num(out, outsz, &o, (long long)size);
	return o + 1 < outsz ? o : 0;
}

/*
 * The one writer of maildirsize (maildirquota(7)): "BYTES COUNT" appended
 * to (dfd, path) in one O_APPEND write, so that concurrent writers never
 * mix their lines, after a newline of its own when the file's last line
 * was cut short by a crash (not glued to it).  Only to a regular file
 * that exists (no quota, no file: nothing to keep true), never through a
 * link, never blocking (a fifo).  System calls only: the guard's rescue
 * counts its message with it.  0, or -1 with errno.
 */
int
maildir_size_add(int dfd, const char *path, long long bytes,
    long long count)
{
	struct stat	 st;
	char		 line[64], last;
	size_t		 o = 0;
	ssize_t		 k;
	int		 fd, e;

	if ((fd = openat(dfd, path, O_RDWR | O_APPEND | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1 || (!S_ISREG(st.st_mode) &&
	    (errno = EINVAL))) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 &&
	    last != '\n')
		line[o++] = '\n';
	put_num(line, sizeof(line), &o, bytes);
	line[o++] = ' ';
	put_num(line, sizeof(line), &o, count);
	line[o++] = '\n';
	do
		k = write(fd, line, o);
	while (k == -1 && errno == EINTR);
	e = k == -1 ? errno : EIO;
	if (k != (ssize_t)o) {
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/*
 * A decimal number at p as strtoll(p, &end, 10) reads it (blanks, a sign,
 * digits), without the locale: a usage file has up to 5120 bytes of such
 * lines, and strtoll() cost a filing into Junk a fifth of its
 * instructions (callgrind).  *end is p when there is no digit (v 0);
 * returns 0 when the number is out of range.
 */
static int
quota_num(const char *p, const char **end, long long *v)
{
	const char		*q = p;
	unsigned long long	 n = 0, lim;
	unsigned		 d;
	int			 neg = 0;

	*v = 0;
	*end = p;
	while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\v' ||
	    *q == '\f')
		q++;
	if (*q == '-' || *q == '+')
		neg = *q++ == '-';
	if (*q < '0' || *q > '9')
		return 1;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; *q >= '0' && *q <= '9'; q++) {
		d = (unsigned)(*q - '0');
		if (n > (lim - d) / 10)
			return 0;
		n = n * 10 + d;
	}
	*v = neg ? (long long)(0 - n) : (long long)n;
	*end = q;
	return 1;
}

/*
 * Maildir++ quota (maildirquota(7), as maildrop and deliverquota keep it):
 * root/maildirsize covers the main maildir and all its folders.  Its
 * first line is the quota, "NNNNS,MMMC" (bytes, messages; either may be
 * missing), every further line "BYTES COUNT" (negative for removals); a
 * last line without its newline is still being written and is skipped.
 * Read (dfd, path) into q: 1, or 0 when there is no maildirsize (no
 * quota), or -1 (err says why).  Only the first QUOTA_RECOUNT_BYTES
 * matter: a longer file is recounted anyway.
 */
int
maildir_quota_read(int dfd, const char *path, struct maildir_quota *q,
    char *err, size_t errsz)
{
	char		 buf[QUOTA_RECOUNT_BYTES + 1], *p, *end, *nl;
	const char	*e1;
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 r;
	long long	 a, b;
	int		 fd, e, ok;

	memset(q, 0, sizeof(*q));
	if ((fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		snprintf(err, errsz, "open %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) == -1 || (!S_ISREG(st.st_mode) &&
	    (errno = EINVAL)))
		goto fail;
	q->fsize = st.st_size;
	q->mtime = st.st_mtime;
	/* up to the size fstat saw: what is appended meanwhile is a line
	 * the next reader counts (no read() only to see the end) */
	while (len < sizeof(buf) - 1 && (off_t)len < st.st_size &&
	    (r = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	/* a quota line without its newline: no usage yet, recounted */
	if ((nl = memchr(buf, '\n', len)) == NULL)
		nl = buf + len;
	*nl = '\0';
	snprintf(q->qline, sizeof(q->qline), "%.*s", (int)sizeof(q->qline) - 1,
	    buf);
	/* "10000000S,1000C", in any order */
	for (p = buf; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		errno = 0;
		a = strtoll(p, &end, 10);
		if (end == p || errno != 0 || (*end != 'S' && *end != 'C'))
			break;
		*(*end++ == 'S' ? &q->qs : &q->qc) = a;
	}
	for (p = nl + 1; p < buf + len && (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		*nl = '\0';
		ok = quota_num(p, &e1, &a) && quota_num(e1, &e1, &b);
		while (*e1 == ' ' || *e1 == '\t')
			e1++;
		if (!ok || *e1 != '\0' || e1 == p) {
			q->bad += *p != '\0';	/* an empty line is no harm */
			continue;
		}
		q->us += a;
		q->uc += b;
		q->lines++;
	}
	return 1;
fail:
	e = errno;
	snprintf(err, errsz, "read %s: %s", path, strerror(e));
	close(fd);
	errno = e;
	return -1;
}

/* Would size bytes and count messages more go over the quota? */
static int
quota_over(const struct maildir_quota *q, off_t size, long long count,
    long long *bytes_r, long long *count_r)
{
	*bytes_r = q->qs > 0 ? q->us + (long long)size - q->qs : 0;
	*count_r = q->qc > 0 ? q->uc + count - q->qc : 0;
	if (*bytes_r < 0)
		*bytes_r = 0;
	if (*count_r < 0)
		*count_r = 0;
	return *bytes_r > 0 || *count_r > 0;
}

/*
 * When maildirquota(7) (and Dovecot's reading of it) says to recount: a
 * file past 5120 bytes, one with no usage line or a broken one, negative
 * totals, or a delivery over quota by a file that has more than its
 * first usage line or was last written more than 15 minutes ago.
 */
static int
quota_stale(const struct maildir_quota *q, off_t size, time_t now)
{
	long long	 b, c;

	if (q->fsize > QUOTA_RECOUNT_BYTES || q->lines == 0 || q->bad ||
	    q->us < 0 || q->uc < 0)
		return 1;
	return quota_over(q, size, 1, &b, &c) &&
	    (q->lines > 1 || now - q->mtime > QUOTA_STALE_SECS);
}

/*
 * Add up the messages of dir/sub (new/ or cur/, of the maildir rootfd):
 * ",S=" of the name, else the size.  The directory's mtime before and
 * after, in *changed when it moved.  0, or -1 (a directory that is gone
 * or is none counts nothing).
 */
static int
count_dir(int rootfd, const char *dir, const char *sub, long long *bytes,
    long long *count, int *changed)
{
	struct stat		 before, after, st;
	struct dirent		*de;
	DIR			*d;
	char			 p[PATH_MAX];
	unsigned long long	 v;
	int			 fd;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, sub) >= sizeof(p))
		return -1;
	if ((fd = openat(rootfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (fstat(fd, &before) == -1 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		/* the name's ",S=" needs no stat (readdir says it is a
		 * file): 100,000 messages in Junk are counted in one pass */
		if (de->d_type == DT_REG && maildir_name_sized_as(de->d_name, &v)) {
			*bytes += (long long)v;
			(*count)++;
			continue;
		}
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				*changed = 1;	/* moved meanwhile */
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		*bytes += (long long)maildir_name_size(de->d_name, &st);
		(*count)++;
	}
	if (fstat(fd, &after) == -1 ||
	    after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)
		*changed = 1;
	closedir(d);
	return 0;
}

/*
 * Count the messages of root: its new/ and cur/, and those of every
 * Maildir++ folder (".Name"), except skip (a folder the quota leaves
 * out, or NULL).  0 with the totals and *changed when a directory
 * changed meanwhile, or -1 (err says why).
 */
static int
quota_count(const char *root, const char *skip, long long *bytes,
    long long *count, int *changed, char *err, size_t errsz)
{
	struct dirent	*de;
	DIR		*d;
	int		 rootfd, fd, rc = 0;

	*bytes = *count = 0;
	*changed = 0;
	d = NULL;
	fd = -1;
	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (fd = dup(rootfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errsz, "recount of %s: %s", root,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		if (rootfd != -1)
			close(rootfd);
		return -1;
	}
	if (count_dir(rootfd, ".", "new", bytes, count, changed) == -1 ||
	    count_dir(rootfd, ".", "cur", bytes, count, changed) == -1)
		rc = -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (skip != NULL && strcmp(de->d_name, skip) == 0))
			continue;
		if (count_dir(rootfd, de->d_name, "new", bytes, count,
		    changed) == -1 || count_dir(rootfd, de->d_name, "cur",
		    bytes, count, changed) == -1)
			rc = -1;
	}
	if (rc == -1)
		snprintf(err, errsz, "recount of %s: %s", root,
		    strerror(errno));
	closedir(d);
	close(rootfd);
	return rc;
}

/*
 * Recount the quota use of root as maildirquota(7) asks (every folder
 * but skip), and replace root/maildirsize with its quota line and the
 * total, atomically (file_replace).  When the maildir changed while it
 * was counted, it counts once more; if it changes again the count is
 * used for this delivery but not written.  q gets the new totals.
 * 1 written, 0 not written, -1 (err says why).
 */
int
maildir_quota_recount(const char *root, const char *skip,
    struct maildir_quota *q, char *err, size_t errsz)
{
	struct slice	 v;
	struct stat	 st;
	char		*path, buf[sizeof(q->qline) + 64];
	long long	 b, c;
	int		 changed, n, tries, rc = -1;

	for (tries = 0; tries < 2; tries++) {
		if (quota_count(root, skip, &b, &c, &changed, err,
		    errsz) == -1)
			return -1;
		if (!changed)
			break;
	}
	q->us = b;
	q->uc = c;
	q->lines = 1;
	q->bad = 0;
	if (changed)
		return 0;
	n = snprintf(buf, sizeof(buf), "%s\n%lld %lld\n", q->qline, b, c);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return 0;
	v.p = buf;
	v.n = (size_t)n;
	path = xstrjoin(root, "/maildirsize", (char *)NULL);
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    file_replace(path, &v, 1, st.st_mode & 07777, (uid_t)-1,
	    (gid_t)-1, NULL, NULL, err, errsz) == 0) {
		q->fsize = n;
		q->mtime = time(NULL);
		rc = 1;
	} else if (err[0] == '\0')
		snprintf(err, errsz, "%s: not a regular file", path);
	free(path);
	return rc;
}

/*
 * The quota step of maildir_put(): with a maildirsize in root, read it
 * (recounted when stale), ask room to make room (also without one), and
 * refuse the message when it would still go over (errno EDQUOT).  A
 * message for the folder the quota leaves out (p->unquoted) is neither
 * checked nor counted.  1 when the message is to be counted once
 * stored, 0 when not, -1 (err says why).
 */
static int
put_quota(const struct maildir_put *p, const char *qpath, char *err,
    size_t errsz)
{
	struct maildir_quota q;
	struct maildir_need n;
	int		 r = 0, e;

	memset(&n, 0, sizeof(n));
	n.size = p->size;
	if ((p->unquoted == NULL || p->folder == NULL ||
	    strcmp(p->folder, p->unquoted) != 0) &&
	    (r = maildir_quota_read(AT_FDCWD, qpath, &q, err, errsz)) == -1)
		return -1;
	if (r == 1 && quota_stale(&q, p->size, time(NULL)) &&
	    maildir_quota_recount(p->root, p->unquoted, &q, err, errsz) == -1)
		return -1;
	err[0] = '\0';
	if (r == 1) {
		n.quota_bytes = q.qs;
		n.quota_count = q.qc;
		(void)quota_over(&q, p->size, 1, &n.over_bytes, &n.over_count);
	}
	if (p->room != NULL && p->room->make(p->room->arg, &n) == -1) {
		e = errno;
		snprintf(err, errsz, "making room in %s: %s", p->root,
		    strerror(e));
		errno = e;
		return -1;
	}
	if (r == 0)
		return 0;
	/* what was freed is subtracted in maildirsize by now */
	q.us -= n.freed_bytes;
	q.uc -= n.freed_count;
	if (!quota_over(&q, p->size, 1, &n.over_bytes, &n.over_count))
		return 1;
	/* as maildrop: over when the message would take it past either */
	snprintf(err, errsz, "maildir over quota (%lld of %lld bytes, "
	    "%lld of %lld messages used, this message %lld bytes)",
	    q.us, q.qs, q.uc, q.qc, (long long)p->size);
	errno = EDQUOT;
	return -1;
}

/* "WHAT PATH: strerror" into err; errno kept; -1. */
static int
put_failed(char *err, size_t errsz, const char *what, const char *path)
{
	int	 e = errno;

	snprintf(err, errsz, "%s %s: %s", what, path, strerror(e));
	errno = e;
	return -1;
}

/* What maildir_put() works with, allocated before the tmp/ file exists. */
struct put {
	char		 uniq[1024];
	char		*dir;		/* root[/folder] */
	char		*tmp;		/* dir/tmp/uniq */
	char		*newdir;	/* dir/new */
	char		*newname;	/* uniq,S=size */
	size_t		 newsz;
	char		*qpath;		/* root/maildirsize */
	int		 counted;	/* in maildirsize once stored */
	int		 fd;
};

/*
 * Create: a unique name in tmp/, made with O_EXCL; on EEXIST a new name,
 * 5 times at most.  Every path is allocated first: out of memory once
 * the tmp/ file exists would take the xmalloc() way out.  0 or -1.
 */
static int
put_create(struct put *s, char *err, size_t errsz)
{
	int	 tries;

	s->fd = -1;
	for (tries = 0; tries < 5; tries++) {
		free(s->tmp);
		free(s->newname);
		s->tmp = s->newname = NULL;
		if (maildir_unique(s->uniq, sizeof(s->uniq)) == -1) {
			snprintf(err, errsz, "%s: path too long", s->dir);
			errno = ENAMETOOLONG;
			return -1;
		}
		s->tmp = xstrjoin(s->dir, "/tmp/", s->uniq, (char *)NULL);
		/* "," "S=" and the size to come */
		s->newsz = strlen(s->uniq) + 32;
		s->newname = xmalloc(s->newsz);
		if ((s->fd = maildir_tmp_open(AT_FDCWD, s->tmp)) != -1 ||
		    errno != EEXIST)
			break;
	}
	if (s->fd == -1)
		return put_failed(err, errsz, "create", s->tmp);
	return 0;
}

/* Write: every byte, fsync, the size, close checked.  0 or -1. */
static int
put_write(struct put *s, struct maildir_put *p, char *err, size_t errsz)
{
	int	 fd = s->fd;

	s->fd = -1;
	if (maildir_tmp_fill(fd, p->iov, p->niov, p->tail_fd) == -1) {
		put_failed(err, errsz, "write", s->tmp);
		close(fd);
		return -1;
	}
	if (maildir_tmp_seal(fd, &p->size) == -1)
		return put_failed(err, errsz, "fsync", s->tmp);
	return 0;
}

/* Publish: "uniq,S=size" in new/, then counted in maildirsize.  0/-1. */
static int
put_publish(struct put *s, struct maildir_put *p, char *err, size_t errsz)
{
	int	 nfd, e;

	if (maildir_name_sized(s->newname, s->newsz, s->uniq,
	    (unsigned long long)p->size) == 0) {
		snprintf(err, errsz, "%s: name too long", s->tmp);
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((nfd = open(s->newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || maildir_publish(AT_FDCWD, s->tmp, nfd, s->newname,
	    MAILDIR_UNIQUE) == -1) {
		e = errno;
		snprintf(err, errsz, "%s %s/%s: %s", nfd == -1 ? "open" :
		    "link", s->newdir, s->newname, strerror(e));
		if (nfd != -1)
			close(nfd);
		errno = e;
		return -1;
	}
	close(nfd);
	/* stored: a failure to count costs the count, not the message */
	if (s->counted &&
	    maildir_size_add(AT_FDCWD, s->qpath, (long long)p->size, 1) == -1)
		snprintf(err, errsz, "%s not updated: %s", s->qpath,
		    strerror(errno));
	return 0;
}

/*
 * Deliver the concatenation of p->iov[], then the rest of p->tail_fd,
 * into p->root (p->folder NULL: the inbox) by the Maildir protocol:
 * create, write, quota, publish, each a step above.  With a maildirsize
 * in root the Maildir++ quota holds (p->room may make room first; it is
 * asked also without one) and the message is counted once stored.  Returns 0 with p->size, and err a
 * note for the log if maildirsize could not be updated (else ""); or -1
 * (err says why, errno is kept: EDQUOT over quota).  Once it returned 0,
 * or once maildir_abort_inflight() says so, the message is in new/ and
 * on disk.
 */
int
maildir_put(struct maildir_put *p, char *err, size_t errsz)
{
	struct put	 s;
	int		 rc = -1, e;

	err[0] = '\0';
	if (maildir_ensure(p->root, p->folder, err, errsz) == -1)
		return -1;
	memset(&s, 0, sizeof(s));
	s.dir = xstrjoin(p->root, p->folder ? "/" : "", p->folder ?
	    p->folder : "", (char *)NULL);
	s.newdir = xstrjoin(s.dir, "/new", (char *)NULL);
	s.qpath = xstrjoin(p->root, "/maildirsize", (char *)NULL);
	if (put_create(&s, err, errsz) == -1)
		goto out;
	if (put_write(&s, p, err, errsz) == -1 ||
	    (s.counted = put_quota(p, s.qpath, err, errsz)) == -1 ||
	    put_publish(&s, p, err, errsz) == -1) {
		maildir_tmp_drop(AT_FDCWD, s.tmp);
		goto out;
	}
	rc = 0;
out:
	e = errno;
	free(s.qpath);
	free(s.newname);
	free(s.newdir);
	free(s.tmp);
	free(s.dir);
	errno = e;
	return rc;
}

/*
 * The one rule of every command for a folder that is a symbolic link (a
 * .Junk on another disk): followed only when the link (lnk, its lstat)
 * and the directory it names (target) both belong to the owner of the
 * maildir (root).  NULL when it may be used, else why not.
 */
const char *
maildir_link_refused(const struct stat *root, const struct stat *lnk,
    const struct stat *target)
{
	if (!S_ISLNK(lnk->st_mode))
		return NULL;
	if (lnk->st_uid != root->st_uid)
		return "a symbolic link of another owner than the maildir's, "
		    "refused";
	if (target != NULL && target->st_uid != root->st_uid)
		return "a symbolic link to a directory of another owner than "
		    "the maildir's, refused";
	return NULL;
}

/* The folder root/folder may be used (maildir_link_refused()).  0/-1. */
static int
folder_allowed(const char *root, const char *dir, char *err, size_t errsz)
{
	struct stat	 rst, lst, tst;
	const char	*why;

	if (lstat(dir, &lst) == -1 || !S_ISLNK(lst.st_mode))
		return 0;	/* not a link: the rest says what is wrong */
	if (stat(root, &rst) == -1 || stat(dir, &tst) == -1)
		return 0;
	if ((why = maildir_link_refused(&rst, &lst, &tst)) == NULL)
		return 0;
	snprintf(err, errsz, "%s: %s", dir, why);
	errno = EPERM;
	return -1;
}

/* ",S=<bytes>" in the unique part of a name (before ":"): 1 and *v_r. */
int
maildir_name_sized_as(const char *name, unsigned long long *v_r)
{
	const char		*p, *end = strchr(name, ':');
	unsigned long long	 v;

	if (end == NULL)
		end = name + strlen(name);
	for (p = name; p + 3 < end; p++) {
		if (p[0] != ',' || p[1] != 'S' || p[2] != '=' ||
		    p[3] < '0' || p[3] > '9')
			continue;
		for (v = 0, p += 3; p < end && *p >= '0' && *p <= '9'; p++) {
			if (v > (ULLONG_MAX - 9) / 10)
				return 0;
			v = v * 10 + (unsigned long long)(*p - '0');
		}
		if (p != end && *p != ',')
			return 0;
		*v_r = v;
		return 1;
	}
	return 0;
}

/*
 * The size the quota counted: ",S=<bytes>" in the unique part of the name
 * (Maildir++, written by Courier, Dovecot, maildrop and backstop), else
 * the length.
 */
unsigned long long
maildir_name_size(const char *name, const struct stat *st)
{
	unsigned long long	 v;

	if (maildir_name_sized_as(name, &v))
		return v;
	return st->st_size > 0 ? (unsigned long long)st->st_size : 0;
}

/*
 * The time in a name that maildir_unique() gave:
 * "<sec>.M<usec>P<pid>Q<n>R<16 hex>.<host>", then perhaps ",S=..." and
 * ":2,FLAGS".  Returns 0 with the seconds, or -1 for any other name.
 */
int
maildir_name_time(const char *name, time_t *t_r)
{
	const char		*p = name;
	unsigned long long	 v = 0;
	int			 i;
	static const char	 tags[] = "MPQ";

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 100000000000ULL)
			return -1;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (*p++ != '.')
		return -1;
	for (i = 0; tags[i] != '\0'; i++) {
		if (*p++ != tags[i] || *p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p++ != 'R')
		return -1;
	for (i = 0; i < 16; i++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	if (*p != '.' || p[1] == '\0')
		return -1;
	*t_r = (time_t)v;
	return 0;
}
