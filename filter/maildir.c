/*
 * Maildir delivery, after qmail-local.c, Postfix local/maildir.c and
 * Dovecot's maildir-save.c: a unique name in tmp/, every byte written,
 * fsync, close checked, link() into new/ (rename() where the filesystem
 * has no hard links), the tmp name always unlinked, then fsync of new/.
 * Missing maildirs are created only after ENOENT, and a Maildir++
 * subfolder gets its maildirfolder file.  Exit codes are not decided here:
 * functions return 0 or -1 with errno and a message for the caller.
 */
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
#include <unistd.h>

#include "backstop.h"
#include "maildir.h"
#include "util.h"

/*
 * For deliver's signal handlers: the tmp file of a delivery in progress,
 * and whether a message is stored (in new/, synced); see hold_signals().
 */
const char *volatile maildir_tmp_inflight;
volatile sig_atomic_t maildir_stored;

static int	deliver_file(const char *, const char *, const struct slice *,
		    size_t, int, int, char *, size_t);

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
 * the link into new/ to the end (so that a message once in new/ is neither
 * removed nor reported as a failure: that would deliver it twice).
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
 * Maildir++ quota (maildirquota(7), as maildrop and deliverquota keep it):
 * root/maildirsize (path) covers the main maildir and all its folders.  Its
 * first line is the quota, "NNNNS,MMMC" (bytes, messages; either may be
 * missing), every further line "BYTES COUNT" (negative for removals).
 * With *fd_r open on the file, 1 when adding size bytes and one message
 * would go over (err says by how much), 0 when not, -1 on error; with no
 * maildirsize, 0 and *fd_r -1.
 */
#define QUOTA_READ	(64 * 1024)	/* bytes of maildirsize read */

