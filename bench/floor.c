/*
 * The floor: what any safe Maildir delivery pays, and nothing more.
 *
 *	floor MAILDIR < message
 *
 * Copy stdin into MAILDIR/tmp/<unique>, fsync the file, rename() it into
 * MAILDIR/new/ and fsync new/ -- the Maildir protocol with every fsync
 * that backstop also does (qmail-local.c, Postfix local/maildir.c), and no
 * parsing, no rules, no syslog, no child.  It exists only to be the
 * denominator of bench/run.sh's ratios; exit 75 on any failure.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static int
fsync_dir(const char *path)
{
	int	 fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

int
main(int argc, char **argv)
{
	char		 buf[65536], tmp[PATH_MAX], newp[PATH_MAX], newd[PATH_MAX];
	struct timeval	 tv;
	ssize_t		 r, w, off;
	int		 fd;

	if (argc != 2) {
		fprintf(stderr, "usage: floor MAILDIR < message\n");
		return 64;
	}
	gettimeofday(&tv, NULL);
	if (snprintf(tmp, sizeof(tmp), "%s/tmp/%lld.M%ldP%ld.floor", argv[1],
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid()) >=
	    (int)sizeof(tmp) ||
	    snprintf(newp, sizeof(newp), "%s/new/%lld.M%ldP%ld.floor",
	    argv[1], (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid()) >=
	    (int)sizeof(newp) ||
	    snprintf(newd, sizeof(newd), "%s/new", argv[1]) >=
	    (int)sizeof(newd))
		return 75;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		perror(tmp);
		return 75;
	}
	while ((r = read(0, buf, sizeof(buf))) != 0) {
		if (r == -1)
			goto fail;
		for (off = 0; off < r; off += w)
			if ((w = write(fd, buf + off, (size_t)(r - off))) == -1)
				goto fail;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, newp) == -1 || fsync_dir(newd) == -1)
		goto fail;
	return 0;
fail:
	perror("floor");
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return 75;
}
