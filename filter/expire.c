/*
 * backstop expire, junk and restore: the Junk folder's life cycle.
 *
 * The Junk folder is also the mail client's own spam folder (Dovecot marks
 * .Junk \Junk), so these commands share it with the user and act only on
 * what is theirs.
 *
 * expire removes what backstop filed long enough ago.  It runs unattended
 * from cron, over a tree the mail client changes at the same time, so it
 * is written to be unable to remove anything but old messages of the one
 * Junk folder:
 *  - the folder is opened once, relative to the maildir; it may be a
 *    symbolic link (deliver follows one) only when the link and the
 *    directory it names belong to the maildir's owner.  Its cur/ new/ tmp/
 *    are opened with O_NOFOLLOW, and every later stat, open and unlink is
 *    relative to those directory descriptors, so a symbolic link below
 *    the folder is never followed, and a link that is itself old is at
 *    most removed, never its target;
 *  - only regular files directly in cur/ and new/, never names starting
 *    with a dot (maildir(5): readers skip them);
 *  - by default only what backstop filed: an X-Backstop: field in the top
 *    header block (deliver renames incoming ones to X-Backstop-Incoming,
 *    so the field is backstop's own).  A spam the user moved in over IMAP
 *    has none, and is the user's;
 *  - age is the time the message entered the folder.  For a file that
 *    backstop named, that is the <sec> of its unique name (a flag change
 *    keeps it) and the mtime deliver left; both must say old enough, so
 *    that neither a copy tool resetting mtime to the received date nor a
 *    name kept by a move can make a message expire early.  For any other
 *    file (only with --all, or filed by backstop but renamed by a mail
 *    client) it is the ctime: a rename into the folder sets it, as
 *    Dovecot's autoexpunge counts from the save date.  Never the mtime
 *    alone (an IMAP move keeps the received date there) and never the
 *    sender's Date: field (fdm mail-time.c is the example not to follow);
 *  - an age of 0 is never a default: expire_after: 0 means never, and
 *    --older-than 0 needs --force;
 *  - tmp/ files are removed only when untouched (neither read nor written)
 *    for 36 hours, the rule of maildir(5) for abandoned deliveries; a
 *    claim of an interrupted restore is put back instead;
 *  - a file that vanished between readdir and unlink was moved by the mail
 *    client or another expire: not an error, and not counted, so that two
 *    runs at once subtract each message from the quota once;
 *  - Maildir++ quota: removing messages appends "-bytes -count" to the
 *    maildir's maildirsize in one write, as the Maildir++ specification
 *    asks of every agent that deletes mail; the size of a message is its
 *    ",S=" name attribute when present (what the quota counted), else its
 *    length.
 *
 * junk lists the folder for a person.  restore moves a message of the
 * Junk folder, and nothing else, back into the inbox: one rename, which
 * claims it (two restores at once cannot both move it) and keeps its
 * name, flags, mtime and the quota as they are.  When the folder is on
 * another filesystem, the file is first claimed by a rename into the Junk
 * folder's tmp/, then copied by the Maildir protocol, then the claim is
 * removed.  File names are printed with path_escape() and read back by
 * restore --stdin.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "commands.h"
#include "hdr.h"
#include "maildir.h"
#include "opts.h"
#include "rules.h"
#include "util.h"

#define EXPIRE_TMP_SECS	(36L * 3600)	/* maildir(5): stale tmp/ files */
#define CLAIM_STALE_SECS 3600L		/* a restore claim left by a crash */
#define CLAIM_PREFIX	"restoring."	/* Junk tmp/ name of a restore claim */
#define JUNK_FIELD	200		/* bytes of From/Subject shown */
#define ESCAPED_MAX	(4 * PATH_MAX + 1)	/* path_escape() of a path */

struct entry {
	char		*name;
	struct stat	 st;
	int		 sub;		/* junk: index of cur/ or new/ */
};

struct folder {
	char		 root[PATH_MAX];	/* the maildir, as named */
	char		 path[PATH_MAX];	/* root/.Junk, to show */
	int		 rootfd;
	int		 fd;			/* root/.Junk or -1: absent */
};

struct tally {
	unsigned long long removed, kept, freed;
	unsigned long long qbytes, qcount;	/* for maildirsize */
};

static int	 root_path(const char *, char *, size_t);
static int	 folder_open(struct folder *, const char *, const char *);
static void	 folder_close(struct folder *);
static int	 read_entries(int, const char *, struct entry **, size_t *);
static void	 free_entries(struct entry *, size_t);
static int	 cmp_mtime(const void *, const void *);
static int	 cmp_name(const void *, const void *);
static unsigned long long name_size(const char *, const struct stat *);
static int	 name_time(const char *, time_t *);
static int	 read_header(int, char **, size_t *);
static int	 filed_by_us(int, const char *, const struct stat *, int *);
static int	 expire_sub(struct folder *, const char *, time_t, long, int,
		    int, struct tally *);
static void	 recover_claim(struct folder *, int, const char *, time_t,
		    const struct stat *);
static int	 quota_update(struct folder *, const struct tally *);
static void	 junk_line(int, const char *, const struct entry *);
static void	 field(struct slice, char *, size_t);
static void	 why(const char *, char *, size_t, char *, size_t);
static int	 load_rules(struct rules **, const char *);

