/*
 * The sent index: what did the user really send?
 *
 * Design.  A bounce is proven ours when its original Message-ID is among
 * the Message-IDs of the user's sent folders, or when it names an
 * address the user wrote to.  Reading 100,000 messages per bounce is out
 * of the question, so an index file keeps their hashes (sentfile.h has
 * the layout): a lookup reads its header and the few 4 KiB blocks where
 * the hashes must stand, each block checked against its own check, never
 * the whole file.
 *
 * A hit is proof, whatever state the index is in (the user did send
 * it).  A miss is worth something only from an index that is CURRENT:
 * every file of every folder read, every directory as it was listed --
 * same device, inode, mtime and ctime (a folder whose mtime was set back
 * still has a new ctime; a directory listed in the second of its change
 * is marked unsure, as git does with racy index entries).  What a miss
 * may then be taken to mean (the period the index has watched, the
 * delay before a client saves its copy) is judged by evidence.c; this
 * file reports the facts: since when it watched the folders, since when
 * it knows every recipient, how many files it could not read.
 *
 * A stale index is brought up to date within a time budget: the
 * directories listed, the files it does not hold read, the new index
 * written to a temporary file and renamed over the old one
 * (sentfile.c: only over an absent file or an index of ours).  The sent
 * copies are mail, parsed by this program: that work runs in a child
 * process under a deadline and a memory limit, so that a crash or a hang
 * on one copy costs this bounce its answer (unknown) and a log line,
 * never the delivery; the copy that crashed it is left out of the next
 * try, and counted with the files that cannot be read (dangling links,
 * no permission), which are skipped and logged rather than holding the
 * index incomplete for ever.  Work that does not fit the budget is kept
 * for the next bounce.
 *
 * The index forgets nothing when a message leaves a folder: its
 * Message-ID and recipients stay (the user did send it), up to the
 * bounds, past which the oldest go first and the header says from when
 * it still knows everything.  "watched" is when this index first read
 * the folders: what was deleted before that was never seen, so no "not
 * sent" holds for a time before it.
 *
 * Hashing.  Message-IDs compare with their brackets stripped and the
 * part after the last '@' in lower case (RFC 5322 3.6.4: the local part
 * is case-sensitive).  Recipients are hashed in one form (addr.c: case,
 * IDN labels, and with the +tag cut as well as without) with a salt
 * drawn when the index is created and kept in it: the file does not show
 * the addresses at a glance, but whoever can read the file can test
 * addresses against it -- the salt is no key against its reader.  Two
 * different entries share a 64-bit hash with a chance of about n / 2^64:
 * a false "ours", which only costs a Junk filing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "backstop.h"
#include "extract.h"
#include "hdr.h"
#include "journal.h"
#include "maildir.h"
#include "sent.h"
#include "sentfile.h"
#include "util.h"

#define SENT_HDR_READ	(64 * 1024)	/* bytes read to find a header */
#define SENT_FILE_RCPTS	1000		/* recipients kept of one message */
#define SENT_SKIPS	8		/* copies left out after a crash */
#define SENT_BUILD_MEM	(1024UL << 20)	/* address space of a build */
#define SENT_UPLOAD	(15 * 60)	/* a tmp/ file: an upload under way */
#define SENT_TAIL_MAX	8192		/* journal entries a lookup reads;
					 * more are merged into the index */

/* The directories that make up the configured folders, as they are now. */
struct sent_dirs {
	char		*folder[SF_MAX_DIRS];	/* owned, one per dir */
	char		*path[SF_MAX_DIRS];	/* owned */
	struct sf_stamp	 st[SF_MAX_DIRS];
	size_t		 n;
	size_t		 nfolders;		/* folders that exist */
};

/* A file of a folder that the index does not hold yet. */
struct sent_todo {
	uint64_t	 key;
	size_t		 dir;
	char		*name;
};

/*
 * What a build running in a child shares with the process that waits
 * for it: the file it is reading (to leave out if it crashes there) and
 * what it has to say.
 */
struct sent_progress {
	volatile uint64_t key;		/* the file being read, */
	volatile int	 in_file;	/* while this is 1 */
	char		 path[512];	/* its path, for the log */
	char		 why[400];	/* the build's own report */
};

static int	 home_path(const char *, char *, size_t);

/*
 * The hash of a Message-ID: brackets and surrounding white space
 * stripped, the domain (after the last '@') folded to lower case.  Never
 * 0, which marks "this file has no Message-ID".
 */
uint64_t
sent_hash(const char *id)
{
	const char	*s = id, *e, *at = NULL, *p;
	uint64_t	 h = 0xcbf29ce484222325ULL;
	unsigned char	 c;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e - s >= 2 && *s == '<' && e[-1] == '>') {
		s++;
		e--;
	}
	for (p = s; p < e; p++)
		if (*p == '@')
			at = p;
	for (p = s; p < e; p++) {
		c = (unsigned char)*p;
		if (at != NULL && p > at && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = sf_hash_bytes(h, &c, 1);
	}
	h = sf_mix64(h);
	return h ? h : 1;
}

/*
 * The keyed hash of a recipient in its one form (addr.c) or of
 * "@domain": salted with the index's own salt (see above).
 */
static uint64_t
rcpt_hash(uint64_t salt, const char *a)
{
	uint64_t h = sf_mix64(sf_hash_bytes(0xcbf29ce484222325ULL ^ salt, a,
	    strlen(a)));

	return h ? h : 1;
}

/*
 * The hashes an address is known by: keys[0] the address, keys[1] the
 * address without its subaddress (0: it has none), keys[2] "@domain"
 * (0: none).  0 when the address cannot be put in its one form.
 */
static int
rcpt_keys(uint64_t salt, const char *addr, const char *delim,
    uint64_t keys[3])
{
	char	 norm[4 * LIM_ADDR + 8], part[4 * LIM_ADDR + 8];

	keys[0] = keys[1] = keys[2] = 0;
	if (addr_norm(addr, norm, sizeof(norm)) == 0)
		return 0;
	keys[0] = rcpt_hash(salt, norm);
	if (addr_base(norm, delim, part, sizeof(part)) != 0)
		keys[1] = rcpt_hash(salt, part);
	if (addr_domain(norm, part, sizeof(part)) != 0)
		keys[2] = rcpt_hash(salt, part);
	return 1;
}

/* $HOME/rel, or an absolute path as it is. */
static int
home_path(const char *rel, char *out, size_t outsz)
{
	const char *home;

	if (rel[0] == '/') {
		if ((size_t)snprintf(out, outsz, "%s", rel) >= outsz)
			return -1;
		return 0;
	}
	if ((home = maildir_home()) == NULL)
		return -1;
	if (rel[0] == '~' && rel[1] == '/')
		rel += 2;
	if ((size_t)snprintf(out, outsz, "%s/%s", home, rel) >= outsz)
		return -1;
	return 0;
}

/*
 * A folder name for outbound.sent: a Maildir++ folder under ~/Maildir
 * (".Sent", "Sent Items") or an absolute path to a maildir.
 */
int
sent_folder_valid(const char *name, char *err, size_t errsz)
{
	if (name[0] == '\0' || strlen(name) > 1000) {
		snprintf(err, errsz, "empty or overlong folder name");
		return -1;
	}
	if (name[0] == '/')
		return 0;
	if (strchr(name, '/') != NULL || strstr(name, "..") != NULL ||
	    strcmp(name, ".") == 0) {
		snprintf(err, errsz, "invalid folder name '%s' (a Maildir++ "
		    "folder such as .Sent, or an absolute path)", name);
		return -1;
	}
	return 0;
}

/*
 * The maildir of a folder name: an absolute path, or .Name in the maildir
 * delivered to (maildir: deliver -d; NULL: none) when it is there, else
 * in ~/Maildir.  *dir_r: 1 when it was found a directory (st filled), -1
 * when it was found not to be one, 0 when it was not looked at.
 */
static int
folder_path(const char *maildir, const char *name, char *out, size_t outsz,
    struct stat *st, int *dir_r)
{
	char		 rel[1100], *tried = NULL;
	int		 rc;

