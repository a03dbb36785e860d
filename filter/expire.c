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
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "commands.h"
#include "hdr.h"
#include "junk.h"
#include "maildir.h"
#include "opts.h"
#include "rules.h"
#include "util.h"

#define EXPIRE_TMP_SECS	(36L * 3600)	/* maildir(5): stale tmp/ files */
#define CLAIM_PREFIX	"restoring."	/* Junk tmp/ name of a restore claim */
#define ESCAPED_MAX	JUNK_SHOWN	/* path_escape() of a path */

struct tally {
	unsigned long long removed, kept, freed;
	unsigned long long qbytes, qcount;	/* for maildirsize */
	unsigned long long lbytes, lcount;	/* for the Junk ledger */
};

static int	 root_path(const char *, char *, size_t);
static int	 folder_open(struct junk_folder *, const char *, const char *);
static int	 read_entries(int, const char *, struct junk_entry **, size_t *);
static int	 open_sub(int, const char *);
static int	 cmp_mtime(const void *, const void *);
static int	 cmp_name(const void *, const void *);
struct run;
static int	 expire_sub(struct run *, const char *);
static void	 recover_claim(struct junk_folder *, int, const char *);
static int	 fresh_name(const char *, char *, size_t);
static int	 rename_noreplace(int, const char *, int, const char *);
static int	 quota_update(struct junk_folder *, const struct tally *);
static int	 junk_line(int, const char *, const struct junk_entry *);
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

/* The maildir and its Junk folder (junk_open()), said on stderr. */
static int
folder_open(struct junk_folder *f, const char *root, const char *junk)
{
	char	 err[JUNK_SHOWN + 256];

	if (junk_open(f, root, junk, err, sizeof(err)) == -1) {
		warnx_("%s", err);
		return -1;
	}
	return 0;
}

/*
 * The entries of dfd (shown as label, escaped), each with its lstat;
 * those whose lstat failed are said on stderr and left out.  0 or -1
 * (said on stderr).
 */
static int
read_entries(int dfd, const char *label, struct junk_entry **ents_r, size_t *n_r)
{
	char	 shown[ESCAPED_MAX];
	size_t	 i, o;

	if (junk_entries(dfd, ents_r, n_r) == -1) {
		warnx_("%s: %s", label, strerror(errno));
		return -1;
	}
	for (i = o = 0; i < *n_r; i++) {
		if ((*ents_r)[i].err != 0) {
			path_escape(shown, sizeof(shown), (*ents_r)[i].name,
			    strlen((*ents_r)[i].name));
			warnx_("%s/%s: %s", label, shown,
			    strerror((*ents_r)[i].err));
			free((*ents_r)[i].name);
			continue;
		}
		(*ents_r)[o++] = (*ents_r)[i];
	}
	*n_r = o;
	return 0;
}

/*
 * cur/ new/ tmp/ of the folder (label: the folder, escaped), said on
 * stderr when it cannot be opened: -1, and errno ENOENT when absent.
 */
static int
sub_open(const struct junk_folder *f, const char *sub, const char *label)
{
	char	 err[256];
	int	 fd;

	if ((fd = junk_subdir(f->fd, sub, err, sizeof(err))) == -1 &&
	    errno != ENOENT)
		warnx_("%s: %s", label, err);
	return fd;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct junk_entry *)a)->name,
	    ((const struct junk_entry *)b)->name);
}

static int
cmp_mtime(const void *a, const void *b)
{
	const struct junk_entry *x = a, *y = b;

	if (x->st.st_mtime != y->st.st_mtime)
		return x->st.st_mtime < y->st.st_mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Do the open files a and b hold the same bytes?  1, 0, or -1. */
static int
same_bytes(int a, int b)
{
	struct stat	 sa, sb;
	char		 x[16384], y[sizeof(x)];
	off_t		 off = 0;
	ssize_t		 n, m;

	if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1)
		return -1;
	if (sa.st_size != sb.st_size)
		return 0;
	for (;;) {
		if ((n = pread(a, x, sizeof(x), off)) == -1 ||
		    (m = pread(b, y, sizeof(y), off)) == -1)
			return -1;
		if (n != m || memcmp(x, y, (size_t)n) != 0)
			return 0;
		if (n == 0)
			return 1;
		off += n;
	}
}

/*
 * A claim of a restore in Junk tmp/ ("restoring.SUB.NAME", see struct
 * claim) that no process holds: the restore was interrupted.  If the
 * inbox's SUB/NAME holds the same bytes, the copy was published and the
 * claim is a leftover; otherwise (no copy, or another message of that
 * name) it goes back into the Junk folder's SUB/, under NAME or a fresh
 * name.  Never does a claim go without its copy in the inbox.
 */