/* MAILDIR from the command line, else $HOME/Maildir; no trailing '/'. */
static int
root_path(const char *arg, char *out, size_t outsz)
{
	const char	*home;
	size_t		 n;

	if (arg != NULL) {
		if (*arg == '\0') {
			warnx_("empty MAILDIR");
			return -1;
		}
		if ((size_t)snprintf(out, outsz, "%s", arg) >= outsz) {
			warnx_("%s: path too long", arg);
			return -1;
		}
	} else {
		if ((home = maildir_home()) == NULL) {
			warnx_("no home directory: set HOME or name the "
			    "maildir");
			return -1;
		}
		if ((size_t)snprintf(out, outsz, "%s/Maildir", home) >=
		    outsz) {
			warnx_("HOME too long");
			return -1;
		}
	}
	while ((n = strlen(out)) > 1 && out[n - 1] == '/')
		out[n - 1] = '\0';
	return 0;
}

static int
load_rules(struct rules **r_r, const char *file)
{
	char	 err[1024];

	*r_r = rules_new(NULL);
	if (rules_load_default(*r_r, file, err, sizeof(err)) == -1) {
		warnx_("%s", err);
		rules_free(*r_r);
		*r_r = NULL;
		return -1;
	}
	return 0;
}

/*
 * Open the maildir and its Junk folder.  The maildir itself may be a
 * symbolic link (the user named it, or $HOME/Maildir points to a mail
 * disk).  So may the Junk folder, as deliver follows one (a .Junk on
 * another disk), but only when the link and the directory it names both
 * belong to the owner of the maildir: the one rule of every command.
 * Nothing below the folder is followed.  A missing Junk folder is not an
 * error: f->fd is then -1.  Returns 0 or -1 (said on stderr).
 */