	*dir_r = 0;
	if (name[0] == '/')
		return home_path(name, out, outsz);
	if (maildir != NULL &&
	    (size_t)snprintf(out, outsz, "%s/%s%s", maildir,
	    name[0] == '.' ? "" : ".", name) < outsz) {
		if (stat(out, st) == 0 && S_ISDIR(st->st_mode)) {
			*dir_r = 1;
			return 0;
		}
		tried = xstrdup(out);
	}
	if ((size_t)snprintf(rel, sizeof(rel), "Maildir/%s%s",
	    name[0] == '.' ? "" : ".", name) >= sizeof(rel))
		rc = -1;
	else if ((rc = home_path(rel, out, outsz)) == 0 && tried != NULL &&
	    strcmp(tried, out) == 0)
		*dir_r = -1;	/* -d is ~/Maildir: no second look */
	free(tried);
	return rc;
}

int
sent_folder_path(const char *maildir, const char *name, char *out,
    size_t outsz)
{
	struct stat	 st;
	int		 dir;

	return folder_path(maildir, name, out, outsz, &st, &dir);
}

/* The index file: outbound.sent_index, else ~/.backstop-sent.idx. */
int
sent_index_path(const char *cfg, char *out, size_t outsz)
{
	return home_path(cfg != NULL ? cfg : ".backstop-sent.idx", out, outsz);
}

/* Default sent folders, the Maildir++ names that mail clients use. */
static const char *const sent_defaults[] = {
	".Sent", ".Sent Messages", ".Sent Items", NULL
};

const char *const *
sent_default_names(void)
{
	return sent_defaults;
}

static void
dirs_free(struct sent_dirs *d)
{
	size_t	 i;

	for (i = 0; i < d->n; i++) {
		free(d->folder[i]);
		free(d->path[i]);
	}
	d->n = 0;
}

static int
is_dir(const char *path, struct stat *st)
{
	return stat(path, st) == 0 && S_ISDIR(st->st_mode);
}

static void
add_dir(struct sent_dirs *d, const char *folder, const char *path,
    const struct stat *st)
{
	struct sf_stamp *s;

	if (d->n == SF_MAX_DIRS)
		return;
	d->folder[d->n] = xstrdup(folder);
	d->path[d->n] = xstrdup(path);
	s = &d->st[d->n++];
	memset(s, 0, sizeof(*s));
	s->key = sf_mix64(sf_hash_bytes(0xcbf29ce484222325ULL, path,
	    strlen(path)));
	s->dev = (uint64_t)st->st_dev;
	s->ino = (uint64_t)st->st_ino;
	s->sec = (int64_t)st->st_mtim.tv_sec;
	s->nsec = (int64_t)st->st_mtim.tv_nsec;
	s->csec = (int64_t)st->st_ctim.tv_sec;
	s->cnsec = (int64_t)st->st_ctim.tv_nsec;
}

/*
 * The directories of the folders of src, stat'ed now: cur/ and new/ of a
 * maildir, or the directory itself when it has neither.  Folders that do
 * not exist are skipped.  No folders named: the default ones.
 */
static void
dirs_get(struct sent_dirs *d, const struct sent_src *src)
{
	const char *const *names = src->folders;
	size_t		 nnames = src->nfolders, i, before;
	char		 folder[4096], sub[4200];
	struct stat	 st;
	const char	*name;
	static const char *const subs[] = { "cur", "new" };
	int		 k, known;

	d->n = d->nfolders = 0;		/* add_dir() fills the rest */
	if (!src->folders_on)
		return;
	if (names == NULL || nnames == 0) {
		names = sent_defaults;
		for (nnames = 0; names[nnames] != NULL; nnames++)
			;
	}
	for (i = 0; i < nnames; i++) {
		name = names[i];
		if (folder_path(src->maildir, name, folder, sizeof(folder), &st,
		    &known) == -1 || known == -1 || (known == 0 &&
		    !is_dir(folder, &st)))
			continue;
		before = d->n;
		for (k = 0; k < 2; k++) {
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", folder,
			    subs[k]) >= sizeof(sub))
				continue;
			if (is_dir(sub, &st))
				add_dir(d, folder, sub, &st);
		}
		if (d->n == before && is_dir(folder, &st))
			add_dir(d, folder, folder, &st);
		d->nfolders++;
	}
}

/*
 * Are the stamps of the index those of the directories now?  A stamp
 * marked unsure (its directory changed in the second it was listed) is
 * not, unless the index was written by this very lookup: then the
 * listing it holds is the latest, and an equal stamp means no change
 * since (the nanoseconds of today's filesystems tell).
 */
static int
is_current(const struct sf_hdr *h, const struct sf_stamp *stamps,
    const struct sent_dirs *d, int just_built)
{
	struct sf_stamp	 s;
	size_t		 i;

	if (h->nstamps != d->n)
		return 0;
	for (i = 0; i < d->n; i++) {
		if (stamps[i].unsure && !just_built)
			return 0;
		s = stamps[i];
		s.unsure = 0;
		if (memcmp(&s, &d->st[i], sizeof(s)) != 0)
			return 0;
	}
	return 1;
}

/* The recipients of the files read in one build. */
struct sent_rcpts {
	struct sf_pair	*v;
	size_t		 n, cap;
	uint64_t	 salt;
	const char	*delim;
	int64_t		 t;		/* the date of the file being read */
	size_t		 nfile;		/* recipients of that file */
};

static void
rcpts_push(struct sent_rcpts *rs, uint64_t h)
{
	if (h == 0)
		return;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 1024;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	rs->v[rs->n].h = h;
	rs->v[rs->n++].t = rs->t;
}

/* One address of a sent message: itself, without +tag, its domain. */
static int
on_rcpt(void *arg, const char *a, size_t st, size_t e)
{
	struct sent_rcpts *rs = arg;
	uint64_t	 keys[3];
	int		 i;

	(void)st;
	(void)e;
	if (rs->nfile++ >= SENT_FILE_RCPTS)
		return -1;
	if (rcpt_keys(rs->salt, a, rs->delim, keys))
		for (i = 0; i < 3; i++)
			rcpts_push(rs, keys[i]);
	return 0;
}

/*
 * The test suite's way to make reading a sent copy crash or hang, as a
 * hostile copy might (BACKSTOP_TEST_INJECT=sent-crash or sent-hang, and
 * "X-Backstop-Test: inject" in the copy's header): the containment of
 * sent_query() is then tested on the real code path.
 */
static void
test_inject(struct slice hb)
{
	const char	*inj = getenv("BACKSTOP_TEST_INJECT");
	struct slice	 v;

	if (inj == NULL || strncmp(inj, "sent-", 5) != 0 ||
	    !hdr_find(hb, "X-Backstop-Test", &v))
		return;
	if (strcmp(inj, "sent-crash") == 0)
		raise(SIGSEGV);
	if (strcmp(inj, "sent-hang") == 0)
		for (;;)
			pause();
}

/*
 * Read one message file up to the end of its header: its Message-ID
 * into id (1 with id set, 0 when it has none), and when rs is not NULL
 * the recipients dated by its Date: (else by the file's mtime) into rs.
 * -1 when it cannot be read (errno set).
 */
