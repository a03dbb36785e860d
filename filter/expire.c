/*
 * backstop expire, junk and restore: the Junk folder's life cycle.
 *
 * expire removes what backstop filed long enough ago.  It runs unattended
 * from cron, over a tree the mail client changes at the same time, so it
 * is written to be unable to remove anything but old messages of the one
 * Junk folder:
 *  - the folder is opened once, relative to the maildir, with O_NOFOLLOW,
 *    and so are its cur/ new/ tmp/; every later stat and unlink is
 *    relative to those directory descriptors (fstatat/unlinkat), so a
 *    symbolic link anywhere below the maildir is never followed, and a
 *    link that is itself old is at most removed, never its target;
 *  - only regular files directly in cur/ and new/, never names starting
 *    with a dot (maildir(5): readers skip them);
 *  - age is the file's mtime, the delivery time by the Maildir definition
 *    (qmail maildir(5)).  Not ctime: a flag change by the mail client
 *    renames the file and resets ctime.  Not the Date: field, which the
 *    sender writes (fdm mail-time.c is the example not to follow);
 *  - tmp/ files are removed only when untouched (neither read nor written)
 *    for 36 hours, the rule of maildir(5) for abandoned deliveries;
 *  - a file that vanished between readdir and unlink was moved by the mail
 *    client: not an error;
 *  - Maildir++ quota: removing messages appends "-bytes -count" to the
 *    maildir's maildirsize in one write, as the Maildir++ specification
 *    asks of every agent that deletes mail; the size of a message is its
 *    ",S=" name attribute when present (what the quota counted), else its
 *    length.
 *
 * junk lists the folder for a person; restore puts a message back into
 * the inbox by the same Maildir protocol as delivery, then unlinks the
 * Junk copy, so that a failure at any step leaves the message somewhere.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"

#define EXPIRE_TMP_SECS	(36L * 3600)	/* maildir(5): stale tmp/ files */
#define JUNK_FIELD	200		/* bytes of From/Subject shown */

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

static void	 usage_expire(FILE *);
static void	 usage_junk(FILE *);
static void	 usage_restore(FILE *);
static int	 root_path(const char *, char *, size_t);
static int	 folder_open(struct folder *, const char *, const char *);
static void	 folder_close(struct folder *);
static int	 read_entries(int, const char *, struct entry **, size_t *);
static void	 free_entries(struct entry *, size_t);
static int	 cmp_mtime(const void *, const void *);
static int	 cmp_name(const void *, const void *);
static unsigned long long name_size(const char *, const struct stat *);
static int	 expire_sub(struct folder *, const char *, time_t, long, int,
		    struct tally *);
static int	 quota_update(struct folder *, const struct tally *);
static void	 junk_line(int, const char *, const struct entry *);
static void	 field(struct slice, char *, size_t);
static void	 why(const char *, char *, size_t, char *, size_t);
static int	 restore_one(const char *, const char *);
static int	 load_rules(struct rules **, const char *);

static void
usage_expire(FILE *f)
{
	fprintf(f, "usage: backstop expire [-r RULES] [--older-than AGE] "
	    "[--dry-run] [MAILDIR]\n");
}

static void
usage_junk(FILE *f)
{
	fprintf(f, "usage: backstop junk [-r RULES] [MAILDIR]\n");
}

static void
usage_restore(FILE *f)
{
	fprintf(f, "usage: backstop restore [-d MAILDIR] FILE...\n");
}

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

	*r_r = rules_new();
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
 * disk); the Junk folder below it may not.  A missing Junk folder is not
 * an error: f->fd is then -1.  Returns 0 or -1 (said on stderr).
 */