static int
quota_check(const char *path, off_t size, int *fd_r, char *err,
    size_t errsz)
{
	char		*buf, *p, *end, *nl;
	long long	 qs = 0, qc = 0, us = 0, uc = 0, a, b;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, first = 1, e;

	*fd_r = -1;
	if ((fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "open %s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * A maildirsize past 5120 bytes is due for recalculation (which
	 * backstop leaves to the IMAP server); 64 KiB are plenty.  malloc(),
	 * not xmalloc(): the message is in tmp/ by now, and running out of
	 * memory must take the way that removes it.
	 */
	if ((buf = malloc(QUOTA_READ)) == NULL) {
		e = errno;
		snprintf(err, errsz, "read %s: out of memory", path);
		close(fd);
		errno = e;
		return -1;
	}
	while (len < QUOTA_READ - 1 &&
	    (r = read(fd, buf + len, QUOTA_READ - 1 - len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			snprintf(err, errsz, "read %s: %s", path, strerror(e));
			close(fd);
			free(buf);
			errno = e;
			return -1;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	for (p = buf; *p != '\0'; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;	/* a line still being written */
		*nl = '\0';
		if (first) {
			first = 0;
			/* "10000000S,1000C", in any order */
			while (*p != '\0') {
				errno = 0;
				a = strtoll(p, &end, 10);
				if (end == p || errno != 0)
					break;
				if (*end == 'S')
					qs = a;
				else if (*end == 'C')
					qc = a;
				else
					break;
				p = end + 1;
				if (*p == ',')
					p++;
			}
			continue;
		}
		errno = 0;
		a = strtoll(p, &end, 10);
		b = strtoll(end, &end, 10);
		if (errno == 0) {
			us += a;
			uc += b;
		}
	}
	free(buf);
	*fd_r = fd;
	/* as maildrop: over when the message would take it past either */
	if ((qs > 0 && us + (long long)size > qs) || (qc > 0 && uc + 1 > qc)) {
		snprintf(err, errsz, "maildir over quota (%lld of %lld bytes, "
		    "%lld of %lld messages used, this message %lld bytes)",
		    us, qs, uc, qc, (long long)size);
		errno = EDQUOT;
		return 1;
	}
	return 0;
}

/*
 * Deliver the concatenation of iov[], then the rest of tail_fd (-1: none),
 * into root (folder NULL: the inbox) by the Maildir protocol, within the
 * Maildir++ quota of root (see deliver_file).  On success err holds a
 * note for the log if maildirsize could not be updated (else "").
 * Returns 0 or -1 (err says why, errno is kept: EDQUOT over quota).  Once it returned 0, or once
 * maildir_stored is set, the message is in new/ and on disk.
 */
int
maildir_deliver_fd(const char *root, const char *folder,
    const struct slice *iov, size_t niov, int tail_fd, char *err,
    size_t errsz)
{
	return deliver_file(root, folder, iov, niov, tail_fd, 1, err, errsz);
}

/*
 * The Maildir protocol.  The name in new/ is the tmp/ name plus
 * ",S=<size>" (Maildir++: the IMAP server reads the size from the name).
 * With quota set and a maildirsize in root, the message is refused over
 * quota (its tmp/ file removed) and its size appended to maildirsize once
 * it is stored, in a single O_APPEND write as maildrop does.
 */
static int
deliver_file(const char *root, const char *folder, const struct slice *iov,
    size_t niov, int tail_fd, int quota, char *err, size_t errsz)
{
	char		 uniq[1024], line[64];
	char		*dir, *tmp = NULL, *newp = NULL, *newdir, *qpath;
	struct stat	 st;
	sigset_t	 old;
	size_t		 newsz = 0;
	int		 fd = -1, qfd = -1, tries, e, n, held = 0, rc = -1;

	err[0] = '\0';
	if (maildir_ensure(root, folder, err, errsz) == -1)
		return -1;
	/*
	 * Every path is allocated before the tmp/ file exists: out of memory
	 * after it (xmalloc exits 75) would leave it there.
	 */
	dir = xstrjoin(root, folder ? "/" : "", folder ? folder : "",
	    (char *)NULL);
	newdir = xstrjoin(dir, "/new", (char *)NULL);
	qpath = quota ? xstrjoin(root, "/maildirsize", (char *)NULL) : NULL;
	hold_signals(&old);
	for (tries = 0; tries < 5; tries++) {
		free(tmp);
		free(newp);
		tmp = newp = NULL;
		if (maildir_unique(uniq, sizeof(uniq)) == -1) {
			release_signals(&old);
			goto toolong;
		}
		tmp = xstrjoin(dir, "/tmp/", uniq, (char *)NULL);
		/* new/ name: "," "S=" and the size to come */
		newsz = strlen(newdir) + 1 + strlen(uniq) + 32;
		newp = xmalloc(newsz);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		e = errno;
		release_signals(&old);
		snprintf(err, errsz, "create %s: %s", tmp, strerror(e));
		errno = e;
		goto out;
	}
	/* a deadline or a signal from here on removes it (deliver.c) */
	maildir_tmp_inflight = tmp;
	release_signals(&old);
	if (write_iov(fd, iov, niov) == -1) {
		snprintf(err, errsz, "write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (tail_fd >= 0 && copy_fd(fd, tail_fd) == -1) {
		snprintf(err, errsz, "copy of the message to %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (fsync(fd) == -1) {
		snprintf(err, errsz, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsz, "fstat %s: %s", tmp, strerror(errno));
		goto fail;
	}
	e = close(fd);
	fd = -1;
	if (e == -1) {
		snprintf(err, errsz, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (qpath != NULL && quota_check(qpath, st.st_size, &qfd, err,
	    errsz) != 0)
		goto fail;
	snprintf(newp, newsz, "%s/%s,S=%lld", newdir, uniq,
	    (long long)st.st_size);
	hold_signals(&old);
	held = 1;
	if (link(tmp, newp) == -1) {
		if (errno != EXDEV && errno != EPERM && errno != ENOSYS &&
		    errno != EOPNOTSUPP) {
			snprintf(err, errsz, "link %s: %s", newp,
			    strerror(errno));
			goto fail;
		}
		/*
		 * No hard links here: a rename that cannot replace a file
		 * of the same name; where the filesystem cannot promise that
		 * (EINVAL), a plain rename(), which could replace, but the
		 * name is unique in new/ as it was in tmp/.
		 */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, newp,
		    RENAME_NOREPLACE) == -1 && (errno != EINVAL ||
		    rename(tmp, newp) == -1)) {
			snprintf(err, errsz, "rename %s: %s", newp,
			    strerror(errno));
			goto fail;
		}
	} else
		unlink(tmp);
	maildir_tmp_inflight = NULL;
	if (fsync_dir(newdir) == -1) {
		/* the file is in new/ but the directory entry may not be on
		 * disk: take it back and let the MTA retry */
		e = errno;
		snprintf(err, errsz, "fsync %s: %s", newdir, strerror(e));
		unlink(newp);
		if (qfd != -1)
			close(qfd);
		release_signals(&old);
		errno = e;
		goto out;
	}
	/* stored: the signal handlers now leave it and its exit code be */
	maildir_stored = 1;
	release_signals(&old);
	rc = 0;
	if (qfd != -1) {
		/* one write(), O_APPEND: concurrent deliveries never mix
		 * their lines; a failure here costs the count, not mail */
		n = snprintf(line, sizeof(line), "%lld 1\n",
		    (long long)st.st_size);
		if (write(qfd, line, (size_t)n) != n)
			snprintf(err, errsz, "%s/maildirsize not updated: %s",
			    root, strerror(errno));
		if (close(qfd) == -1 && err[0] == '\0')
			snprintf(err, errsz, "%s/maildirsize not updated: %s",
			    root, strerror(errno));
	}
	goto out;

fail:
	e = errno;
	if (fd != -1)
		close(fd);
	if (qfd != -1)
		close(qfd);
	unlink(tmp);
	maildir_tmp_inflight = NULL;
	if (held)
		release_signals(&old);
	errno = e;
	goto out;
toolong:
	errno = ENAMETOOLONG;
	snprintf(err, errsz, "%s: path too long", dir);
out:
	e = errno;
	free(qpath);
	free(newdir);
	free(newp);
	free(tmp);
	free(dir);
	errno = e;
	return rc;
}