static int
file_read(const char *path, char *id, size_t idsz, struct sent_rcpts *rs,
    int64_t *date_r)
{
	char		*buf, date[200];
	size_t		 len = 0, cap = 8192, skip;
	ssize_t		 k;
	int		 fd, e;
	struct stat	 st;
	struct slice	 hb, v;
	int64_t		 t;

	id[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap >= SENT_HDR_READ)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			e = errno;
			close(fd);
			free(buf);
			errno = e;
			return -1;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		/* the end of the header block is all we need */
		if (memmem(buf, len, "\n\n", 2) != NULL ||
		    memmem(buf, len, "\n\r\n", 3) != NULL)
			break;
	}
	close(fd);
	/* an mbox "From " line before the header */
	skip = msg_from_line_len(buf, len);
	hb.p = buf + skip;
	hb.n = hdr_block_len(buf + skip, len - skip);
	test_inject(hb);
	e = hdr_find(hb, "Message-ID", &v) && hdr_msgid(v, id, idsz);
	if (!e)
		id[0] = '\0';
	if (rs != NULL) {
		rs->t = (int64_t)st.st_mtim.tv_sec;
		if (hdr_find(hb, "Date", &v)) {
			hdr_unfold(v, date, sizeof(date));
			if ((t = extract_date(date, strlen(date))) != 0)
				rs->t = t;
		}
		*date_r = rs->t;
		rs->nfile = 0;
		extract_header_rcpts(hb, on_rcpt, rs);
	}
	free(buf);
	return e;
}

/*
 * The Message-ID of one message file, read up to the end of its header.
 * Returns 1 with id set, 0 when it has none, -1 when it cannot be read.
 */