static int
folder_open(struct folder *f, const char *root, const char *junk)
{
	struct stat	 st, lst, rst;
	const char	*why = NULL;

	f->rootfd = f->fd = -1;
	/* rules.c allows only one name; check again, this is what keeps
	 * expire inside the folder whatever a rule file says */
	if (junk == NULL || junk[0] != '.' || strchr(junk, '/') != NULL ||
	    strstr(junk, "..") != NULL || strcmp(junk, ".") == 0) {
		warnx_("junk folder '%s' is not one Maildir++ folder name, "
		    "refused", junk ? junk : "(null)");
		return -1;
	}
	if ((size_t)snprintf(f->root, sizeof(f->root), "%s", root) >=
	    sizeof(f->root) || (size_t)snprintf(f->path, sizeof(f->path),
	    "%s/%s", root, junk) >= sizeof(f->path)) {
		warnx_("%s: path too long", root);
		return -1;
	}
	if ((f->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fstat(f->rootfd, &rst) == -1) {
		warnx_("maildir %s: %s", root, strerror(errno));
		folder_close(f);
		return -1;
	}
	if (fstatat(f->rootfd, junk, &lst, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	if (S_ISLNK(lst.st_mode) && lst.st_uid != rst.st_uid) {
		why = "a symbolic link of another owner than the maildir's, "
		    "refused";
		goto fail;
	}
	f->fd = openat(f->rootfd, junk, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (S_ISLNK(lst.st_mode) ? 0 : O_NOFOLLOW));
	if (f->fd == -1 && errno == ENOENT && !S_ISLNK(lst.st_mode))
		return 0;	/* removed meanwhile */
	if (f->fd == -1 || fstat(f->fd, &st) == -1)
		goto fail;
	if (S_ISLNK(lst.st_mode) && st.st_uid != rst.st_uid) {
		why = "a symbolic link to a directory of another owner than "
		    "the maildir's, refused";
		goto fail;
	}
	return 0;
fail:
	warnx_("%s: %s", f->path, why != NULL ? why : strerror(errno));
	folder_close(f);
	return -1;
}

static void
folder_close(struct folder *f)
{
	if (f->fd != -1)
		close(f->fd);
	if (f->rootfd != -1)
		close(f->rootfd);
	f->fd = f->rootfd = -1;
}

static void
free_entries(struct entry *e, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/*
 * The entries of directory dfd (shown as label), dot names skipped, each
 * with its lstat; entries that vanish meanwhile are left out.  Names are
 * read to the end before anything is removed, so that unlinking cannot
 * make readdir skip an entry.  Returns 0 or -1 (said on stderr).
 */
static int
read_entries(int dfd, const char *label, struct entry **ents_r, size_t *n_r)
{
	DIR		*d;
	struct dirent	*de;
	struct entry	*ents = NULL;
	size_t		 n = 0, cap = 0, i, o;
	int		 fd, e;

	*ents_r = NULL;
	*n_r = 0;
	if ((fd = dup(dfd)) == -1) {
		warnx_("%s: %s", label, strerror(errno));
		return -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		warnx_("%s: %s", label, strerror(e));
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
		ents[n].name = xstrdup(de->d_name);
		n++;
	}
	e = errno;
	closedir(d);
	if (e != 0) {
		warnx_("%s: %s", label, strerror(e));
		free_entries(ents, n);
		return -1;
	}
	for (i = o = 0; i < n; i++) {
		if (fstatat(dfd, ents[i].name, &ents[i].st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)	/* ENOENT: moved away */
				warnx_("%s/%s: %s", label, ents[i].name,
				    strerror(errno));
			free(ents[i].name);
			continue;
		}
		ents[o++] = ents[i];
	}
	*ents_r = ents;
	*n_r = o;
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

static int
cmp_mtime(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->st.st_mtime != y->st.st_mtime)
		return x->st.st_mtime < y->st.st_mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The size the quota counted: ",S=<bytes>" in the unique part of the name
 * (Maildir++, written by Courier, Dovecot and maildrop), else the length.
 */
static unsigned long long
name_size(const char *name, const struct stat *st)
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
				goto length;
			v = v * 10 + (unsigned long long)(*p - '0');
		}
		if (p == end || *p == ',')
			return v;
		break;
	}
length:
	return st->st_size > 0 ? (unsigned long long)st->st_size : 0;
}

/*
 * The filing time in a name that backstop gave (maildir_unique()):
 * "<sec>.M<usec>P<pid>Q<n>R<16 hex>.<host>", then perhaps ",S=..." and
 * ":2,FLAGS".  Returns 0 with the seconds, or -1 for any other name.
 */
static int
name_time(const char *name, time_t *t_r)
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

/*
 * The top header block of the file open on fd, read until its end or
 * LIM_HEADER_BYTES.  Returns 0 (a buffer to free) or -1.
 */
static int
read_header(int fd, char **buf_r, size_t *len_r)
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
static int
filed_by_us(int dfd, const char *name, const struct stat *st, int *ours_r)
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
	if (read_header(fd, &buf, &len) == -1) {
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
 * A claim of a restore in Junk tmp/ ("restoring.cur.NAME") that is older
 * than any restore takes: the restore was interrupted.  If the inbox has
 * NAME, the message was published and the claim is a leftover; else it
 * goes back into the Junk folder under its own name.
 */
static void
recover_claim(struct folder *f, int tmpfd, const char *claim, time_t now,
    const struct stat *st)
{
	const char	*sub = claim + sizeof(CLAIM_PREFIX) - 1, *name;
	char		 in[PATH_MAX], shown[ESCAPED_MAX];
	struct stat	 ist;
	int		 dfd;

	if (now - st->st_ctime < CLAIM_STALE_SECS ||
	    (strncmp(sub, "cur.", 4) != 0 && strncmp(sub, "new.", 4) != 0))
		return;
	name = sub + 4;
	if (*name == '\0' || *name == '.')
		return;
	path_escape(shown, sizeof(shown), name, strlen(name));
	if ((size_t)snprintf(in, sizeof(in), "%.3s/%s", sub, name) >=
	    sizeof(in))
		return;
	if (fstatat(f->rootfd, in, &ist, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(ist.st_mode)) {
		if (unlinkat(tmpfd, claim, 0) == 0)
			log_msg(LOG_INFO, "expire: restored %s was in the "
			    "inbox, its claim removed", shown);
		return;
	}
	if ((dfd = openat(f->fd, sub[0] == 'c' ? "cur" : "new", O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	if (renameat2(tmpfd, claim, dfd, name, RENAME_NOREPLACE) == 0) {
		warnx_("%s/%.3s/%s: an interrupted restore, put back", f->path,
		    sub, shown);
		log_msg(LOG_WARNING, "expire: interrupted restore of %s put "
		    "back into %s", shown, f->path);
	}
	close(dfd);
}

/*
 * Expire one of cur/ new/ tmp/ of the open Junk folder.  Returns 0, or -1
 * when something could not be done (said on stderr; the rest goes on).
 */
static int
expire_sub(struct folder *f, const char *sub, time_t now, long maxage,
    int all, int dry, struct tally *t)
{
	struct entry		*ents;
	size_t			 n, i;
	char			 label[ESCAPED_MAX + 8], shown[ESCAPED_MAX];
	int			 dfd, rc = 0, tmp = strcmp(sub, "tmp") == 0, ours;
	time_t			 touched, filed;
	unsigned long long	 sz;
	size_t			 k;

	/* label: the directory as shown, escaped (room kept for "/sub") */
	path_escape(label, sizeof(label) - 8, f->path, strlen(f->path));
	k = strlen(label);
	snprintf(label + k, sizeof(label) - k, "/%s", sub);
	if ((dfd = openat(f->fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		warnx_("%s: %s", label, strerror(errno));
		return -1;
	}
	if (read_entries(dfd, label, &ents, &n) == -1) {
		close(dfd);
		return -1;
	}
	if (n > 1)
		qsort(ents, n, sizeof(*ents), cmp_name);
	for (i = 0; i < n; i++) {
		/* a link, a directory, a fifo: not a message, not ours */
		if (!S_ISREG(ents[i].st.st_mode))
			continue;
		if (tmp) {
			if (strncmp(ents[i].name, CLAIM_PREFIX,
			    sizeof(CLAIM_PREFIX) - 1) == 0) {
				if (!dry)
					recover_claim(f, dfd, ents[i].name,
					    now, &ents[i].st);
				continue;
			}
			/* an abandoned delivery: neither written (mtime) nor
			 * read (atime) for 36 hours; a delivery in progress
			 * keeps writing.  ctime cannot be set back, so it
			 * would make the rule untestable, and it says no
			 * more than mtime here. */
			touched = ents[i].st.st_mtime > ents[i].st.st_atime ?
			    ents[i].st.st_mtime : ents[i].st.st_atime;
			if (now - touched < EXPIRE_TMP_SECS)
				continue;
			sz = ents[i].st.st_size > 0 ?
			    (unsigned long long)ents[i].st.st_size : 0;
		} else {
			if (filed_by_us(dfd, ents[i].name, &ents[i].st,
			    &ours) == -1) {
				if (errno == ENOENT)	/* moved away */
					continue;
				path_escape(shown, sizeof(shown),
				    ents[i].name, strlen(ents[i].name));
				warnx_("%s/%s: %s", label, shown,
				    strerror(errno));
				rc = -1;
				t->kept++;
				continue;
			}
			if (!ours && !all) {	/* the user's: not ours */
				t->kept++;
				continue;
			}
			/* when it entered the folder, see the top of the
			 * file: backstop's name and mtime, the later */
			if (ours && name_time(ents[i].name, &filed) == 0) {
				if (ents[i].st.st_mtime > filed)
					filed = ents[i].st.st_mtime;
			} else
				filed = ents[i].st.st_ctime;
			/* "older than AGE": entered AGE or more ago; a
			 * future time (clock step) is young; a negative
			 * AGE is "never" (expire_after: 0) */
			if (maxage < 0 || filed > now ||
			    now - filed < (time_t)maxage) {
				t->kept++;
				continue;
			}
			sz = name_size(ents[i].name, &ents[i].st);
		}
		path_escape(shown, sizeof(shown), ents[i].name,
		    strlen(ents[i].name));
		if (dry) {
			printf("%s/%s\n", label, shown);
		} else if (unlinkat(dfd, ents[i].name, 0) == -1) {
			/* moved by the mail client, or removed by another
			 * expire, which counts it: not counted twice */
			if (errno == ENOENT)
				continue;
			warnx_("unlink %s/%s: %s", label, shown,
			    strerror(errno));
			rc = -1;
			if (!tmp)
				t->kept++;
			continue;
		}
		t->removed++;
		t->freed += sz;
		if (!tmp) {
			t->qbytes += sz;
			t->qcount++;
		}
	}
	free_entries(ents, n);
	if (close(dfd) == -1) {
		warnx_("%s: %s", label, strerror(errno));
		rc = -1;
	}
	return rc;
}

/*
 * Maildir++ quota: one line "-bytes -count" appended in a single write,
 * only to a maildirsize that exists (no quota, no file: nothing to keep
 * consistent).  It lives in the maildir itself, for all folders.
 */
static int
quota_update(struct folder *f, const struct tally *t)
{
	char		 line[64], last;
	struct stat	 st;
	int		 fd, n;
	ssize_t		 k;

	if (t->qcount == 0)
		return 0;
	fd = openat(f->rootfd, "maildirsize", O_RDWR | O_APPEND |
	    O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		warnx_("%s/maildirsize: %s", f->root, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		warnx_("%s/maildirsize: not a regular file, not updated",
		    f->root);
		close(fd);
		return -1;
	}
	/* a file cut short by a crash must not glue our line to its last */
	n = snprintf(line, sizeof(line), "%s-%llu -%llu\n",
	    st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 &&
	    last != '\n' ? "\n" : "", t->qbytes, t->qcount);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		close(fd);
		return -1;
	}
	do
		k = write(fd, line, (size_t)n);
	while (k == -1 && errno == EINTR);
	if (k != n) {
		warnx_("%s/maildirsize: %s", f->root,
		    k == -1 ? strerror(errno) : "short write");
		close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		warnx_("%s/maildirsize: %s", f->root, strerror(errno));
		return -1;
	}
	return 0;
}

int
cmd_expire(int argc, char **argv)
{
	struct rules	*r;
	struct folder	 f;
	struct tally	 t;
	const char	*rulesfile = NULL, *agearg = NULL;
	char		 root[PATH_MAX], shown[ESCAPED_MAX];
	long		 maxage = 0;
	time_t		 now;
	int		 dry = 0, all = 0, force = 0, rc = EXIT_OK;
	const struct opt own[] = {
		{ 0, "older-than", NULL, &agearg },
		{ 0, "all", &all, NULL },
		{ 0, "force", &force, NULL },
		{ 'n', "dry-run", &dry, NULL },
		{ 0, NULL, NULL, NULL }
	};
	struct opts	 o;

	if (opts_parse(&o, "expire", "r:", own, argc, argv, 0, 1) == -1)
		return o.rc;
	rulesfile = o.rules;
	if (agearg != NULL && parse_age(agearg, &maxage) == -1) {
		warnx_("--older-than: '%s' is not an age such as 30d, 12h or "
		    "2w", agearg);
		return EXIT_USAGE;
	}
	/* an age of 0 empties the folder at once: only when asked twice */
	if (agearg != NULL && maxage == 0 && !force && !dry) {
		warnx_("--older-than %s would remove every message now; add "
		    "--force to mean it", agearg);
		return EXIT_USAGE;
	}
	if (force && agearg == NULL) {
		warnx_("--force goes with --older-than 0");
		return EXIT_USAGE;
	}
	if (root_path(optind < argc ? argv[optind] : NULL, root,
	    sizeof(root)) == -1)
		return EXIT_TEMPFAIL;
	/* the folder name comes from the rules: no rules, no expiry */
	if (load_rules(&r, rulesfile) == -1) {
		warnx_("nothing expired, temporary failure");
		return EXIT_TEMPFAIL;
	}
	/* junk.expire_after: 0 is "never expire" */
	if (agearg == NULL && (maxage = rules_expire_secs(r)) == 0)
		maxage = -1;
	if (folder_open(&f, root, rules_junk_folder(r)) == -1) {
		rules_free(r);
		return EXIT_TEMPFAIL;
	}
	rules_free(r);

	memset(&t, 0, sizeof(t));
	now = time(NULL);
	if (f.fd != -1) {
		if (expire_sub(&f, "new", now, maxage, all, dry, &t) == -1)
			rc = EXIT_TEMPFAIL;
		if (expire_sub(&f, "cur", now, maxage, all, dry, &t) == -1)
			rc = EXIT_TEMPFAIL;
		if (expire_sub(&f, "tmp", now, maxage, all, dry, &t) == -1)
			rc = EXIT_TEMPFAIL;
		if (!dry && quota_update(&f, &t) == -1)
			rc = EXIT_TEMPFAIL;
	}
	path_escape(shown, sizeof(shown), f.path, strlen(f.path));
	folder_close(&f);

	if (dry)
		printf("would remove %llu, keep %llu, free %llu bytes\n",
		    t.removed, t.kept, t.freed);
	else {
		printf("removed %llu, kept %llu, freed %llu bytes\n",
		    t.removed, t.kept, t.freed);
		log_msg(rc == EXIT_OK ? LOG_INFO : LOG_ERR,
		    "expire %s: removed %llu, kept %llu, freed %llu bytes%s",
		    shown, t.removed, t.kept, t.freed,
		    rc == EXIT_OK ? "" : ", with errors");
	}
	if (stdout_flushed() == -1)
		rc = EXIT_TEMPFAIL;
	return rc;
}

/* A field's value on one line for a person: runs of blanks as one. */
static size_t
field_line(struct slice v, char *buf, size_t sz)
{
	size_t	 n, i, o;

	n = hdr_unfold(v, buf, sz);
	for (i = o = 0; i < n; i++)
		if (buf[i] != ' ' || o == 0 || buf[o - 1] != ' ')
			buf[o++] = buf[i];
	buf[o] = '\0';
	return o;
}

/* An unfolded, terminal-safe header value, or "-". */
static void
field(struct slice v, char *out, size_t outsz)
{
	char	 buf[LIM_FIELD_BYTES];
	size_t	 o = field_line(v, buf, sizeof(buf));

	if (o == 0) {
		snprintf(out, outsz, "-");
		return;
	}
	sanitize(out, outsz, buf, o);
}

/* The same for Subject and From: RFC 2047 words decoded, UTF-8 shown. */
static void
field_words(struct slice v, char *out, size_t outsz)
{
	char	 buf[LIM_FIELD_BYTES];

	field_line(v, buf, sizeof(buf));
	hdr_decode_words(buf, sizeof(buf));
	if (buf[0] == '\0') {
		snprintf(out, outsz, "-");
		return;
	}
	/* a tab or line end decoded from a word must not split the line */
	sanitize_utf8(out, outsz, buf, strlen(buf));
}

/*
 * Split the X-Backstop: value that deliver wrote,
 *	<verdict>; kind=<k>; original=<id>; rule=<r>
 * into the original id and the reason (the rest).  The id was sanitized
 * but may hold ';', so the rule is taken from the last "; rule=".
 */
static void
why(const char *v, char *id, size_t idsz, char *reason, size_t reasonsz)
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

/*
 * One line of backstop junk, tab-separated (fields hold no tab: sanitize
 * turns every control byte into '?', and FILE is path_escape()d so that
 * restore --stdin can read it back):
 *	DATE  ORIGINAL-ID  FROM  SUBJECT  WHY  FILE
 */
static void
junk_line(int dfd, const char *label, const struct entry *e)
{
	char		*buf, date[32], from[JUNK_FIELD + 1];
	char		 subj[JUNK_FIELD + 1], xb[1024], id[LIM_MSGID + 1];
	char		 reason[1024], name[ESCAPED_MAX];
	struct slice	 block, v;
	struct tm	 tm;
	size_t		 len;
	int		 fd;

	fd = openat(dfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return;		/* moved away since readdir */
	/* the header block only: deliver put X-Backstop: first */
	if (read_header(fd, &buf, &len) == -1) {
		close(fd);
		return;
	}
	close(fd);
	block.p = buf;
	block.n = hdr_block_len(buf, len);
	snprintf(from, sizeof(from), "-");
	snprintf(subj, sizeof(subj), "-");
	snprintf(id, sizeof(id), "-");
	snprintf(reason, sizeof(reason), "-");
	if (hdr_find(block, "From", &v))
		field_words(v, from, sizeof(from));
	if (hdr_find(block, "Subject", &v))
		field_words(v, subj, sizeof(subj));
	if (hdr_find(block, "X-Backstop", &v)) {
		field(v, xb, sizeof(xb));
		why(xb, id, sizeof(id), reason, sizeof(reason));
	}
	free(buf);
	if (localtime_r(&e->st.st_mtime, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(date, sizeof(date), "-");
	path_escape(name, sizeof(name), e->name, strlen(e->name));
	printf("%s\t%s\t%s\t%s\t%s\t%s/%s\n", date, id, from, subj, reason,
	    label, name);
}

int
cmd_junk(int argc, char **argv)
{
	static const char *const subs[] = { "new", "cur" };
	struct rules	*r;
	struct folder	 f;
	struct entry	*all = NULL, *ents;
	const char	*rulesfile = NULL;
	char		 root[PATH_MAX], label[2][ESCAPED_MAX + 8];
	size_t		 nall = 0, n, i;
	int		 s, dfd[2] = { -1, -1 }, rc = EXIT_OK;
	struct opts	 o;

	if (opts_parse(&o, "junk", "r:", NULL, argc, argv, 0, 1) == -1)
		return o.rc;
	rulesfile = o.rules;
	if (root_path(optind < argc ? argv[optind] : NULL, root,
	    sizeof(root)) == -1)
		return EXIT_TEMPFAIL;
	if (load_rules(&r, rulesfile) == -1)
		return EXIT_TEMPFAIL;
	s = folder_open(&f, root, rules_junk_folder(r));
	rules_free(r);
	if (s == -1)
		return EXIT_TEMPFAIL;
	for (s = 0; s < 2 && f.fd != -1; s++) {
		/* the directory as shown, escaped as the names are */
		path_escape(label[s], sizeof(label[s]) - 8, f.path,
		    strlen(f.path));
		i = strlen(label[s]);
		snprintf(label[s] + i, sizeof(label[s]) - i, "/%s", subs[s]);
		dfd[s] = openat(f.fd, subs[s], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (dfd[s] == -1) {
			if (errno != ENOENT) {
				warnx_("%s: %s", label[s], strerror(errno));
				rc = EXIT_TEMPFAIL;
			}
			continue;
		}
		if (read_entries(dfd[s], label[s], &ents, &n) == -1) {
			rc = EXIT_TEMPFAIL;
			continue;
		}
		if (n > 0)
			all = xrealloc(all, (nall + n) * sizeof(*all));
		for (i = 0; i < n; i++) {
			ents[i].sub = s;
			all[nall++] = ents[i];
		}
		free(ents);
	}
	/* in the order they were filed */
	if (nall > 1)
		qsort(all, nall, sizeof(*all), cmp_mtime);
	for (i = 0; i < nall; i++)
		if (S_ISREG(all[i].st.st_mode))
			junk_line(dfd[all[i].sub], label[all[i].sub], &all[i]);
	free_entries(all, nall);
	for (s = 0; s < 2; s++)
		if (dfd[s] != -1)
			close(dfd[s]);
	folder_close(&f);
	if (stdout_flushed() == -1)
		rc = EXIT_TEMPFAIL;
	return rc;
}

/*
 * restore: the Junk folder's cur/ and new/, the inbox's, opened once.
 */
struct restore {
	struct folder	 f;
	int		 jd[2];		/* Junk cur/ new/, or -1 */
	struct stat	 jst[2];
	int		 jtmp;		/* Junk tmp/, for a claim; -1 */
	int		 in[2];		/* inbox cur/ new/, or -1 */
	int		 intmp;		/* inbox tmp/, for a copy; -1 */
	int		 inbox_ok;	/* maildir_ensure() done */
};

static const char *const restore_subs[] = { "cur", "new" };

/* The directory name of dfd, made if missing (ENOENT only), never a link. */
static int
open_sub(int dfd, const char *name)
{
	int	 fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(dfd, name, 0700) == -1 && errno != EEXIST)
			return -1;
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	return fd;
}

/*
 * A new name for a message whose own name is taken in the inbox: a fresh
 * unique part, the ":2,FLAGS" of the old name kept.
 */
static int
fresh_name(const char *old, char *out, size_t outsz)
{
	char		 u[1024];
	const char	*info = strchr(old, ':');

	if (maildir_unique(u, sizeof(u)) == -1 ||
	    (size_t)snprintf(out, outsz, "%s%s", u, info ? info : "") >=
	    outsz || strlen(out) > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Publish the claimed file tmp/claim of the Junk folder as sub/name of
 * the inbox, which is on another filesystem: a copy by the Maildir
 * protocol (a unique name in tmp/, every byte, the times kept, fsync,
 * link, the tmp name unlinked, fsync of the directory).  name_r gets the
 * name used.  Returns 0 or -1 (err says why).
 */
static int
copy_claim(struct restore *rs, int s, const char *claim, const char *name,
    char *name_r, size_t namesz, char *err, size_t errsz)
{
	struct stat		 st;
	struct timespec		 ts[2];
	char			 u[1024];
	int			 in, out = -1, tries, e, rc = -1;

	u[0] = '\0';
	if ((rs->intmp == -1 && (rs->intmp = open_sub(rs->f.rootfd,
	    "tmp")) == -1) || (in = openat(rs->jtmp, claim, O_RDONLY |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	if (fstat(in, &st) == -1 || (!S_ISREG(st.st_mode) &&
	    (errno = EINVAL))) {
		snprintf(err, errsz, "claimed copy: %s", strerror(errno));
		close(in);
		return -1;
	}
	for (tries = 0; tries < 5 && out == -1; tries++) {
		if (maildir_unique(u, sizeof(u)) == -1)
			break;
		out = openat(rs->intmp, u, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out == -1 && errno != EEXIST)
			break;
	}
	if (out == -1) {
		snprintf(err, errsz, "create in the inbox's tmp/: %s",
		    strerror(errno));
		close(in);
		return -1;
	}
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (copy_fd(out, in) == -1 || futimens(out, ts) == -1 ||
	    fsync(out) == -1) {
		e = errno;
		close(out);
		snprintf(err, errsz, "copy into the inbox's tmp/: %s",
		    strerror(e));
		goto done;
	}
	if (close(out) == -1) {
		snprintf(err, errsz, "close in the inbox's tmp/: %s",
		    strerror(errno));
		goto done;
	}
	snprintf(name_r, namesz, "%s", name);
	for (tries = 0;; tries++) {
		if (linkat(rs->intmp, u, rs->in[s], name_r, 0) == 0)
			break;
		/* no hard links here (as in maildir.c): a rename that
		 * never replaces */
		if ((errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP)
		    && renameat2(rs->intmp, u, rs->in[s], name_r,
		    RENAME_NOREPLACE) == 0)
			break;
		if (errno == EEXIST && tries < 4 &&
		    fresh_name(name, name_r, namesz) == 0)
			continue;
		snprintf(err, errsz, "link into the inbox: %s",
		    strerror(errno));
		goto done;
	}
	if (fsync_dirfd(rs->in[s]) == -1) {
		snprintf(err, errsz, "fsync of the inbox: %s",
		    strerror(errno));
		unlinkat(rs->in[s], name_r, 0);
		goto done;
	}
	rc = 0;
done:
	close(in);
	if (unlinkat(rs->intmp, u, 0) == -1 && rc == 0)
		warnx_("%s/tmp/%s: %s", rs->f.root, u, strerror(errno));
	return rc;
}

/*
 * Move sub/name of the Junk folder into the same sub/ of the inbox, under
 * its own name (a fresh one if the inbox has that name), so that flags,
 * mtime and bytes stay what they were and the quota (one Maildir++ tree)
 * does not change.  The rename is the claim: of two restores at once one
 * moves the file and the other finds it gone.  When the Junk folder is on
 * another filesystem (a symbolic link to another disk), it is claimed by a
 * rename into its own tmp/ ("restoring.SUB.NAME"), copied, and the claim
 * removed; a crash in between leaves it there, never in two places nor
 * lost, and the next expire puts it back.  Returns 0, -1 for a transient
 * failure, -2 for a refusal (said on stderr).
 */
static int
restore_one(struct restore *rs, int s, const char *name, const char *shown)
{
	struct stat	 st;
	char		 dname[NAME_MAX + 1], claim[NAME_MAX + 1];
	char		 err[PATH_MAX + 256], newp[PATH_MAX + NAME_MAX + 8];
	char		 shownnew[4 * sizeof(newp) + 1];
	int		 tries, copied = 0;

	if (fstatat(rs->jd[s], name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		warnx_("%s: %s%s", shown, strerror(errno), errno == ENOENT ?
		    " (restored or moved meanwhile?)" : "");
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		warnx_("%s: a symbolic link, not restored", shown);
		return -2;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx_("%s: not a regular file, not restored", shown);
		return -2;
	}
	if (!rs->inbox_ok) {
		if (maildir_ensure(rs->f.root, NULL, err, sizeof(err)) == -1) {
			warnx_("%s: not restored: %s", shown, err);
			return -1;
		}
		rs->inbox_ok = 1;
	}
	if (rs->in[s] == -1 && (rs->in[s] = open_sub(rs->f.rootfd,
	    restore_subs[s])) == -1) {
		warnx_("%s: not restored: %s/%s: %s", shown, rs->f.root,
		    restore_subs[s], strerror(errno));
		return -1;
	}
	snprintf(dname, sizeof(dname), "%s", name);
	for (tries = 0;; tries++) {
		if (renameat2(rs->jd[s], name, rs->in[s], dname,
		    RENAME_NOREPLACE) == 0)
			goto moved;
		if (errno == EEXIST && tries < 4 &&
		    fresh_name(name, dname, sizeof(dname)) == 0)
			continue;
		break;
	}
	/* no RENAME_NOREPLACE here, or another filesystem */
	if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
	    errno == EOPNOTSUPP)
		goto claim;
	warnx_("%s: not restored: %s%s", shown, strerror(errno),
	    errno == ENOENT ? " (restored or moved meanwhile?)" : "");
	return -1;

claim:
	if ((size_t)snprintf(claim, sizeof(claim), CLAIM_PREFIX "%s.%s",
	    restore_subs[s], name) >= sizeof(claim)) {
		warnx_("%s: name too long to restore", shown);
		return -1;
	}
	if (rs->jtmp == -1 && (rs->jtmp = open_sub(rs->f.fd, "tmp")) == -1) {
		warnx_("%s: not restored: %s/tmp: %s", shown, rs->f.path,
		    strerror(errno));
		return -1;
	}
	if (renameat(rs->jd[s], name, rs->jtmp, claim) == -1) {
		warnx_("%s: not restored: %s%s", shown, strerror(errno),
		    errno == ENOENT ? " (restored or moved meanwhile?)" : "");
		return -1;
	}
	if (copy_claim(rs, s, claim, name, dname, sizeof(dname), err,
	    sizeof(err)) == -1) {
		/* not published: the claim goes back where it was */
		if (renameat(rs->jtmp, claim, rs->jd[s], name) == -1)
			warnx_("%s: not restored (%s) and left in %s/tmp/%s: "
			    "%s", shown, err, rs->f.path, claim,
			    strerror(errno));
		else
			warnx_("%s: not restored: %s", shown, err);
		return -1;
	}
	if (unlinkat(rs->jtmp, claim, 0) == -1)
		warnx_("%s: restored, but its claim %s/tmp/%s stays: %s",
		    shown, rs->f.path, claim, strerror(errno));
	copied = 1;

moved:
	errno = 0;
	if (fsync_dirfd(rs->in[s]) == -1 || fsync_dirfd(rs->jd[s]) == -1 ||
	    (copied && fsync_dirfd(rs->jtmp) == -1))
		warnx_("%s: restored, but fsync of a directory: %s", shown,
		    strerror(errno));
	snprintf(newp, sizeof(newp), "%s/%s/%s", rs->f.root, restore_subs[s],
	    dname);
	path_escape(shownnew, sizeof(shownnew), newp, strlen(newp));
	printf("%s -> %s\n", shown, shownnew);
	log_msg(LOG_INFO, "restore %s -> %s%s", shown, shownnew,
	    copied ? " (copied from another filesystem)" : "");
	return 0;
}

/*
 * Which message of the Junk folder arg names: a bare file name (as junk
 * prints in its last column, without the folder) is looked for in cur/
 * then new/; a path must name an entry directly in the Junk folder's cur/
 * or new/, compared by device and inode, however the path reaches it.
 * name_r gets the base name.  Returns the index of cur/ or new/, -1 for a
 * transient failure, -2 for a refusal (said on stderr).
 */
static int
restore_which(struct restore *rs, const char *arg, const char *shown,
    const char **name_r)
{
	struct stat	 st;
	const char	*slash = strrchr(arg, '/');
	char		 dir[PATH_MAX];
	int		 s, dfd;

	*name_r = slash ? slash + 1 : arg;
	if (**name_r == '\0' || **name_r == '.') {
		warnx_("%s: not a message file name, not restored", shown);
		return -2;
	}
	if (rs->f.fd == -1) {
		warnx_("%s: there is no Junk folder %s, not restored", shown,
		    rs->f.path);
		return -2;
	}
	if (slash == NULL) {
		for (s = 0; s < 2; s++)
			if (rs->jd[s] != -1 && fstatat(rs->jd[s], arg, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				return s;
		warnx_("%s: not in the Junk folder %s (restored or moved "
		    "meanwhile?)", shown, rs->f.path);
		return -1;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%.*s", slash == arg ? 1 :
	    (int)(slash - arg), arg) >= sizeof(dir)) {
		warnx_("%s: path too long", shown);
		return -2;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(dfd, &st) == -1) {
		if (dfd != -1)
			close(dfd);
		warnx_("%s: not a message of the Junk folder %s, not restored",
		    shown, rs->f.path);
		return -2;
	}
	close(dfd);
	for (s = 0; s < 2; s++)
		if (rs->jd[s] != -1 && st.st_dev == rs->jst[s].st_dev &&
		    st.st_ino == rs->jst[s].st_ino)
			return s;
	warnx_("%s: not a message of the Junk folder %s (its cur/ or new/), "
	    "not restored", shown, rs->f.path);
	return -2;
}

/* One FILE argument or --stdin line; returns 0, -1 or -2 as above. */
static int
restore_arg(struct restore *rs, const char *arg)
{
	char		 shown[ESCAPED_MAX];
	const char	*name;
	int		 s;

	path_escape(shown, sizeof(shown), arg, strlen(arg));
	if ((s = restore_which(rs, arg, shown, &name)) < 0)
		return s;
	return restore_one(rs, s, name, shown);
}

int
cmd_restore(int argc, char **argv)
{
	struct restore	 rs;
	struct rules	*r;
	const char	*maildir = NULL, *rulesfile = NULL;
	char		 root[PATH_MAX], *line = NULL, *arg;
	size_t		 cap = 0;
	ssize_t		 k;
	int		 i, s, fromstdin = 0, temp = 0, refused = 0;
	const struct opt own[] = {
		{ 0, "stdin", &fromstdin, NULL },
		{ 0, NULL, NULL, NULL }
	};
	struct opts	 o;

	if (opts_parse(&o, "restore", "d:r:", own, argc, argv, 0, -1) == -1)
		return o.rc;
	if ((optind == argc) != (fromstdin != 0))
		return opts_usage("restore");
	maildir = o.maildir;
	rulesfile = o.rules;
	if (root_path(maildir, root, sizeof(root)) == -1)
		return EXIT_TEMPFAIL;
	/* the folder name comes from the rules, as for junk and expire */
	if (load_rules(&r, rulesfile) == -1)
		return EXIT_TEMPFAIL;
	memset(&rs, 0, sizeof(rs));
	rs.jd[0] = rs.jd[1] = rs.in[0] = rs.in[1] = -1;
	rs.jtmp = rs.intmp = -1;
	s = folder_open(&rs.f, root, rules_junk_folder(r));
	rules_free(r);
	if (s == -1)
		return EXIT_TEMPFAIL;
	for (s = 0; s < 2 && rs.f.fd != -1; s++) {
		rs.jd[s] = openat(rs.f.fd, restore_subs[s], O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (rs.jd[s] == -1 && errno != ENOENT) {
			warnx_("%s/%s: %s", rs.f.path, restore_subs[s],
			    strerror(errno));
			temp = 1;
		} else if (rs.jd[s] != -1 && fstat(rs.jd[s], &rs.jst[s]) == -1) {
			warnx_("%s/%s: %s", rs.f.path, restore_subs[s],
			    strerror(errno));
			close(rs.jd[s]);
			rs.jd[s] = -1;
			temp = 1;
		}
	}
	if (!temp && !fromstdin)
		for (i = optind; i < argc; i++) {
			s = restore_arg(&rs, argv[i]);
			temp |= s == -1;
			refused |= s == -2;
		}
	/* --stdin: one path_escape()d name or path a line, as junk and
	 * scan print them */
	while (!temp && fromstdin && (k = getline(&line, &cap, stdin)) != -1) {
		if (k > 0 && line[k - 1] == '\n')
			line[--k] = '\0';
		if (k == 0)
			continue;
		arg = xmalloc((size_t)k + 1);
		if (path_unescape(arg, (size_t)k + 1, line) == -1) {
			path_escape(arg, (size_t)k + 1, line, (size_t)k);
			warnx_("--stdin: '%s': not a name as junk prints it, "
			    "not restored", arg);
			refused = 1;
		} else {
			s = restore_arg(&rs, arg);
			temp |= s == -1;
			refused |= s == -2;
		}
		free(arg);
	}
	if (fromstdin && ferror(stdin)) {
		warnx_("reading standard input: %s", strerror(errno));
		temp = 1;
	}
	free(line);
	for (s = 0; s < 2; s++) {
		if (rs.jd[s] != -1)
			close(rs.jd[s]);
		if (rs.in[s] != -1)
			close(rs.in[s]);
	}
	if (rs.jtmp != -1)
		close(rs.jtmp);
	if (rs.intmp != -1)
		close(rs.intmp);
	folder_close(&rs.f);
	if (stdout_flushed() == -1)
		temp = 1;
	return temp ? EXIT_TEMPFAIL : refused ? EXIT_USAGE : EXIT_OK;
}