static int
folder_open(struct folder *f, const char *root, const char *junk)
{
	struct stat	 st;

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
	    -1) {
		warnx_("maildir %s: %s", root, strerror(errno));
		return -1;
	}
	f->fd = openat(f->rootfd, junk, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (f->fd == -1) {
		if (errno == ENOENT)
			return 0;
		/* O_NOFOLLOW on a link gives ELOOP, or ENOTDIR with
		 * O_DIRECTORY on some systems: say which */
		if (fstatat(f->rootfd, junk, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			warnx_("%s: a symbolic link, refused", f->path);
		else
			warnx_("%s: %s", f->path, strerror(errno));
		folder_close(f);
		return -1;
	}
	return 0;
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
 * Expire one of cur/ new/ tmp/ of the open Junk folder.  Returns 0, or -1
 * when something could not be done (said on stderr; the rest goes on).
 */
static int
expire_sub(struct folder *f, const char *sub, time_t now, long maxage,
    int dry, struct tally *t)
{
	struct entry		*ents;
	size_t			 n, i;
	char			 label[PATH_MAX + 8], shown[PATH_MAX + 300];
	int			 dfd, rc = 0, tmp = strcmp(sub, "tmp") == 0;
	time_t			 touched;
	unsigned long long	 sz;

	if ((size_t)snprintf(label, sizeof(label), "%s/%s", f->path, sub) >=
	    sizeof(label)) {
		warnx_("%s: path too long", f->path);
		return -1;
	}
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
			/* "older than AGE": filed AGE or more ago; a
			 * future mtime (clock step) is young */
			if (ents[i].st.st_mtime > now ||
			    now - ents[i].st.st_mtime < (time_t)maxage) {
				t->kept++;
				continue;
			}
			sz = name_size(ents[i].name, &ents[i].st);
		}
		sanitize(shown, sizeof(shown), ents[i].name,
		    strlen(ents[i].name));
		if (dry) {
			printf("%s/%s\n", label, shown);
		} else if (unlinkat(dfd, ents[i].name, 0) == -1) {
			if (errno == ENOENT)	/* moved by the mail client */
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
	char		 root[PATH_MAX], shown[PATH_MAX];
	long		 maxage = 0;
	time_t		 now;
	int		 ch, dry = 0, rc = EXIT_OK;
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:nh", longopts, NULL)) != -1)
		switch (ch) {
		case 'r':
			rulesfile = optarg;
			break;
		case 'a':
			agearg = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'h':
			usage_expire(stdout);
			return EXIT_OK;
		default:
			usage_expire(stderr);
			return EXIT_USAGE;
		}
	if (argc - optind > 1) {
		usage_expire(stderr);
		return EXIT_USAGE;
	}
	if (agearg != NULL && parse_age(agearg, &maxage) == -1) {
		warnx_("--older-than: '%s' is not an age such as 30d, 12h or "
		    "2w", agearg);
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
	if (agearg == NULL)
		maxage = rules_expire_secs(r);
	if (folder_open(&f, root, rules_junk_folder(r)) == -1) {
		rules_free(r);
		return EXIT_TEMPFAIL;
	}
	rules_free(r);

	memset(&t, 0, sizeof(t));
	now = time(NULL);
	if (f.fd != -1) {
		if (expire_sub(&f, "new", now, maxage, dry, &t) == -1)
			rc = EXIT_TEMPFAIL;
		if (expire_sub(&f, "cur", now, maxage, dry, &t) == -1)
			rc = EXIT_TEMPFAIL;
		if (expire_sub(&f, "tmp", now, maxage, dry, &t) == -1)
			rc = EXIT_TEMPFAIL;
		if (!dry && quota_update(&f, &t) == -1)
			rc = EXIT_TEMPFAIL;
	}
	sanitize(shown, sizeof(shown), f.path, strlen(f.path));
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
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warnx_("write error on stdout");
		rc = EXIT_TEMPFAIL;
	}
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
 * turns every control byte into '?'):
 *	DATE  ORIGINAL-ID  FROM  SUBJECT  WHY  FILE
 */
static void
junk_line(int dfd, const char *label, const struct entry *e)
{
	char		*buf, date[32], from[JUNK_FIELD + 1];
	char		 subj[JUNK_FIELD + 1], xb[1024], id[LIM_MSGID + 1];
	char		 reason[1024], name[NAME_MAX * 4 + 1];
	struct slice	 block, v;
	struct tm	 tm;
	ssize_t		 k;
	size_t		 len = 0, cap = LIM_HEADER_BYTES;
	int		 fd;

	fd = openat(dfd, e->name, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return;		/* moved away since readdir */
	buf = xmalloc(cap);
	/* the header block only: deliver put X-Backstop: first */
	while (len < cap) {
		k = read(fd, buf + len, cap - len);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
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
	sanitize(name, sizeof(name), e->name, strlen(e->name));
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
	char		 root[PATH_MAX], label[2][PATH_MAX + 8];
	size_t		 nall = 0, n, i;
	int		 ch, s, dfd[2] = { -1, -1 }, rc = EXIT_OK;

	optind = 1;
	while ((ch = getopt(argc, argv, "r:h")) != -1)
		switch (ch) {
		case 'r':
			rulesfile = optarg;
			break;
		case 'h':
			usage_junk(stdout);
			return EXIT_OK;
		default:
			usage_junk(stderr);
			return EXIT_USAGE;
		}
	if (argc - optind > 1) {
		usage_junk(stderr);
		return EXIT_USAGE;
	}
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
		if ((size_t)snprintf(label[s], sizeof(label[s]), "%s/%s",
		    f.path, subs[s]) >= sizeof(label[s])) {
			warnx_("%s: path too long", f.path);
			rc = EXIT_TEMPFAIL;
			continue;
		}
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
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warnx_("write error on stdout");
		rc = EXIT_TEMPFAIL;
	}
	return rc;
}

/*
 * Put one message back into the inbox's new/: the bytes as they are
 * (X-Backstop: stays, the record of what happened), by maildir_deliver,
 * and only then unlink the Junk copy.  Before unlinking, the name must
 * still be the file that was read: if the mail client moved it meanwhile
 * we leave whatever is there now.  Returns 0 or -1 (said on stderr).
 */
static int
restore_one(const char *root, const char *file)
{
	struct stat	 st, st2;
	struct slice	 iov;
	char		*buf, err[PATH_MAX + 256], newp[PATH_MAX];
	char		 shown[PATH_MAX], shownnew[PATH_MAX];
	size_t		 len;
	int		 fd, e;

	sanitize(shown, sizeof(shown), file, strlen(file));
	fd = open(file, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			warnx_("%s: a symbolic link, not restored", shown);
		else
			warnx_("%s: %s", shown, strerror(e));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		warnx_("%s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx_("%s: not a regular file, not restored", shown);
		close(fd);
		return -1;
	}
	if (read_all_fd(fd, &buf, &len, 0) == -1) {
		warnx_("%s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	iov.p = buf;
	iov.n = len;
	if (maildir_deliver(root, NULL, &iov, 1, newp, sizeof(newp), err,
	    sizeof(err)) == -1) {
		warnx_("%s: not restored: %s", shown, err);
		free(buf);
		return -1;
	}
	free(buf);
	sanitize(shownnew, sizeof(shownnew), newp, strlen(newp));
	if (lstat(file, &st2) == -1 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino) {
		/* moved by the mail client: a copy is in the inbox now */
		warnx_("%s: changed while being restored; copied to %s, the "
		    "original left where it is now", shown, shownnew);
		return -1;
	}
	if (unlink(file) == -1) {
		warnx_("%s: copied to %s but not removed: %s", shown,
		    shownnew, strerror(errno));
		return -1;
	}
	printf("%s -> %s\n", shown, shownnew);
	log_msg(LOG_INFO, "restore %s -> %s", shown, shownnew);
	return 0;
}

int
cmd_restore(int argc, char **argv)
{
	const char	*maildir = NULL;
	char		 root[PATH_MAX];
	int		 ch, i, rc = EXIT_OK;

	optind = 1;
	while ((ch = getopt(argc, argv, "d:h")) != -1)
		switch (ch) {
		case 'd':
			maildir = optarg;
			break;
		case 'h':
			usage_restore(stdout);
			return EXIT_OK;
		default:
			usage_restore(stderr);
			return EXIT_USAGE;
		}
	if (optind == argc) {
		usage_restore(stderr);
		return EXIT_USAGE;
	}
	if (root_path(maildir, root, sizeof(root)) == -1)
		return EXIT_TEMPFAIL;
	for (i = optind; i < argc; i++)
		if (restore_one(root, argv[i]) == -1)
			rc = EXIT_TEMPFAIL;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warnx_("write error on stdout");
		rc = EXIT_TEMPFAIL;
	}
	return rc;
}