int
sent_msgid_file(const char *path, char *id, size_t idsz)
{
	return file_read(path, id, idsz, NULL, NULL);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Call fn for every message of a folder (cur/ and new/ of a maildir, or
 * the files of a plain directory), in name order: fn(arg, path, id),
 * id NULL when the message has none.  A file that cannot be read is
 * skipped and counted in *unreadable_r.  fn returning -1 stops.
 * Returns 0, or -1 when the folder cannot be listed (err set).
 */
int
sent_each(const char *folder, int (*fn)(void *, const char *, const char *),
    void *arg, size_t *unreadable_r, char *err, size_t errsz)
{
	struct sent_dirs d;
	struct sent_src	 src;
	const char	*one[1];
	char		 cwd[4096], abs[4096], path[4400], id[LIM_MSGID + 1];
	DIR		*dp;
	struct dirent	*de;
	char		**names = NULL;
	size_t		 n = 0, i, j;
	int		 rc = 0, r;

	if (folder[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, folder) >=
		    sizeof(abs)) {
			snprintf(err, errsz, "%.400s: path too long", folder);
			return -1;
		}
		folder = abs;
	}
	one[0] = folder;
	memset(&src, 0, sizeof(src));
	src.folders = one;
	src.nfolders = 1;
	src.folders_on = 1;
	dirs_get(&d, &src);
	if (d.n == 0) {
		snprintf(err, errsz, "%s: not a folder", folder);
		return -1;
	}
	for (i = 0; i < d.n && rc == 0; i++) {
		if ((dp = opendir(d.path[i])) == NULL) {
			snprintf(err, errsz, "%s: %s", d.path[i],
			    strerror(errno));
			rc = -1;
			break;
		}
		while ((de = readdir(dp)) != NULL) {
			if (de->d_name[0] == '.' || de->d_type == DT_DIR)
				continue;
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
		closedir(dp);
		if (n > 1)	/* an empty directory: names is NULL */
			qsort(names, n, sizeof(*names), str_cmp);
		for (j = 0; j < n; j++) {
			if (rc == 0 && (size_t)snprintf(path, sizeof(path),
			    "%s/%s", d.path[i], names[j]) < sizeof(path)) {
				r = sent_msgid_file(path, id, sizeof(id));
				if (r == -1)
					(*unreadable_r)++;
				else if (fn(arg, path, r ? id : NULL) == -1)
					rc = 1;
			}
			free(names[j]);
		}
		n = 0;
	}
	free(names);
	dirs_free(&d);
	return rc == -1 ? -1 : 0;
}

/* ---- building ---------------------------------------------------------- */

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int
u64_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct sf_pair *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

static int
i64_cmp(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int
todo_cmp(const void *a, const void *b)
{
	const struct sent_todo *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* What the listing of the directories found, for the build to read. */
struct sent_listing {
	const struct sf_name *old;	/* the old index's names, usable */
	size_t		 nold;
	unsigned char	*present;	/* per old name: its file is there */
	struct sent_todo *todo;		/* files the old index lacks */
	size_t		 ntodo;
	struct sf_stamp	 st[SF_MAX_DIRS];	/* stamps to write */
	int		 listed_all;
};

/* A new salt for the recipient hashes of a new index. */
static uint64_t
new_salt(void)
{
	uint64_t	 v = 0;
	struct timespec	 ts;

	if (getentropy(&v, sizeof(v)) == -1 || v == 0) {
		/* no entropy source: still unique per index */
		clock_gettime(CLOCK_REALTIME, &ts);
		v = sf_mix64((uint64_t)ts.tv_nsec ^
		    ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid());
	}
	return v;
}

/* The key of a file: its folder and the unique part of its name. */
static uint64_t
file_key(uint64_t folder_hash, const char *name)
{
	const char	*colon;
	size_t		 bl;

	/* "unique:2,FLAGS": the unique part survives moves from new/ to
	 * cur/ and flag changes */
	colon = strchr(name, ':');
	bl = colon ? (size_t)(colon - name) : strlen(name);
	return sf_mix64(sf_hash_bytes(folder_hash, name, bl));
}

/*
 * List every directory: which files of the old index are still there
 * (l->present), which files it lacks (l->todo, oldest names first), and
 * the stamps to write (a directory changed in this second, or that could
 * not be listed, is marked unsure).
 */
static void
dirs_list(const struct sent_dirs *d, struct sent_listing *l)
{
	struct sf_name	 key, *hit;
	DIR		*dp;
	struct dirent	*de;
	size_t		 i, captodo = 0;
	uint64_t	 fh;
	int64_t		 now = (int64_t)time(NULL);

	l->present = xmalloc(l->nold ? l->nold : 1);
	memset(l->present, 0, l->nold ? l->nold : 1);
	l->todo = NULL;
	l->ntodo = 0;
	l->listed_all = 1;
	memcpy(l->st, d->st, d->n * sizeof(l->st[0]));
	for (i = 0; i < d->n; i++) {
		if (l->st[i].sec >= now - 1 || l->st[i].csec >= now - 1)
			l->st[i].unsure = 1;	/* racy: look again */
		if ((dp = opendir(d->path[i])) == NULL) {
			l->listed_all = 0;
			l->st[i].unsure = 1;
			continue;
		}
		fh = sf_hash_bytes(0xcbf29ce484222325ULL, d->folder[i],
		    strlen(d->folder[i]) + 1);
		while ((de = readdir(dp)) != NULL) {
			if (de->d_name[0] == '.' || de->d_type == DT_DIR)
				continue;
			key.key = file_key(fh, de->d_name);
			hit = l->nold ? bsearch(&key, l->old, l->nold,
			    sizeof(*l->old), u64_cmp) : NULL;
			if (hit != NULL) {
				l->present[hit - l->old] = 1;
				continue;
			}
			if (l->ntodo == captodo) {
				captodo = captodo ? captodo * 2 : 256;
				l->todo = xrealloc(l->todo,
				    captodo * sizeof(*l->todo));
			}
			l->todo[l->ntodo].key = key.key;
			l->todo[l->ntodo].dir = i;
			l->todo[l->ntodo++].name = xstrdup(de->d_name);
		}
		closedir(dp);
	}
	if (l->ntodo > 1)
		qsort(l->todo, l->ntodo, sizeof(*l->todo), todo_cmp);
}

static void
listing_free(struct sent_listing *l)
{
	size_t	 i;

	for (i = 0; i < l->ntodo; i++)
		free(l->todo[i].name);
	free(l->todo);
	free(l->present);
}

/* What one build reads and makes. */
struct sent_build {
	const struct sent_src *src;
	const struct sf_map *m;		/* the old index (h NULL: none) */
	struct sf_hdr	 h;		/* the new header */
	struct sent_progress *pg;	/* shared with the parent, or NULL */
	const uint64_t	*skips;		/* keys of copies to leave out */
	size_t		 nskips;
	struct sent_rcpts rs;		/* recipients read now */
	struct sf_name	*fresh;		/* files read now, sorted by key */
	size_t		 nfresh;
	size_t		 unread;	/* files left for the next time */
	size_t		 skipped;	/* files that could not be read now */
	struct sf_name	*names;		/* merged */
	uint64_t	*ids;
	struct sf_pair	*rcpts;
	struct sf_pair	*rids;		/* recorded, merged from the journal */
	struct sf_pair	*rrcpts;
};

static int
skipped_key(const struct sent_build *b, uint64_t key)
{
	size_t	 i;

	for (i = 0; i < b->nskips; i++)
		if (b->skips[i] == key)
			return 1;
	return 0;
}

/*
 * Read the files the old index lacks, oldest names first, until the
 * budget (from t0; negative: no limit) is spent, into b->fresh (sorted,
 * one per file).  A file that cannot be read (a dangling link, no
 * permission) or that was left out after a crash is logged and held as a
 * file without a Message-ID: it does not keep the index incomplete.
 */
static void
files_read(struct sent_build *b, const struct sent_dirs *d,
    const struct sent_listing *l, const struct timespec *t0, long budget_ms)
{
	char		 fpath[4400], id[LIM_MSGID + 1];
	struct stat	 lst;
	size_t		 i, j, nnew = 0;
	int64_t		 date;
	int		 r;

	b->fresh = xmalloc((l->ntodo + 1) * sizeof(*b->fresh));
	for (i = 0; i < l->ntodo; i++) {
		if (budget_ms >= 0 && (i & 31) == 0 &&
		    elapsed_ms(t0) > budget_ms)
			break;
		r = 0;
		if ((size_t)snprintf(fpath, sizeof(fpath), "%s/%s",
		    d->path[l->todo[i].dir], l->todo[i].name) >= sizeof(fpath))
			r = -2;
		else if (skipped_key(b, l->todo[i].key)) {
			log_msg(LOG_WARNING, "sent index: %s crashed or hung the "
			    "reader before, left out", fpath);
			r = -2;
		} else {
			if (b->pg != NULL) {
				snprintf(b->pg->path, sizeof(b->pg->path),
				    "%.500s", fpath);
				b->pg->key = l->todo[i].key;
				b->pg->in_file = 1;
			}
			r = file_read(fpath, id, sizeof(id), &b->rs, &date);
			if (b->pg != NULL)
				b->pg->in_file = 0;
			if (r == -1 && errno == ENOENT &&
			    lstat(fpath, &lst) == -1)
				continue;	/* gone meanwhile: nothing */
			if (r == -1) {
				log_msg(LOG_WARNING, "sent index: %s: %s, "
				    "skipped", fpath, errno == ENOENT ?
				    "a dangling link" : strerror(errno));
				r = -2;
			} else if (date < b->h.first)
				b->h.first = date;
		}
		if (r == -2)
			b->skipped++;
		b->fresh[nnew].key = l->todo[i].key;
		b->fresh[nnew++].id = r == 1 ? sent_hash(id) : 0;
	}
	b->unread = l->ntodo - i;
	if (nnew > 1)
		qsort(b->fresh, nnew, sizeof(*b->fresh), u64_cmp);
	for (i = j = 0; i < nnew; i++)	/* one entry per file */
		if (j == 0 || b->fresh[j - 1].key != b->fresh[i].key)
			b->fresh[j++] = b->fresh[i];
	b->nfresh = j;
}

/*
 * Merge the files read now into the old names: linear.  Over the bound
 * the names of deleted files go first; what still does not fit is cut
 * (1: the index cannot be complete).
 */
static int
names_merge(struct sent_build *b, const struct sent_listing *l)
{
	size_t		 a, c, o, nold = l->nold, nnew = b->nfresh;
	int		 over = nold + nnew > SENT_MAX_IDS;

	b->names = xmalloc((nold + nnew + 1) * sizeof(*b->names));
	for (a = c = o = 0; a < nold || c < nnew; ) {
		if (a < nold && over && !l->present[a])
			a++;
		else if (c == nnew || (a < nold && l->old[a].key <
		    b->fresh[c].key))
			b->names[o++] = l->old[a++];
		else if (a < nold && l->old[a].key == b->fresh[c].key) {
			b->names[o++] = b->fresh[c++];
			a++;
		} else
			b->names[o++] = b->fresh[c++];
	}
	b->h.n[SF_NAMES] = o > SENT_MAX_IDS ? SENT_MAX_IDS : o;
	return o > SENT_MAX_IDS;
}

/*
 * The ids: the old ones and those of the files read now, sorted and
 * unique.  They outlive their files (the user sent them); over the bound
 * they are rebuilt from the names that are left.
 */
static void
ids_merge(struct sent_build *b, const struct sent_listing *l)
{
	const uint64_t	*oid = NULL;
	size_t		 noid = 0, i, j, n, nid, a, c;
	uint64_t	*nids;

	if (l->old != NULL) {
		oid = b->m->arr[SF_IDS];
		noid = (size_t)b->m->h->n[SF_IDS];
	}
	nids = xmalloc((b->nfresh + 1) * sizeof(*nids));
	for (i = nid = 0; i < b->nfresh; i++)
		if (b->fresh[i].id != 0)
			nids[nid++] = b->fresh[i].id;
	if (nid > 1)
		qsort(nids, nid, sizeof(*nids), u64_cmp);
	b->ids = xmalloc((noid + nid + b->h.n[SF_NAMES] + 1) *
	    sizeof(*b->ids));
	if (noid + nid > SENT_MAX_IDS) {
		for (i = j = 0; i < b->h.n[SF_NAMES]; i++)
			if (b->names[i].id != 0)
				b->ids[j++] = b->names[i].id;
		if (j > 1)
			qsort(b->ids, j, sizeof(*b->ids), u64_cmp);
	} else
		for (a = c = j = 0; a < noid || c < nid; )
			if (c == nid || (a < noid && oid[a] <= nids[c]))
				b->ids[j++] = oid[a++];
			else
				b->ids[j++] = nids[c++];
	for (i = n = 0; i < j; i++)
		if (n == 0 || b->ids[n - 1] != b->ids[i])
			b->ids[n++] = b->ids[i];
	b->h.n[SF_IDS] = n;
	free(nids);
}

/*
 * Merge two sorted (hash, date) arrays into a new one, unique; over max
 * the oldest go and *since_r moves to the first date still complete.
 */
static struct sf_pair *
pairs_merge(const struct sf_pair *old, size_t nold, struct sf_pair *add,
    size_t nadd, size_t max, uint64_t *n_r, int64_t *since_r)
{
	struct sf_pair	*out;
	const struct sf_pair *x;
	size_t		 a, c, o, i;
	int64_t		*ts, cut;

	if (nadd > 1)
		qsort(add, nadd, sizeof(*add), pair_cmp);
	out = xmalloc((nold + nadd + 1) * sizeof(*out));
	for (a = c = o = 0; a < nold || c < nadd; ) {
		if (c == nadd || (a < nold && pair_cmp(&old[a], &add[c]) <= 0))
			x = &old[a++];
		else
			x = &add[c++];
		if (o == 0 || pair_cmp(&out[o - 1], x) != 0)
			out[o++] = *x;
	}
	if (o > max) {
		ts = xmalloc(o * sizeof(*ts));
		for (i = 0; i < o; i++)
			ts[i] = out[i].t;
		qsort(ts, o, sizeof(*ts), i64_cmp);
		/* keep what is newer than the cut: at most the bound */
		cut = ts[o - max];
		free(ts);
		for (i = a = 0; i < o; i++)
			if (out[i].t > cut)
				out[a++] = out[i];
		o = a;
		if (cut + 1 > *since_r)
			*since_r = cut + 1;
	}
	*n_r = o;
	return out;
}

/*
 * The recorded arrays of the new index o: the old index's (when usable,
 * keep_old) and the journal's entries it has not merged yet (all of them
 * when the journal is another file than the one it merged), with how
 * far it is merged now.  No journal: none recorded.
 */
static void
journal_merge(struct sent_build *b, int keep_old, const char *jpath,
    struct sf_out *o)
{
	const struct sf_hdr *oh = b->m->h;
	struct sj_view	 jv;
	struct sj_entry	*e = NULL;
	struct sf_pair	*ids, *rc;
	size_t		 n = 0, i, ni = 0, nr = 0;
	off_t		 from;
	int		 same;

	o->h.n[SF_RIDS] = o->h.n[SF_RRCPTS] = 0;
	o->h.jdev = o->h.jino = o->h.joff = 0;
	if (jpath == NULL)
		return;
	same = keep_old && oh != NULL;
	from = same ? (off_t)oh->joff : 0;
	if (sj_read(jpath, from, SIZE_MAX / sizeof(*e), &jv, &e, &n) == -1)
		return;
	if (same && (jv.dev != oh->jdev || jv.ino != oh->jino)) {
		free(e);	/* another journal: merge it all afresh */
		same = 0;
		if (sj_read(jpath, 0, SIZE_MAX / sizeof(*e), &jv, &e,
		    &n) == -1)
			return;
	}
	ids = xmalloc((n + 1) * sizeof(*ids));
	rc = xmalloc((n + 1) * sizeof(*rc));
	for (i = 0; i < n; i++) {
		if (e[i].kind == SJ_ID) {
			ids[ni].h = e[i].h;
			ids[ni++].t = e[i].t;
		} else if (e[i].kind == SJ_RCPT) {
			rc[nr].h = e[i].h;
			rc[nr++].t = e[i].t;
		}
	}
	free(e);
	o->h.rec_since = same ? oh->rec_since : 0;
	b->rids = pairs_merge(same ? b->m->arr[SF_RIDS] : NULL, same ?
	    (size_t)oh->n[SF_RIDS] : 0, ids, ni, SENT_MAX_IDS,
	    &o->h.n[SF_RIDS], &o->h.rec_since);
	b->rrcpts = pairs_merge(same ? b->m->arr[SF_RRCPTS] : NULL, same ?
	    (size_t)oh->n[SF_RRCPTS] : 0, rc, nr, SENT_MAX_RCPTS,
	    &o->h.n[SF_RRCPTS], &o->h.rec_since);
	free(ids);
	free(rc);
	o->arr[SF_RIDS] = b->rids;
	o->arr[SF_RRCPTS] = b->rrcpts;
	o->h.jdev = jv.dev;
	o->h.jino = jv.ino;
	o->h.joff = (uint64_t)jv.size;
	if (jv.damaged)
		o->h.flags |= SF_F_JDAMAGED;
}

/*
 * Build the new index from the old one (b->m, may be empty) and the
 * directories d: list them, read the files the old index lacks for at
 * most budget_ms (negative: no limit), merge, write.  0; 1 when it could
 * only be written into memfd (sf_write()); -1 with why.
 */
static int
index_build(struct sent_build *b, const struct sent_dirs *d, long budget_ms,
    int memfd, char *why, size_t whysz)
{
	struct timespec	 t0;
	struct sent_listing l;
	struct sf_out	 o;
	struct sj_view	 jv;
	struct sj_entry	*je = NULL;
	const struct sf_hdr *oh = b->m->h;
	char		 jpath[4200];
	size_t		 jn;
	int		 over, a, rc, jok;
	int64_t		 now = clock_now();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&l, 0, sizeof(l));
	memset(&b->h, 0, sizeof(b->h));
	/* the journal's salt keys what record wrote: the index takes it */
	jok = sj_path(b->src->index, jpath, sizeof(jpath)) == 0 &&
	    sj_read(jpath, 0, 0, &jv, &je, &jn) != -1;
	free(je);
	if (oh != NULL && strncmp(oh->delim, b->src->delim,
	    sizeof(oh->delim)) == 0 && (!jok || jv.h.salt == oh->salt)) {
		l.old = b->m->arr[SF_NAMES];
		l.nold = (size_t)oh->n[SF_NAMES];
		b->h = *oh;
	} else {
		b->h.salt = jok ? jv.h.salt : new_salt();
		b->h.first = INT64_MAX;
		b->h.watched = now;
		snprintf(b->h.delim, sizeof(b->h.delim), "%s",
		    b->src->delim);
	}
	b->h.flags = 0;
	dirs_list(d, &l);
	b->rs.salt = b->h.salt;
	b->rs.delim = b->src->delim;
	files_read(b, d, &l, &t0, budget_ms);
	over = names_merge(b, &l);
	ids_merge(b, &l);
	b->rcpts = pairs_merge(l.old != NULL ? b->m->arr[SF_RCPTS] : NULL,
	    l.old != NULL ? (size_t)oh->n[SF_RCPTS] : 0, b->rs.v, b->rs.n,
	    SENT_MAX_RCPTS, &b->h.n[SF_RCPTS], &b->h.since);
	b->h.nskipped += b->skipped;
	if (l.listed_all && b->unread == 0 && !over)
		b->h.flags |= SF_F_COMPLETE;
	else
		for (a = 0; a < (int)d->n; a++)
			l.st[a].unsure = 1;
	b->h.nstamps = d->n;
	b->h.built = now;
	memset(&o, 0, sizeof(o));
	o.h = b->h;
	o.stamps = l.st;
	o.arr[SF_IDS] = b->ids;
	o.arr[SF_NAMES] = b->names;
	o.arr[SF_RCPTS] = b->rcpts;
	journal_merge(b, l.old != NULL, jok ? jpath : NULL, &o);
	rc = sf_write(b->src->index, &o, memfd, why, whysz);
	if (rc == 0)
		snprintf(why, whysz, "%s: %llu Message-IDs of %llu messages "
		    "in %zu folder%s%s", b->src->index,
		    (unsigned long long)o.h.n[SF_IDS],
		    (unsigned long long)o.h.n[SF_NAMES], d->nfolders,
		    d->nfolders == 1 ? "" : "s", (o.h.flags & SF_F_COMPLETE) ?
		    "" : over ? " (incomplete: over the size bound)" :
		    " (incomplete: more to read)");
	listing_free(&l);
	free(b->rs.v);
	free(b->fresh);
	free(b->names);
	free(b->ids);
	free(b->rcpts);
	free(b->rids);
	free(b->rrcpts);
	return rc;
}

/* ---- the build, contained ---------------------------------------------- */

/* What runs in the child: a build from the old index (unless rebuild). */
static void
child_build(const struct sent_src *src, int rebuild, long budget_ms,
    struct sent_progress *pg, const uint64_t *skips, size_t nskips,
    int memfd)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGALRM, SIGSEGV,
	    SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP, SIGXCPU,
	    SIGPIPE };
	struct sent_build b;
	struct sent_dirs d;
	struct sf_map	 m;
	struct rlimit	 rl;
	char		 why[400];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
#ifndef BACKSTOP_SANITIZE	/* ASan's shadow needs more than any limit */
	rl.rlim_cur = rl.rlim_max = SENT_BUILD_MEM;
	(void)setrlimit(RLIMIT_AS, &rl);
#else
	(void)rl;
#endif
	if (budget_ms >= 0)
		alarm((unsigned)(budget_ms / 1000) + 2);
	memset(&m, 0, sizeof(m));
	if (rebuild || sf_map(src->index, &m, why, sizeof(why)) == -1)
		memset(&m, 0, sizeof(m));
	dirs_get(&d, src);
	memset(&b, 0, sizeof(b));
	b.src = src;
	b.m = &m;
	b.pg = pg;
	b.skips = skips;
	b.nskips = nskips;
	rc = index_build(&b, &d, budget_ms, memfd, pg->why, sizeof(pg->why));
	sf_unmap(&m);
	dirs_free(&d);
	_exit(rc == 0 ? 0 : rc == 1 ? 2 : 1);
}

