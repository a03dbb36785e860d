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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backstop.h"

/* The tmp file of a delivery in progress, for the deadline handler. */
char maildir_tmp_inflight[PATH_MAX];

const char *
maildir_home(void)
{
	const char	*h = getenv("HOME");
	struct passwd	*pw;

	static char	 dir[PATH_MAX];
	FILE		*f;
	uid_t		 uid = getuid();

	if (h != NULL && *h == '/')
		return h;
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
		    *pw->pw_dir == '/' && strlen(pw->pw_dir) < sizeof(dir)) {
			snprintf(dir, sizeof(dir), "%s", pw->pw_dir);
			fclose(f);
			return dir;
		}
	fclose(f);
	return NULL;
}

static int
fsync_dir(const char *path)
{
	int	 fd, rc, e;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	/* some filesystems cannot fsync a directory; that is not a loss */
	if (rc == -1 && (e == EINVAL || e == ENOTSUP))
		rc = 0;
	errno = e;
	return rc;
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
	char		 dir[PATH_MAX], t[PATH_MAX], parent[PATH_MAX];
	struct stat	 st;
	char		*slash;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", root,
	    folder ? "/" : "", folder ? folder : "") >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		snprintf(err, errsz, "%s: path too long", root);
		return -1;
	}
	errno = 0;
	if ((size_t)snprintf(t, sizeof(t), "%s/new", dir) >= sizeof(t))
		goto toolong;
	if (stat(t, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(t, sizeof(t), "%s/tmp", dir) >= sizeof(t))
			goto toolong;
		if (stat(t, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	if (errno != ENOENT && errno != 0) {
		snprintf(err, errsz, "%s: %s", t, strerror(errno));
		return -1;
	}
	if (folder != NULL && maildir_ensure(root, NULL, err, errsz) == -1)
		return -1;
	snprintf(parent, sizeof(parent), "%s", folder ? root : dir);
	if (folder == NULL && (slash = strrchr(parent, '/')) != NULL) {
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return make_maildir(dir, folder != NULL, parent, err, errsz);
toolong:
	errno = ENAMETOOLONG;
	snprintf(err, errsz, "%s: path too long", dir);
	return -1;
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

int
maildir_deliver(const char *root, const char *folder, const struct slice *iov,
    size_t niov, char *path_r, size_t pathsz, char *err, size_t errsz)
{
	return maildir_deliver_fd(root, folder, iov, niov, -1, path_r, pathsz,
	    err, errsz);
}

/*
 * Deliver the concatenation of iov[], then the rest of tail_fd (-1: none),
 * into root (folder NULL: the inbox) by the Maildir protocol.  On success
 * the path of the new file is put in path_r.  Returns 0 or -1 (err says
 * why, errno is kept).
 */
int
maildir_deliver_fd(const char *root, const char *folder,
    const struct slice *iov, size_t niov, int tail_fd, char *path_r,
    size_t pathsz, char *err, size_t errsz)
{
	char	 dir[PATH_MAX], uniq[1024], tmp[PATH_MAX], newp[PATH_MAX];
	char	 newdir[PATH_MAX];
	int	 fd = -1, tries, e;

	if (maildir_ensure(root, folder, err, errsz) == -1)
		return -1;
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", root,
	    folder ? "/" : "", folder ? folder : "") >= sizeof(dir))
		goto toolong;
	for (tries = 0; tries < 5; tries++) {
		if (maildir_unique(uniq, sizeof(uniq)) == -1 ||
		    (size_t)snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir,
		    uniq) >= sizeof(tmp))
			goto toolong;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		snprintf(err, errsz, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	snprintf(maildir_tmp_inflight, sizeof(maildir_tmp_inflight), "%s",
	    tmp);
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
	e = close(fd);
	fd = -1;
	if (e == -1) {
		snprintf(err, errsz, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((size_t)snprintf(newp, sizeof(newp), "%s/new/%s", dir, uniq) >=
	    sizeof(newp) || (size_t)snprintf(newdir, sizeof(newdir),
	    "%s/new", dir) >= sizeof(newdir))
		goto toolong_unlink;
	if (link(tmp, newp) == -1) {
		if (errno != EXDEV && errno != EPERM && errno != ENOSYS &&
		    errno != EOPNOTSUPP) {
			snprintf(err, errsz, "link %s: %s", newp,
			    strerror(errno));
			goto fail;
		}
		/* no hard links here: rename() never replaces, the name is
		 * unique in new/ as it was in tmp/ */
		if (rename(tmp, newp) == -1) {
			snprintf(err, errsz, "rename %s: %s", newp,
			    strerror(errno));
			goto fail;
		}
	} else
		unlink(tmp);
	maildir_tmp_inflight[0] = '\0';
	if (fsync_dir(newdir) == -1) {
		/* the file is in new/ but the directory entry may not be on
		 * disk: take it back and let the MTA retry */
		e = errno;
		snprintf(err, errsz, "fsync %s: %s", newdir, strerror(e));
		unlink(newp);
		errno = e;
		return -1;
	}
	if (path_r != NULL)
		snprintf(path_r, pathsz, "%s", newp);
	return 0;

toolong_unlink:
	errno = ENAMETOOLONG;
	snprintf(err, errsz, "%s: path too long", dir);
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	maildir_tmp_inflight[0] = '\0';
	errno = e;
	return -1;
toolong:
	errno = ENAMETOOLONG;
	snprintf(err, errsz, "%s: path too long", root);
	return -1;
}