static void
recover_claim(struct junk_folder *f, int tmpfd, const char *claim)
{
	const char	*sub = claim + sizeof(CLAIM_PREFIX) - 1, *name;
	char		 in[PATH_MAX], shown[ESCAPED_MAX], fresh[NAME_MAX + 1];
	struct stat	 a, b;
	int		 fd, ifd, dfd, same = 0;

	if (strncmp(sub, "cur.", 4) != 0 && strncmp(sub, "new.", 4) != 0)
		return;
	name = sub + 4;
	if (*name == '\0' || *name == '.' || (size_t)snprintf(in, sizeof(in),
	    "%.3s/%s", sub, name) >= sizeof(in))
		return;
	if ((fd = openat(tmpfd, claim, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1)
		return;
	/* a restore at work holds it; and it must still be this file */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &a) == -1 ||
	    fstatat(tmpfd, claim, &b, AT_SYMLINK_NOFOLLOW) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		return;
	}
	path_escape(shown, sizeof(shown), name, strlen(name));
	if ((ifd = openat(f->rootfd, in, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) != -1) {
		same = same_bytes(fd, ifd) == 1;
		close(ifd);
	}
	if (same) {
		if (unlinkat(tmpfd, claim, 0) == 0)
			log_msg(LOG_INFO, "expire: restored %s was in the "
			    "inbox, its claim removed", shown);
		close(fd);
		return;
	}
	if ((dfd = openat(f->fd, sub[0] == 'c' ? "cur" : "new", O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		snprintf(fresh, sizeof(fresh), "%s", name);
		if (rename_noreplace(tmpfd, claim, dfd, fresh) == 0 ||
		    (errno == EEXIST && fresh_name(name, fresh,
		    sizeof(fresh)) == 0 &&
		    rename_noreplace(tmpfd, claim, dfd, fresh) == 0)) {
			path_escape(shown, sizeof(shown), fresh,
			    strlen(fresh));
			warnx_("%s/%.3s/%s: an interrupted restore, put back",
			    f->shown, sub, shown);
			log_msg(LOG_WARNING, "expire: interrupted restore of %s "
			    "put back into %s", shown, f->shown);
		}
		close(dfd);
	}
	close(fd);
}

/* One run of expire over the Junk folder. */
struct run {
	struct junk_folder *f;
	time_t		 now;
	long		 maxage;	/* seconds; negative: never */
	int		 all, dry;
	int		 unquoted;	/* junk.quota: ignore */
	struct tally	 t;
};

#define KEEP_QUIET	0	/* not a message of ours to count */
#define KEEP		1	/* kept, counted */
#define REMOVE		2

/*
 * What expire does with the entry e of tmp/: a claim of an interrupted
 * restore is put back (recover_claim), a file neither written (mtime)
 * nor read (atime) for 36 hours is an abandoned delivery, removed; a
 * delivery in progress keeps writing.  (ctime cannot be set back, so it
 * would make the rule untestable, and it says no more than mtime here.)
 */
static int
expire_tmp(struct run *x, int dfd, const struct junk_entry *e)
{
	time_t	 touched;

	if (strncmp(e->name, CLAIM_PREFIX, sizeof(CLAIM_PREFIX) - 1) == 0) {
		if (!x->dry)
			recover_claim(x->f, dfd, e->name);
		return KEEP_QUIET;
	}
	touched = e->st.st_mtime > e->st.st_atime ? e->st.st_mtime :
	    e->st.st_atime;
	return x->now - touched < EXPIRE_TMP_SECS ? KEEP_QUIET : REMOVE;
}

/*
 * What expire does with the entry e of cur/ or new/ (label: the
 * directory, escaped): REMOVE what backstop filed (or anything, with
 * --all) at least maxage ago, KEEP the rest; KEEP_QUIET what moved away
 * meanwhile; -1 when it could not be read (said on stderr).
 */
static int
expire_msg(struct run *x, int dfd, const char *label,
    const struct junk_entry *e)
{
	char	 shown[ESCAPED_MAX];
	time_t	 filed;
	int	 ours;

	if (junk_filed_by_us(dfd, e->name, &e->st, &ours) == -1) {
		if (errno == ENOENT)	/* moved away */
			return KEEP_QUIET;
		path_escape(shown, sizeof(shown), e->name, strlen(e->name));
		warnx_("%s/%s: %s", label, shown, strerror(errno));
		return -1;
	}
	if (!ours && !x->all)	/* the user's: not ours */
		return KEEP;
	/* when it entered the folder, see the top of the file: backstop's
	 * name and mtime, the later */
	if (ours && maildir_name_time(e->name, &filed) == 0) {
		if (e->st.st_mtime > filed)
			filed = e->st.st_mtime;
	} else
		filed = e->st.st_ctime;
	/* "older than AGE": entered AGE or more ago; a future time (clock
	 * step) is young; a negative AGE is "never" (expire_after: 0) */
	if (x->maxage < 0 || filed > x->now ||
	    x->now - filed < (time_t)x->maxage)
		return KEEP;
	return REMOVE;
}

/* Remove (or with --dry-run, list) e of dfd; 1 done, 0 gone, -1. */
static int
expire_remove(struct run *x, int dfd, const char *label,
    const struct junk_entry *e)
{
	char	 shown[ESCAPED_MAX];

	path_escape(shown, sizeof(shown), e->name, strlen(e->name));
	if (x->dry) {
		printf("%s/%s\n", label, shown);
		return 1;
	}
	if (unlinkat(dfd, e->name, 0) == 0)
		return 1;
	/* moved by the mail client, or removed by another expire, which
	 * counts it: not counted twice */
	if (errno == ENOENT)
		return 0;
	warnx_("unlink %s/%s: %s", label, shown, strerror(errno));
	return -1;
}

/*
 * Expire one of cur/ new/ tmp/ of the open Junk folder.  Returns 0, or -1
 * when something could not be done (said on stderr; the rest goes on).
 */
static int
expire_sub(struct run *x, const char *sub)
{
	struct junk_entry	*ents;
	size_t			 n, i, k;
	char			 label[ESCAPED_MAX + 8];
	int			 dfd, rc = 0, tmp = strcmp(sub, "tmp") == 0, what;
	unsigned long long	 sz;
	time_t			 filed;

	/* label: the directory as shown, escaped (room kept for "/sub") */
	snprintf(label, sizeof(label), "%s", x->f->shown);
	k = strlen(label);
	snprintf(label + k, sizeof(label) - k, "/%s", sub);
	if ((dfd = sub_open(x->f, sub, label)) == -1)
		return errno == ENOENT ? 0 : -1;
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
		what = tmp ? expire_tmp(x, dfd, &ents[i]) :
		    expire_msg(x, dfd, label, &ents[i]);
		if (what != REMOVE) {
			x->t.kept += what != KEEP_QUIET;
			rc |= what == -1 ? -1 : 0;
			continue;
		}
		sz = tmp ? (unsigned long long)ents[i].st.st_size :
		    maildir_name_size(ents[i].name, &ents[i].st);
		if ((what = expire_remove(x, dfd, label, &ents[i])) != 1) {
			rc |= what;
			x->t.kept += what == -1 && !tmp;
			continue;
		}
		x->t.removed++;
		x->t.freed += sz;
		if (!tmp && !x->unquoted) {
			x->t.qbytes += sz;
			x->t.qcount++;
		}
		/* the ledger counts backstop's names (junk.c) */
		if (!tmp && maildir_name_time(ents[i].name, &filed) == 0) {
			x->t.lbytes += sz;
			x->t.lcount++;
		}
	}
	junk_entries_free(ents, n);
	if (close(dfd) == -1) {
		warnx_("%s: %s", label, strerror(errno));
		rc = -1;
	}
	return rc;
}

/*
 * Maildir++ quota: one line "-bytes -count" appended by maildir.c's one
 * writer, only to a maildirsize that exists (no quota, no file: nothing
 * to keep true).  It lives in the maildir itself, for all folders.
 */
static int
quota_update(struct junk_folder *f, const struct tally *t)
{
	junk_ledger_add(f, -(long long)t->lbytes, -(long long)t->lcount);
	if (t->qcount == 0)
		return 0;
	if (maildir_size_add(f->rootfd, "maildirsize", -(long long)t->qbytes,
	    -(long long)t->qcount) == -1) {
		warnx_("%s/maildirsize: %s, not updated", f->shownroot,
		    errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	return 0;
}

int
cmd_expire(int argc, char **argv)
{
	struct rules	*r;
	struct rules_junk j;
	struct junk_folder f;
	struct run	 x;
	const char	*agearg = NULL;
	char		 root[PATH_MAX];
	int		 force = 0, rc = EXIT_OK;
	const struct opt own[] = {
		{ 0, "older-than", NULL, &agearg },
		{ 0, "all", &x.all, NULL },
		{ 0, "force", &force, NULL },
		{ 'n', "dry-run", &x.dry, NULL },
		{ 0, NULL, NULL, NULL }
	};
	struct opts	 o;

	memset(&x, 0, sizeof(x));
	if (opts_parse(&o, "expire", "r:", own, argc, argv, 0, 1) == -1)
		return o.rc;
	if (agearg != NULL && parse_age(agearg, &x.maxage) == -1) {
		warnx_("--older-than: '%s' is not an age such as 30d, 12h or "
		    "2w", agearg);
		return EXIT_USAGE;
	}
	/* an age of 0 empties the folder at once: only when asked twice */
	if (agearg != NULL && x.maxage == 0 && !force && !x.dry) {
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
	if (load_rules(&r, o.rules) == -1) {
		warnx_("nothing expired, temporary failure");
		return EXIT_TEMPFAIL;
	}
	/* junk.expire_after: 0 is "never expire" */
	if (agearg == NULL && (x.maxage = rules_expire_secs(r)) == 0)
		x.maxage = -1;
	/* Junk outside the quota: nothing of it to subtract */
	rules_junk(r, &j);
	x.unquoted = j.quota_ignore;
	if (folder_open(&f, root, rules_junk_folder(r)) == -1) {
		rules_free(r);
		return EXIT_TEMPFAIL;
	}
	rules_free(r);
	x.f = &f;
	x.now = time(NULL);
	if (f.fd != -1 && (expire_sub(&x, "new") | expire_sub(&x, "cur") |
	    expire_sub(&x, "tmp") | (x.dry ? 0 : quota_update(&f, &x.t))))
		rc = EXIT_TEMPFAIL;
	if (x.dry)
		printf("would remove %llu, keep %llu, free %llu bytes\n",
		    x.t.removed, x.t.kept, x.t.freed);
	else {
		printf("removed %llu, kept %llu, freed %llu bytes\n",
		    x.t.removed, x.t.kept, x.t.freed);
		log_msg(rc == EXIT_OK ? LOG_INFO : LOG_ERR,
		    "expire %s: removed %llu, kept %llu, freed %llu bytes%s",
		    f.shown, x.t.removed, x.t.kept, x.t.freed,
		    rc == EXIT_OK ? "" : ", with errors");
	}
	junk_close(&f);
	return stdout_flushed() == -1 ? EXIT_IOERR : rc;
}

/*
 * One line of backstop junk, tab-separated (fields hold no tab: sanitize
 * turns every control byte into '?', and FILE is path_escape()d so that
 * restore --stdin can read it back):
 *	DATE  ORIGINAL-ID  FROM  SUBJECT  WHY  FILE
 */
static int
junk_line(int dfd, const char *label, const struct junk_entry *e)
{
	struct junk_item it;
	char		 date[32], name[ESCAPED_MAX];
	struct tm	 tm;

	path_escape(name, sizeof(name), e->name, strlen(e->name));
	if (junk_item_read(dfd, e->name, &e->st, &it) == -1) {
		if (errno == ENOENT)
			return 0;	/* moved away since readdir */
		warnx_("%s/%s: %s", label, name, strerror(errno));
		return -1;
	}
	if (localtime_r(&e->st.st_mtime, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(date, sizeof(date), "-");
	printf("%s\t%s\t%s\t%s\t%s\t%s/%s\n", date, it.original, it.from,
	    it.subject, it.reason, label, name);
	return 0;
}

/* "WHAT\tKEY\tCOUNT" for each key of t (by key, or most first). */
static void
summary_lines(const char *what, const struct junk_tally *t, int by_key,
    unsigned long least)
{
	struct junk_count *v;
	size_t		 n, i;

	n = junk_tally_sorted(t, by_key, &v);
	for (i = 0; i < n; i++)
		if (v[i].n >= least)
			printf("%s\t%s\t%lu\n", what, v[i].key, v[i].n);
	if (t->other > 0)
		printf("%s\t(other)\t%lu\n", what, t->other);
	free(v);
}

/*
 * junk --summary: the flood at a glance, one "WHAT\tKEY\tCOUNT" line a
 * fact (docs/output.md): the messages, what backstop filed by day (UTC),
 * kind and reporting domain, the forged Message-ID domains that recur
 * (the fingerprint of the spam run), and what pruning removed.  0, or
 * -1 when a message could not be read (said on stderr).
 */
static int
junk_summary(struct junk_folder *f, const struct junk_entry *all,
    size_t nall, const int dfd[2], char label[2][ESCAPED_MAX + 8])
{
	struct junk_summary s;
	struct junk_item it;
	char		 name[ESCAPED_MAX];
	size_t		 i;
	int		 rc = 0;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < nall; i++) {
		if (!S_ISREG(all[i].st.st_mode))
			continue;
		if (junk_item_read(dfd[all[i].sub], all[i].name, &all[i].st,
		    &it) == -1) {
			if (errno == ENOENT)
				continue;
			path_escape(name, sizeof(name), all[i].name,
			    strlen(all[i].name));
			warnx_("%s/%s: %s", label[all[i].sub], name,
			    strerror(errno));
			rc = -1;
			continue;
		}
		junk_summary_add(&s, &it);
	}
	if (f->fd != -1)
		(void)junk_pruned_count(f, 0, (time_t)1 << 62, &s.pruned);
	printf("messages\tall\t%lu\nmessages\tbackstop\t%lu\n"
	    "messages\tother\t%lu\nbytes\tall\t%llu\n", s.total, s.ours,
	    s.other, s.bytes);
	summary_lines("day", &s.days, 1, 1);
	summary_lines("kind", &s.kinds, 0, 1);
	summary_lines("reporter", &s.rdomains, 0, 1);
	summary_lines("forged", &s.odomains, 0, 2);
	summary_lines("pruned", &s.pruned, 1, 1);
	junk_summary_free(&s);
	return rc;
}

/*
 * The messages of the Junk folder's new/ and cur/ (dfd[], shown as
 * label[]), in *all_r.  EXIT_OK, or EXIT_TEMPFAIL when a directory could
 * not be read (said on stderr).
 */
static int
junk_gather(struct junk_folder *f, int dfd[2], char label[2][ESCAPED_MAX + 8],
    struct junk_entry **all_r, size_t *nall_r)
{
	static const char *const subs[] = { "new", "cur" };
	struct junk_entry *ents;
	size_t		 n, i;
	int		 s, rc = EXIT_OK;

	for (s = 0; s < 2 && f->fd != -1; s++) {
		/* the directory as shown, escaped as the names are */
		snprintf(label[s], sizeof(label[s]), "%s/%s", f->shown,
		    subs[s]);
		if ((dfd[s] = sub_open(f, subs[s], label[s])) == -1) {
			if (errno != ENOENT)
				rc = EXIT_TEMPFAIL;
			continue;
		}
		if (read_entries(dfd[s], label[s], &ents, &n) == -1) {
			rc = EXIT_TEMPFAIL;
			continue;
		}
		if (n > 0)
			*all_r = xrealloc(*all_r, (*nall_r + n) *
			    sizeof(**all_r));
		for (i = 0; i < n; i++) {
			ents[i].sub = s;
			(*all_r)[(*nall_r)++] = ents[i];
		}
		free(ents);
	}
	return rc;
}

int
cmd_junk(int argc, char **argv)
{
	struct rules	*r;
	struct junk_folder f;
	struct junk_entry *all = NULL;
	char		 root[PATH_MAX], label[2][ESCAPED_MAX + 8];
	size_t		 nall = 0, i;
	int		 s, dfd[2] = { -1, -1 }, rc, unread = 0, summary = 0;
	const struct opt own[] = {
		{ 0, "summary", &summary, NULL },
		{ 0, NULL, NULL, NULL }
	};
	struct opts	 o;

	if (opts_parse(&o, "junk", "r:", own, argc, argv, 0, 1) == -1)
		return o.rc;
	if (root_path(optind < argc ? argv[optind] : NULL, root,
	    sizeof(root)) == -1)
		return EXIT_TEMPFAIL;
	if (load_rules(&r, o.rules) == -1)
		return EXIT_TEMPFAIL;
	s = folder_open(&f, root, rules_junk_folder(r));
	rules_free(r);
	if (s == -1)
		return EXIT_TEMPFAIL;
	rc = junk_gather(&f, dfd, label, &all, &nall);
	/* in the order they were filed */
	if (nall > 1)
		qsort(all, nall, sizeof(*all), cmp_mtime);
	if (summary)
		unread = junk_summary(&f, all, nall, dfd, label) == -1;
	for (i = 0; !summary && i < nall; i++)
		if (S_ISREG(all[i].st.st_mode) && junk_line(dfd[all[i].sub],
		    label[all[i].sub], &all[i]) == -1)
			unread = 1;
	junk_entries_free(all, nall);
	for (s = 0; s < 2; s++)
		if (dfd[s] != -1)
			close(dfd[s]);
	junk_close(&f);
	/* a message that could not be read, or stdout: 74, as scan */
	if (stdout_flushed() == -1 || (unread && rc == EXIT_OK))
		rc = EXIT_IOERR;
	return rc;
}

/*
 * restore: the Junk folder's cur/ and new/, the inbox's, opened once.
 */
struct restore {
	struct junk_folder	 f;
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
 * A claim of restore_one() across filesystems: the message renamed into
 * the Junk folder's tmp/ as "restoring.SUB.DNAME", DNAME the name it is
 * to take in the inbox's SUB/ (its own, or a fresh one when that is
 * taken), so that whoever finds the claim after a crash knows where its
 * copy would be.  While a restore works on it, it holds the claim open
 * and flock()ed: expire puts back only a claim that no process holds.
 */
struct claim {
	char	 name[NAME_MAX + 1];	/* in Junk tmp/ */
	char	 dname[NAME_MAX + 1];	/* in the inbox's SUB/ */
	int	 fd;			/* the claim, locked; or -1 */
};

static int
claim_name(struct claim *c, int s)
{
	if ((size_t)snprintf(c->name, sizeof(c->name), CLAIM_PREFIX "%s.%s",
	    restore_subs[s], c->dname) >= sizeof(c->name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A rename in dfd's place that never replaces (plain where unsupported). */
static int
rename_noreplace(int from, const char *a, int to, const char *b)
{
	if (renameat2(from, a, to, b, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (faccessat(to, b, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(from, a, to, b);
}

/*
 * Take sub/name of the Junk folder: renamed into its tmp/ as a claim
 * (the claim is what makes two restores at once move it only once),
 * opened and locked, and checked to be still the file under that name
 * (expire may have put it back meanwhile).  0, or -1 (err says why).
 */
static int
claim_take(struct restore *rs, int s, const char *name, struct claim *c,
    char *err, size_t errsz)
{
	struct stat	 a, b;

	c->fd = -1;
	snprintf(c->dname, sizeof(c->dname), "%s", name);
	if ((fstatat(rs->in[s], name, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fresh_name(name, c->dname, sizeof(c->dname)) == -1) ||
	    claim_name(c, s) == -1) {
		snprintf(err, errsz, "name too long to restore");
		return -1;
	}
	if (rs->jtmp == -1 && (rs->jtmp = open_sub(rs->f.fd, "tmp")) == -1) {
		snprintf(err, errsz, "%s/tmp: %s", rs->f.shown,
		    strerror(errno));
		return -1;
	}
	if (rename_noreplace(rs->jd[s], name, rs->jtmp, c->name) == -1) {
		snprintf(err, errsz, "%s%s", strerror(errno), errno == ENOENT ?
		    " (restored or moved meanwhile?)" : "");
		return -1;
	}
	if ((c->fd = openat(rs->jtmp, c->name, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    flock(c->fd, LOCK_EX) == -1 || fstat(c->fd, &a) == -1 ||
	    fstatat(rs->jtmp, c->name, &b, AT_SYMLINK_NOFOLLOW) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		snprintf(err, errsz, "its claim was taken meanwhile (by "
		    "expire?)");
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/*
 * Publish the claim as sub/dname of the inbox, on another filesystem:
 * a copy by maildir.c's publisher (a unique name in the inbox's tmp/,
 * every byte, the times kept, fsync, link that never replaces, fsync of
 * the directory).  When dname was taken meanwhile, the claim is renamed
 * first to name the fresh one.  Returns 0 or -1 (err says why).
 */
static int
claim_copy(struct restore *rs, int s, struct claim *c, const char *name,
    char *err, size_t errsz)
{
	struct stat		 st;
	struct timespec		 ts[2];
	char			 u[1024], old[NAME_MAX + 1];
	off_t			 size;
	int			 out = -1, tries;

	if (rs->intmp == -1 && (rs->intmp = open_sub(rs->f.rootfd, "tmp")) ==
	    -1) {
		snprintf(err, errsz, "the inbox's tmp/: %s", strerror(errno));
		return -1;
	}
	for (tries = 0; tries < 5 && out == -1; tries++)
		if (maildir_unique(u, sizeof(u)) == -1 ||
		    ((out = maildir_tmp_open(rs->intmp, u)) == -1 &&
		    errno != EEXIST))
			break;
	if (out == -1) {
		snprintf(err, errsz, "create in the inbox's tmp/: %s",
		    strerror(errno));
		return -1;
	}
	if (fstat(c->fd, &st) == 0) {
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
	}
	if (st.st_nlink == 0 || maildir_tmp_fill(out, NULL, 0, c->fd) == -1 ||
	    futimens(out, ts) == -1) {
		snprintf(err, errsz, "copy into the inbox's tmp/: %s",
		    strerror(errno));
		close(out);
		goto fail;
	}
	if (maildir_tmp_seal(out, &size) == -1) {
		snprintf(err, errsz, "fsync in the inbox's tmp/: %s",
		    strerror(errno));
		goto fail;
	}
	for (tries = 0;; tries++) {
		if (maildir_publish(rs->intmp, u, rs->in[s], c->dname, 0) == 0)
			return 0;
		snprintf(old, sizeof(old), "%s", c->name);
		if (errno != EEXIST || tries == 4 ||
		    fresh_name(name, c->dname, sizeof(c->dname)) == -1 ||
		    claim_name(c, s) == -1 ||
		    rename_noreplace(rs->jtmp, old, rs->jtmp, c->name) == -1)
			break;
	}
	snprintf(err, errsz, "link into the inbox: %s", strerror(errno));
fail:
	maildir_tmp_drop(rs->intmp, u);
	return -1;
}

/*
 * Restore sub/name of a Junk folder on another filesystem: claim, copy,
 * then remove the claim.  A crash in between leaves the claim, never the
 * message in two places nor lost: expire removes a claim only when its
 * copy is in the inbox under the name it gives, and puts it back into
 * the Junk folder otherwise.  0, or -1 (said on stderr).
 */
static int
restore_across(struct restore *rs, int s, const char *name,
    const char *shown, char *dname_r, size_t dnamesz)
{
	struct claim	 c;
	char		 err[JUNK_SHOWN + 256];

	if (claim_take(rs, s, name, &c, err, sizeof(err)) == -1) {
		warnx_("%s: not restored: %s", shown, err);
		return -1;
	}
	if (claim_copy(rs, s, &c, name, err, sizeof(err)) == -1) {
		/* not published: the claim goes back where it was */
		if (rename_noreplace(rs->jtmp, c.name, rs->jd[s], name) == -1)
			warnx_("%s: not restored (%s) and left in %s/tmp/: %s",
			    shown, err, rs->f.shown, strerror(errno));
		else
			warnx_("%s: not restored: %s", shown, err);
		close(c.fd);
		return -1;
	}
	if (unlinkat(rs->jtmp, c.name, 0) == -1)
		warnx_("%s: restored, but its claim in %s/tmp/ stays: %s",
		    shown, rs->f.shown, strerror(errno));
	close(c.fd);
	snprintf(dname_r, dnamesz, "%s", c.dname);
	return 0;
}

/*
 * Move sub/name of the Junk folder into the same sub/ of the inbox, under
 * its own name (a fresh one if the inbox has that name), so that flags,
 * mtime and bytes stay what they were and the quota (one Maildir++ tree)
 * does not change.  The rename is the claim: of two restores at once one
 * moves the file and the other finds it gone.  A Junk folder on another
 * filesystem (a symbolic link to another disk) takes restore_across().
 * Returns 0, -1 for a transient failure, -2 for a refusal (said on
 * stderr).
 */
static int
restore_one(struct restore *rs, int s, const char *name, const char *shown)
{
	struct stat	 st;
	char		 dname[NAME_MAX + 1], err[PATH_MAX + 256];
	char		 newp[PATH_MAX + NAME_MAX + 8];
	char		 shownnew[4 * sizeof(newp) + 1];
	time_t		 filed;
	int		 tries, copied = 0;

	if (fstatat(rs->jd[s], name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		warnx_("%s: %s%s", shown, strerror(errno), errno == ENOENT ?
		    " (restored or moved meanwhile?)" : "");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx_("%s: %s, not restored", shown, S_ISLNK(st.st_mode) ?
		    "a symbolic link" : "not a regular file");
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
		warnx_("%s: not restored: %s/%s: %s", shown, rs->f.shownroot,
		    restore_subs[s], strerror(errno));
		return -1;
	}
	snprintf(dname, sizeof(dname), "%s", name);
	for (tries = 0;; tries++) {
		if (renameat2(rs->jd[s], name, rs->in[s], dname,
		    RENAME_NOREPLACE) == 0)
			goto moved;
		if (errno != EEXIST || tries == 4 ||
		    fresh_name(name, dname, sizeof(dname)) == -1)
			break;
	}
	/* no RENAME_NOREPLACE here, or another filesystem */
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
	    errno != EOPNOTSUPP) {
		warnx_("%s: not restored: %s%s", shown, strerror(errno),
		    errno == ENOENT ? " (restored or moved meanwhile?)" : "");
		return -1;
	}
	if (restore_across(rs, s, name, shown, dname, sizeof(dname)) == -1)
		return -1;
	copied = 1;
moved:
	errno = 0;
	if (fsync_dirfd(rs->in[s]) == -1 || fsync_dirfd(rs->jd[s]) == -1 ||
	    (copied && fsync_dirfd(rs->jtmp) == -1))
		warnx_("%s: restored, but fsync of a directory: %s", shown,
		    strerror(errno));
	/* out of Junk: the ledger counts backstop's names (junk.c) */
	if (maildir_name_time(name, &filed) == 0)
		junk_ledger_add(&rs->f, -(long long)maildir_name_size(name,
		    &st), -1);
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
		    rs->f.shown);
		return -2;
	}
	if (slash == NULL) {
		for (s = 0; s < 2; s++)
			if (rs->jd[s] != -1 && fstatat(rs->jd[s], arg, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				return s;
		warnx_("%s: not in the Junk folder %s (restored or moved "
		    "meanwhile?)", shown, rs->f.shown);
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
		    shown, rs->f.shown);
		return -2;
	}
	close(dfd);
	for (s = 0; s < 2; s++)
		if (rs->jd[s] != -1 && st.st_dev == rs->jst[s].st_dev &&
		    st.st_ino == rs->jst[s].st_ino)
			return s;
	warnx_("%s: not a message of the Junk folder %s (its cur/ or new/), "
	    "not restored", shown, rs->f.shown);
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

/*
 * --stdin: one path_escape()d name or path a line, as junk and scan
 * print them.  Sets *temp and *refused as restore_arg() answers.
 */
static void
restore_stdin(struct restore *rs, int *temp, int *refused)
{
	char	*line = NULL, *arg, *shown;
	size_t	 cap = 0;
	ssize_t	 k;
	int	 s;

	while (!*temp && (k = getline(&line, &cap, stdin)) != -1) {
		if (k > 0 && line[k - 1] == '\n')
			line[--k] = '\0';
		if (k == 0)
			continue;
		arg = xmalloc((size_t)k + 1);
		if (path_unescape(arg, (size_t)k + 1, line) == -1) {
			/* shown as given, escaped whole: 4 bytes a byte */
			shown = xmalloc(4 * (size_t)k + 1);
			path_escape(shown, 4 * (size_t)k + 1, line, (size_t)k);
			warnx_("--stdin: '%s': not a name as junk prints it, "
			    "not restored", shown);
			free(shown);
			*refused = 1;
		} else {
			s = restore_arg(rs, arg);
			*temp |= s == -1;
			*refused |= s == -2;
		}
		free(arg);
	}
	if (ferror(stdin)) {
		warnx_("reading standard input: %s", strerror(errno));
		*temp = 1;
	}
	free(line);
}

/* The Junk folder's cur/ and new/, once; 0, or -1 (said on stderr). */
static int
restore_open(struct restore *rs)
{
	char	 label[ESCAPED_MAX + 8];
	int	 s, rc = 0;

	for (s = 0; s < 2 && rs->f.fd != -1; s++) {
		snprintf(label, sizeof(label), "%s/%s", rs->f.shown,
		    restore_subs[s]);
		rs->jd[s] = sub_open(&rs->f, restore_subs[s], label);
		if (rs->jd[s] == -1 && errno != ENOENT)
			rc = -1;
		else if (rs->jd[s] != -1 && fstat(rs->jd[s], &rs->jst[s]) ==
		    -1) {
			warnx_("%s: %s", label, strerror(errno));
			close(rs->jd[s]);
			rs->jd[s] = -1;
			rc = -1;
		}
	}
	return rc;
}

static void
restore_close(struct restore *rs)
{
	int	 s;

	for (s = 0; s < 2; s++) {
		if (rs->jd[s] != -1)
			close(rs->jd[s]);
		if (rs->in[s] != -1)
			close(rs->in[s]);
	}
	if (rs->jtmp != -1)
		close(rs->jtmp);
	if (rs->intmp != -1)
		close(rs->intmp);
	junk_close(&rs->f);
}

int
cmd_restore(int argc, char **argv)
{
	struct restore	 rs;
	struct rules	*r;
	char		 root[PATH_MAX];
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
	if (root_path(o.maildir, root, sizeof(root)) == -1)
		return EXIT_TEMPFAIL;
	/* the folder name comes from the rules, as for junk and expire */
	if (load_rules(&r, o.rules) == -1)
		return EXIT_TEMPFAIL;
	memset(&rs, 0, sizeof(rs));
	rs.jd[0] = rs.jd[1] = rs.in[0] = rs.in[1] = -1;
	rs.jtmp = rs.intmp = -1;
	s = folder_open(&rs.f, root, rules_junk_folder(r));
	rules_free(r);
	if (s == -1)
		return EXIT_TEMPFAIL;
	temp = restore_open(&rs) == -1;
	for (i = optind; !temp && !fromstdin && i < argc; i++) {
		s = restore_arg(&rs, argv[i]);
		temp |= s == -1;
		refused |= s == -2;
	}
	if (!temp && fromstdin)
		restore_stdin(&rs, &temp, &refused);
	restore_close(&rs);
	if (stdout_flushed() == -1)
		return EXIT_IOERR;
	return temp ? EXIT_TEMPFAIL : refused ? EXIT_USAGE : EXIT_OK;
}