/*
 * Run a build in a child process under a deadline (budget_ms and a
 * second; negative: none) and a memory limit; the process that asks
 * stays out of reach of whatever a sent copy does to the parser.  A
 * child that crashes or hangs in a copy is tried again without it
 * (SENT_SKIPS at most, while time remains).  0 when an index was
 * written; 1 when it could only be written into memfd (an unwritable
 * home: this bounce is answered from memory); -1 with why (unknown for
 * this bounce, logged).
 */
static int
build_contained(const struct sent_src *src, int rebuild, long budget_ms,
    int memfd, char *why, size_t whysz)
{
	struct sent_progress *pg;
	struct timespec	 t0;
	struct pollfd	 pfd;
	uint64_t	 skips[SENT_SKIPS];
	size_t		 nskips = 0;
	long		 left;
	pid_t		 pid;
	int		 p[2], st, rc = -1, to, pr;

	pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED) {
		snprintf(why, whysz, "sent index: mmap: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		memset(pg, 0, sizeof(*pg));
		left = budget_ms < 0 ? -1 : budget_ms - elapsed_ms(&t0);
		if (budget_ms >= 0 && left <= 0) {
			snprintf(why, whysz, "sent index: no time left to read "
			    "the sent folders");
			break;
		}
		if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
			snprintf(why, whysz, "sent index: cannot start a "
			    "reader: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			close(p[0]);
			child_build(src, rebuild, left, pg, skips, nskips,
			    memfd);
		}
		close(p[1]);
		/* the pipe's end closes when the child is gone */
		pfd.fd = p[0];
		pfd.events = POLLIN;
		to = left < 0 ? -1 : (int)left + 1500;
		while ((pr = poll(&pfd, 1, to)) == -1 && errno == EINTR)
			;
		if (pr == 0)		/* still there: too long */
			kill(pid, SIGKILL);
		close(p[0]);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		if (WIFEXITED(st)) {
			rc = WEXITSTATUS(st) == 0 ? 0 : WEXITSTATUS(st) == 2 ?
			    1 : -1;
			if (pg->why[0] == '\0')
				snprintf(pg->why, sizeof(pg->why), "sent index: "
				    "the reader failed (exit %d)",
				    WEXITSTATUS(st));
			snprintf(why, whysz, "%s", pg->why);
			break;
		}
		/* killed: by what it read, or for taking too long */
		snprintf(why, whysz, "sent index: the reader %s%s%s",
		    WTERMSIG(st) == SIGKILL || WTERMSIG(st) == SIGALRM ?
		    "ran out of time" : "crashed", pg->in_file ?
		    " reading " : "", pg->in_file ? pg->path : "");
		log_msg(LOG_ERR, "%s", why);
		if (!pg->in_file || nskips == SENT_SKIPS)
			break;
		skips[nskips++] = pg->key;
	}
	munmap(pg, sizeof(*pg));
	return rc;
}

/* ---- lookups ----------------------------------------------------------- */

/* Does array a hold h (with a date in [from, to] for pairs)?  -1: bad. */
static int
has(struct sf_file *f, int a, uint64_t h, int64_t from, int64_t to)
{
	struct sf_pair	 p;
	size_t		 pos;

	if (h == 0 || f->h.n[a] == 0)
		return 0;
	if (sf_lower_bound(f, a, h, from, &pos) == -1)
		return -1;
	if (pos == f->h.n[a])
		return 0;
	if (sf_pair_at(f, a, pos, &p) == -1)
		return -1;
	return p.h == h && (a == SF_IDS || p.t <= to);
}

/*
 * Ask an open index q's questions: the ids, then each address and its
 * domain.  0, or -1 when a block failed its check (damaged).
 */
static int
search(struct sf_file *f, struct sent_query *q)
{
	static const int idarr[] = { SF_IDS, SF_RIDS };
	static const int rarr[] = { SF_RCPTS, SF_RRCPTS };
	uint64_t	 keys[3], x;
	size_t		 i, k;
	int		 r, s;

	for (i = 0; i < q->nids && q->id_hit == 0; i++) {
		x = sent_hash(q->ids[i]);
		for (s = 0; s < 2; s++) {
			/* a recorded id is dated: any date will do */
			r = has(f, idarr[s], x, INT64_MIN, INT64_MAX);
			if (r == -1)
				return -1;
			if (r == 1) {
				q->id_hit = i + 1;
				q->id_src = s ? SENT_RECORD : SENT_FOLDER;
				break;
			}
		}
	}
	for (i = 0; i < q->naddrs && i < SENT_MAX_ASK; i++) {
		if (!rcpt_keys(f->h.salt, q->addrs[i], f->h.delim, keys))
			continue;
		for (s = 0; s < 2; s++)
			for (k = 0; k < 3; k++) {
				if ((k == 2 && q->each[i] != 0) ||
				    (k < 2 && (q->each[i] & SENT_HIT_ADDR)))
					continue;
				r = has(f, rarr[s], keys[k], q->from, q->to);
				if (r == -1)
					return -1;
				if (r == 1) {
					q->each[i] |= k == 2 ?
					    SENT_HIT_DOMAIN : SENT_HIT_ADDR;
					q->each_src[i] = s ? SENT_RECORD :
					    SENT_FOLDER;
				}
			}
		if (q->each[i] & SENT_HIT_ADDR)
			q->each[i] = SENT_HIT_ADDR;
	}
	return 0;
}

static int
any_hit(const struct sent_query *q)
{
	size_t	 i;

	if (q->id_hit)
		return 1;
	for (i = 0; i < q->naddrs && i < SENT_MAX_ASK; i++)
		if (q->each[i] & SENT_HIT_ADDR)
			return 1;
	return 0;
}

/* What the header says of coverage, into q. */
static void
describe(const struct sf_hdr *h, struct sent_query *q)
{
	q->watched = h->watched;
	q->rcpt_from = h->since > h->watched ? h->since : h->watched;
	q->nids_known = h->n[SF_IDS];
	q->nrids_known = h->n[SF_RIDS];
	q->nskipped = h->nskipped;
	q->built = h->built;
	q->nrcpts_known = h->n[SF_RCPTS] + h->n[SF_RRCPTS];
}

/*
 * The entries of the journal the index has not merged (f NULL: no index,
 * all of them), matched against q's questions; q->rec_from from the
 * journal's start and what the index dropped.  1 when there are more
 * than a lookup reads (the index is to merge them), else 0.
 */
static int
search_tail(const struct sent_src *src, const struct sf_file *f,
    struct sent_query *q)
{
	struct sj_view	 jv;
	struct sj_entry	*e;
	char		 jpath[4200];
	uint64_t	 keys[SENT_MAX_ASK][3], x;
	size_t		 n, i, k, a;
	off_t		 from = 0;
	int		 more;

	q->rec_from = 0;
	if (sj_path(src->index, jpath, sizeof(jpath)) == -1)
		return 0;
	if (f != NULL)
		from = (off_t)f->h.joff;
	if ((more = sj_read(jpath, from, SENT_TAIL_MAX, &jv, &e, &n)) == -1)
		return 0;
	if (f != NULL && (jv.dev != f->h.jdev || jv.ino != f->h.jino)) {
		free(e);	/* not the journal it merged: all of it */
		if ((more = sj_read(jpath, 0, SENT_TAIL_MAX, &jv, &e,
		    &n)) == -1)
			return 0;
	}
	if (!jv.damaged && (f == NULL || !(f->h.flags & SF_F_JDAMAGED)))
		q->rec_from = f != NULL && f->h.rec_since > jv.h.since ?
		    f->h.rec_since : jv.h.since;
	for (a = 0; a < q->naddrs && a < SENT_MAX_ASK; a++)
		if (!rcpt_keys(jv.h.salt, q->addrs[a], src->delim, keys[a]))
			memset(keys[a], 0, sizeof(keys[a]));
	for (i = 0; i < n; i++) {
		if (e[i].kind == SJ_ID) {
			for (k = 0; k < q->nids && q->id_hit == 0; k++) {
				x = sent_hash(q->ids[k]);
				if (x == e[i].h) {
					q->id_hit = k + 1;
					q->id_src = SENT_RECORD;
				}
			}
			continue;
		}
		if (e[i].kind != SJ_RCPT || e[i].t < q->from || e[i].t > q->to)
			continue;
		for (a = 0; a < q->naddrs && a < SENT_MAX_ASK; a++)
			for (k = 0; k < 3; k++)
				if (keys[a][k] != 0 && keys[a][k] == e[i].h) {
					q->each[a] |= k == 2 ? SENT_HIT_DOMAIN :
					    SENT_HIT_ADDR;
					q->each_src[a] = SENT_RECORD;
				}
	}
	free(e);
	return more;
}

/*
 * Open the index at src into f and search it and the journal's tail for
 * q.  1 with f open, 0 when there is no usable index, -1 when it is
 * damaged (a block failed its check: no answer from it, and it is
 * rebuilt).  *more_r: the journal holds more than a lookup reads.
 */
static int
lookup(const struct sent_src *src, struct sf_file *f, struct sent_query *q,
    int *more_r)
{
	char	 why[400];

	memset(q->each, 0, sizeof(q->each));
	q->id_hit = 0;
	if (sf_open(src->index, f, why, sizeof(why)) == -1) {
		snprintf(q->why, sizeof(q->why), "%s", why);
		*more_r = search_tail(src, NULL, q);
		return 0;
	}
	if (search(f, q) == -1) {
		sf_close(f);
		memset(q->each, 0, sizeof(q->each));
		q->id_hit = 0;
		snprintf(q->why, sizeof(q->why), "%s: damaged (a block fails "
		    "its check), rebuilt", src->index);
		log_msg(LOG_WARNING, "%s", q->why);
		*more_r = search_tail(src, NULL, q);
		return -1;
	}
	describe(&f->h, q);
	*more_r = search_tail(src, f, q);
	return 1;
}

/* Is the open index f all of what the directories d hold now? */
static int
current(const struct sf_file *f, const struct sent_src *src,
    const struct sent_dirs *d, int just_built, struct sent_query *q)
{
	if (!(f->h.flags & SF_F_COMPLETE))
		snprintf(q->why, sizeof(q->why), "sent index incomplete: files "
		    "not read yet");
	else if (strncmp(f->h.delim, src->delim, sizeof(f->h.delim)) != 0)
		snprintf(q->why, sizeof(q->why), "sent index made with "
		    "another recipient_delimiter");
	else if (!is_current(&f->h, f->stamps, d, just_built))
		snprintf(q->why, sizeof(q->why), "sent folders changed since "
		    "the index was written");
	else
		return 1;
	return 0;
}

/*
 * Is a client saving a message into one of the folders right now?  A
 * maildir's tmp/ holds the file an IMAP server (Dovecot, Courier) writes
 * an APPEND into until it is whole: one changed in the last
 * SENT_UPLOAD seconds.
 */
static int
uploading(const struct sent_dirs *d)
{
	char		 tmp[4200], path[4500];
	struct stat	 st;
	DIR		*dp;
	struct dirent	*de;
	size_t		 i;
	int		 found = 0;
	int64_t		 now = clock_now();

	for (i = 0; i < d->n && !found; i++) {
		if (i > 0 && strcmp(d->folder[i], d->folder[i - 1]) == 0)
			continue;	/* cur/ and new/ of one folder */
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/tmp",
		    d->folder[i]) >= sizeof(tmp) || (dp = opendir(tmp)) == NULL)
			continue;
		while (!found && (de = readdir(dp)) != NULL)
			if (de->d_name[0] != '.' &&
			    (size_t)snprintf(path, sizeof(path), "%s/%s", tmp,
			    de->d_name) < sizeof(path) &&
			    lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    (int64_t)st.st_mtime > now - SENT_UPLOAD)
				found = 1;
		closedir(dp);
	}
	return found;
}

/*
 * The state of the folders' part of the open index f (rc: lookup()'s)
 * into q: CURRENT, or NONE when there is no folder (q->absent) or
 * outbound.sent is off.  1 when the index is to be built.
 */
static int
assess(const struct sent_src *src, int rc, const struct sf_file *f,
    int just_built, struct sent_query *q)
{
	struct sent_dirs *d;	/* 5 KiB: on the heap, where only what
				 * add_dir() writes is touched */
	int		 build = 0;

	q->state = SENT_NONE;
	q->absent = 0;
	if (!src->folders_on) {
		q->absent = 1;
		return rc != 1;
	}
	d = xmalloc(sizeof(*d));
	dirs_get(d, src);
	q->uploading = uploading(d);
	if (d->nfolders == 0) {
		q->absent = 1;
		snprintf(q->why, sizeof(q->why), "no sent folder found");
		build = rc != 1;
	} else if (rc == 1 && current(f, src, d, just_built, q))
		q->state = SENT_CURRENT;
	else {
		q->state = rc == 1 ? SENT_STALE : SENT_NONE;
		build = 1;
	}
	dirs_free(d);
	free(d);
	return build;
}

/*
 * Whether the index has a journal beside it (backstop record wrote one).
 * Its own frame: the 4 KiB path would otherwise sit in its callers', above
 * every lookup, and put the lookups' frames on pages of the stack that a
 * delivery has not touched yet (a page fault each).
 */
int __attribute__((noinline))
sent_has_journal(const char *index)
{
	struct stat	 st;
	char		 jpath[4200];

	return sj_path(index, jpath, sizeof(jpath)) == 0 &&
	    lstat(jpath, &st) == 0;
}

/*
 * Ask the sent index q's questions (sent.h).  A hit is proof from any
 * index or journal; otherwise q->state says what a miss in the sent
 * folders is worth: SENT_CURRENT when the index holds every file of
 * every folder as they are now (brought up to date within budget_ms,
 * negative: no limit), SENT_STALE or SENT_NONE with q->why; q->rec_from
 * since when recording is complete.  0, or -1 when src names nothing.
 */
int
sent_query(const struct sent_src *src, struct sent_query *q, long budget_ms)
{
	struct sent_src	 mem;
	struct sf_file	 f;
	char		 mpath[64];
	int		 rc, memfd, built, more, build;

	q->state = SENT_NONE;
	q->why[0] = '\0';
	q->watched = q->rcpt_from = q->rec_from = 0;
	q->nids_known = q->nrids_known = q->nskipped = 0;
	if (src->index == NULL)
		return -1;
	rc = lookup(src, &f, q, &more);
	if (any_hit(q)) {
		if (rc == 1)
			sf_close(&f);
		return 0;
	}
	build = assess(src, rc, &f, 0, q) || more;
	if (rc == 1)
		sf_close(&f);
	/* nothing to build from: no folder, no journal */
	if (!build || (q->absent && !sent_has_journal(src->index)))
		return 0;
	/* an index is mode 600 (sf_open() checks): so is this one */
	if ((memfd = memfd_create("backstop-sent", MFD_CLOEXEC)) != -1 &&
	    fchmod(memfd, 0600) == -1) {
		close(memfd);
		memfd = -1;
	}
	built = build_contained(src, rc == -1, budget_ms, memfd, q->why,
	    sizeof(q->why));
	if (built == -1) {
		if (memfd != -1)
			close(memfd);
		q->state = SENT_NONE;
		q->absent = 0;
		return 0;	/* why set */
	}
	/* unwritable: the index the child left in memory answers */
	mem = *src;
	if (built == 1) {
		snprintf(mpath, sizeof(mpath), "/proc/self/fd/%d", memfd);
		mem.index = mpath;
	}
	rc = lookup(&mem, &f, q, &more);
	if (memfd != -1)
		close(memfd);
	if (rc != 1)
		return 0;
	/* the folders as they are after the build: changed meanwhile is
	 * not current */
	if (!any_hit(q))
		(void)assess(src, rc, &f, 1, q);
	sf_close(&f);
	return 0;
}

/*
 * Bring the index fully up to date (learn, check-rules, check-config).
 * Returns the number of Message-IDs it holds, or -1; msg says what
 * happened.
 */
long
sent_refresh(const struct sent_src *src, char *msg, size_t msgsz)
{
	struct sent_query q;
	struct sent_dirs d;
	struct sf_file	 f;
	int		 more;

	dirs_get(&d, src);
	if (d.nfolders == 0 && src->folders_on) {
		dirs_free(&d);
		snprintf(msg, msgsz, "no sent folder found");
		return -1;
	}
	dirs_free(&d);
	if (build_contained(src, 0, -1, -1, msg, msgsz) == -1) {
		if (strncmp(msg, "sent index:", 11) != 0) {
			char	 tmp[600];

			snprintf(tmp, sizeof(tmp), "cannot write the sent "
			    "index: %s", msg);
			snprintf(msg, msgsz, "%s", tmp);
		}
		return -1;
	}
	memset(&q, 0, sizeof(q));
	if (lookup(src, &f, &q, &more) == 1)
		sf_close(&f);
	return (long)(q.nids_known + q.nrids_known);
}

/*
 * Is something other than a sent index at path (outbound.sent_index
 * naming ~/notes.txt, or the rule file)?  1 with why: it is never
 * replaced, and the rules are in error; 0 when the path is free or an
 * index.
 */
int
sent_index_foreign(const char *path, char *why, size_t whysz)
{
	return sf_is_ours(path, why, whysz) == 0;
}

/*
 * What the index is now, without bringing it up to date (check-config):
 * q->state, the coverage, q->why.  0, or -1 when src names no index.
 */
int
sent_status(const struct sent_src *src, struct sent_query *q)
{
	struct sf_file	 f;
	int		 rc, more;

	memset(q, 0, sizeof(*q));
	if (src->index == NULL)
		return -1;
	rc = lookup(src, &f, q, &more);
	(void)assess(src, rc, &f, 0, q);
	if (rc == 1)
		sf_close(&f);
	return 0;
}

/*
 * Call fn(arg, path, why) for each file of the sent folders that cannot
 * be read as a message (a dangling link, no permission, not a regular
 * file): what the index skips.  Reads no mail.  The count.
 */
size_t
sent_unreadable(const struct sent_src *src,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	struct sent_dirs d;
	struct stat	 st;
	DIR		*dp;
	struct dirent	*de;
	char		 path[4400];
	size_t		 i, n = 0;
	int		 fd;

	dirs_get(&d, src);
	for (i = 0; i < d.n; i++) {
		if ((dp = opendir(d.path[i])) == NULL) {
			fn(arg, d.path[i], strerror(errno));
			n++;
			continue;
		}
		while ((de = readdir(dp)) != NULL) {
			if (de->d_name[0] == '.' || de->d_type == DT_DIR ||
			    (size_t)snprintf(path, sizeof(path), "%s/%s",
			    d.path[i], de->d_name) >= sizeof(path))
				continue;
			if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
			    O_NONBLOCK)) == -1) {
				fn(arg, path, errno == ENOENT ? "a dangling "
				    "link" : strerror(errno));
				n++;
			} else {
				if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
					fn(arg, path, "not a regular file");
					n++;
				}
				close(fd);
			}
		}
		closedir(dp);
	}
	dirs_free(&d);
	return n;
}

#define SENT_RECENT_MAX	(64 * 1024)	/* INDEX.recent: the newest ids */

/*
 * The Message-IDs record saw last, in clear, one a line, for learn to
 * propose the pattern of what the world saw (INDEX.recent; the hashes
 * of the journal say nothing of a shape).  Kept under SENT_RECENT_MAX:
 * past it, the newer half is rewritten (the caller holds the journal's
 * lock, so no append is lost meanwhile).  Best effort: learn's help,
 * not evidence.
 */
static void
recent_add(const char *index, const char *id)
{
	char		 path[4200], err[300], line[LIM_MSGID + 2], *buf, *nl;
	struct slice	 v;
	struct stat	 st;
	size_t		 len;
	int		 fd, rfd;

	if ((size_t)snprintf(path, sizeof(path), "%s.recent", index) >=
	    sizeof(path) || strchr(id, '\n') != NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0600)) == -1)
		return;
	snprintf(line, sizeof(line), "%s\n", id);
	v.p = line;
	v.n = strlen(line);
	(void)write_iov(fd, &v, 1);
	if (fstat(fd, &st) == 0 && st.st_size > SENT_RECENT_MAX &&
	    (rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		if (read_all_fd(rfd, &buf, &len, 2 * SENT_RECENT_MAX) == -1) {
			close(rfd);
			close(fd);
			return;
		}
		close(rfd);
		v.p = buf + len / 2;
		if ((nl = memchr(v.p, '\n', len - len / 2)) != NULL) {
			v.p = nl + 1;
			v.n = (size_t)(buf + len - v.p);
			(void)file_replace(path, &v, 1, 0600, (uid_t)-1,
			    (gid_t)-1, NULL, NULL, err, sizeof(err));
		}
		free(buf);
	}
	close(fd);
}

/*
 * Call fn(arg, id) for each Message-ID in INDEX.recent (oldest first).
 * The count, or -1 when there is none.
 */
int
sent_recent(const struct sent_src *src, void (*fn)(void *, const char *),
    void *arg)
{
	char	 path[4200], *buf, *p, *nl;
	size_t	 len;
	int	 fd, n = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s.recent", src->index) >=
	    sizeof(path) || (fd = open(path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)) == -1)
		return -1;
	if (read_all_fd(fd, &buf, &len, 2 * SENT_RECENT_MAX) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	for (p = buf; p < buf + len && (nl = memchr(p, '\n',
	    (size_t)(buf + len - p))) != NULL; p = nl + 1) {
		*nl = '\0';
		if (p[0] == '<' && nl[-1] == '>') {
			fn(arg, p);
			n++;
		}
	}
	free(buf);
	return n;
}

/*
 * Record one message that left (backstop record): its Message-ID (NULL:
 * none) and the recipients addrs, dated t, appended to the journal of
 * the index at src (sj_begin(): locked, fsynced), keyed with the
 * journal's salt (the index's when the journal is new).  Then, when the
 * journal holds more than a lookup reads beyond what the index merged,
 * the index merges it (within budget_ms; what does not fit waits).  0,
 * or -1 with why and errno (the caller tells temporary from not).
 */
int
sent_record(const struct sent_src *src, const char *id,
    const char *const *addrs, size_t naddrs, int64_t t, long budget_ms,
    char *why, size_t whysz)
{
	struct sf_file	 f;
	struct sj_entry	*v;
	struct sent_query q;
	char		 jpath[4200], w[400];
	uint64_t	 salt, keys[3];
	size_t		 n = 0, i, k;
	int		 fd, more;

	if (sj_path(src->index, jpath, sizeof(jpath)) == -1) {
		snprintf(why, whysz, "%s: path too long", src->index);
		errno = ENAMETOOLONG;
		return -1;
	}
	salt = new_salt();
	if (sf_open(src->index, &f, w, sizeof(w)) == 0) {
		salt = f.h.salt;
		sf_close(&f);
	}
	if (sj_begin(jpath, salt, &fd, &salt, why, whysz) == -1)
		return -1;
	v = xmalloc((1 + 3 * naddrs) * sizeof(*v));
	memset(v, 0, (1 + 3 * naddrs) * sizeof(*v));
	if (id != NULL) {
		v[n].h = sent_hash(id);
		v[n].t = t;
		v[n++].kind = SJ_ID;
	}
	for (i = 0; i < naddrs; i++)
		if (rcpt_keys(salt, addrs[i], src->delim, keys))
			for (k = 0; k < 3; k++)
				if (keys[k] != 0) {
					v[n].h = keys[k];
					v[n].t = t;
					v[n++].kind = SJ_RCPT;
				}
	/* the id in clear too, for learn, while the journal is locked */
	if (id != NULL)
		recent_add(src->index, id);
	if (sj_commit(fd, v, n, why, whysz) == -1) {
		free(v);
		return -1;
	}
	free(v);
	/* a long tail: merge it into the index (a lookup reads the tail) */
	memset(&q, 0, sizeof(q));
	if (lookup(src, &f, &q, &more) == 1)
		sf_close(&f);
	if (more)
		(void)build_contained(src, 0, budget_ms, -1, w, sizeof(w));
	return 0;
}
