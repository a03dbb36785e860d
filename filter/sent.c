/*
 * The sent index: which Message-IDs did the user really send?
 *
 * Design.  A bounce is proven ours when its original Message-ID is among
 * the Message-IDs of the user's sent folders.  Reading 100,000 messages
 * per bounce is out of the question, so a small index file keeps them:
 *
 *	header (with a check over itself and the stamps)
 *	stamps[nstamps]	one per directory read (cur/, new/ of each folder):
 *			path hash, dev, inode and mtime when it was listed
 *	ids[nids]	sorted, unique 64-bit hashes of the Message-IDs
 *	names[nnames]	(hash of folder + file name, id hash), sorted by the
 *			first: which files are already in, so that a change
 *			of the folder costs reading the new files only
 *	rcpts[nrcpts]	(keyed hash of a recipient address, or of its
 *			"@domain", date of the message), sorted: whom the
 *			user wrote to, and when (To, Cc, Bcc, Resent-*)
 *
 * A lookup reads the header and stamps, then searches ids with pread()
 * from a guess where the hash must stand: a block or two read, whatever
 * the size.  (Mapping the file cost more than the search: on a virtual
 * machine every page fault is some 10 us, and a 2 MB folio maps and
 * unmaps at a price.)  Building the index maps it whole.  A hit is
 * proof even if the index is stale (the user did send it).  A miss
 * counts as "not sent" only when the index is complete and every
 * directory's mtime is what it was when it was listed; otherwise the
 * index is extended within a time budget: list the
 * directories, read the files whose names it does not hold, write the new
 * index to a temporary file and rename it over the old one.  Work that
 * does not fit the budget is kept for the next time, and the answer stays
 * "no evidence".  A missing, foreign, truncated or corrupt index is the
 * same as an empty one; nothing here can fail a delivery.
 *
 * A directory listed in the second of its mtime is marked unsure (as git
 * does with racy index entries), so that a file added in the same second
 * on a coarse clock is not missed.  The index holds at most SENT_MAX_IDS
 * files; past that the names of deleted files are dropped first, and an
 * index that still cannot hold everything is never "complete".  The index
 * is a cache: it is not fsynced, and a torn file reads as corrupt.
 *
 * Recipients are hashed with a salt drawn when the index is created, so
 * the file holds no address and nothing a list of addresses can be
 * tried against without the file itself; each message's Date: (else its
 * mtime) dates them.  The index keeps the recipients of deleted files
 * too (they were written to); past SENT_MAX_RCPTS the oldest go and the
 * header says from when it still knows them all ("since"), and "first"
 * is the oldest date of a sent message: "never wrote to X in this
 * window" needs an index that reaches back to the window's start.
 *
 * Message-IDs compare with their brackets stripped and the part after the
 * last '@' in lower case (domains are case-insensitive; the local part is
 * not, RFC 5322 3.6.4).  Two different ids share a 64-bit hash with a
 * chance of about n / 2^64: a false "ours", which only costs a Junk
 * filing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "extract.h"
#include "hdr.h"
#include "maildir.h"
#include "sent.h"
#include "util.h"

#define SENT_MAGIC	"BSSENT2\n"
#define SENT_VERSION	2	/* 2: recipients; an index of 1 is rebuilt */
#define SENT_F_COMPLETE	0x1
#define SENT_MAX_DIRS	64
#define SENT_UNSURE	INT64_MIN	/* stamp that never compares equal */
#define SENT_HDR_READ	(64 * 1024)	/* bytes read to find a header */

struct sent_hdr {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 flags;
	uint64_t	 nids;
	uint64_t	 nnames;
	uint64_t	 nstamps;
	int64_t		 built;
	uint64_t	 nrcpts;
	uint64_t	 salt;		/* keys the recipient hashes */
	int64_t		 first;		/* the oldest date of a sent message */
	int64_t		 since;		/* recipients before it were dropped */
	uint64_t	 data_check;	/* over ids, names and recipients */
	uint64_t	 check;		/* over this header and the stamps */
};

/* One recipient (or "@domain") of a sent message and its date. */
struct sent_rcpt {
	uint64_t	 h;
	int64_t		 t;
};

struct sent_stamp {
	uint64_t	 key;
	uint64_t	 dev;
	uint64_t	 ino;
	int64_t		 sec;
	int64_t		 nsec;
};

struct sent_name {
	uint64_t	 key;		/* first: sorted as a uint64_t */
	uint64_t	 id;
};

/* The directories that make up the configured folders, as they are now. */
struct sent_dirs {
	char		*folder[SENT_MAX_DIRS];	/* owned, one per dir */
	char		*path[SENT_MAX_DIRS];	/* owned */
	struct sent_stamp st[SENT_MAX_DIRS];
	size_t		 n;
	size_t		 nfolders;		/* folders that exist */
};

struct sent_map {
	void		*base;
	size_t		 size;
	const struct sent_hdr *h;
	const struct sent_stamp *stamps;
	const uint64_t	*ids;
	const struct sent_name *names;
	const struct sent_rcpt *rcpts;
};

/*
 * The index as a lookup reads it: the header and stamps copied in, the
 * arrays read a block at a time (struct sent_arr).
 */
struct sent_file {
	int		 fd;		/* -1: none */
	struct sent_hdr	 h;
	struct sent_stamp stamps[SENT_MAX_DIRS];
	off_t		 ids_off;	/* where the arrays start */
	off_t		 rcpts_off;
	off_t		 blk_arr;	/* the array blk is of; -1: none */
	size_t		 blk_first;	/* its entries [first, first + n) */
	size_t		 blk_n;
	uint64_t	 blk[512];	/* 4 KiB */
};

/* A sorted array of the index: in memory (built now) or in the file. */
struct sent_arr {
	const void	*mem;		/* NULL: read from f at off */
	struct sent_file *f;
	off_t		 off;
	size_t		 n;
	size_t		 stride;	/* bytes per entry; divides 4096 */
};

/* A file of a folder that the index does not hold yet. */
struct sent_todo {
	uint64_t	 key;
	size_t		 dir;
	char		*name;
};

static uint64_t	 mix64(uint64_t);
static uint64_t	 hash_bytes(uint64_t, const void *, size_t);
static int	 home_path(const char *, char *, size_t);

static uint64_t
mix64(uint64_t h)
{
	/* the finalizer of MurmurHash3: every input bit reaches every bit */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* FNV-1a over bytes, seeded. */
static uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t	 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * A fast check over 64-bit words, for the data part of the file:
 * mix64(hash_words(hash_words(HASH_WORDS_SEED, a, n), b, m)).
 */
#define HASH_WORDS_SEED	0x9e3779b97f4a7c15ULL

static uint64_t
hash_words(uint64_t h, const uint64_t *w, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		h = (h ^ w[i]) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

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
		h = hash_bytes(h, &c, 1);
	}
	h = mix64(h);
	return h ? h : 1;
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
	struct sent_stamp *s;

	if (d->n == SENT_MAX_DIRS)
		return;
	d->folder[d->n] = xstrdup(folder);
	d->path[d->n] = xstrdup(path);
	s = &d->st[d->n++];
	memset(s, 0, sizeof(*s));
	s->key = mix64(hash_bytes(0xcbf29ce484222325ULL, path, strlen(path)));
	s->dev = (uint64_t)st->st_dev;
	s->ino = (uint64_t)st->st_ino;
	s->sec = (int64_t)st->st_mtim.tv_sec;
	s->nsec = (int64_t)st->st_mtim.tv_nsec;
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
	size_t		 nnames = src->nfolders;
	char		 folder[4096], sub[4200];
	struct stat	 st;
	size_t		 i, before;
	const char	*name;
	static const char *const subs[] = { "cur", "new" };
	int		 k, known;

	memset(d, 0, sizeof(*d));
	if (names == NULL || nnames == 0) {
		names = sent_defaults;
		for (nnames = 0; names[nnames] != NULL; nnames++)
			;
	}
	for (i = 0; i < nnames; i++) {
		name = names[i];
		if (folder_path(src->maildir, name, folder, sizeof(folder), &st,
		    &known) ==
		    -1 || known == -1 || (known == 0 && !is_dir(folder, &st)))
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

static void
map_close(struct sent_map *m)
{
	if (m->base != NULL)
		munmap(m->base, m->size);
	memset(m, 0, sizeof(*m));
}

static uint64_t
hdr_check(const struct sent_hdr *h, const struct sent_stamp *st)
{
	struct sent_hdr	 c = *h;
	uint64_t	 v;

	c.check = 0;
	v = hash_bytes(0xcbf29ce484222325ULL, &c, sizeof(c));
	v = hash_bytes(v, st, (size_t)h->nstamps * sizeof(*st));
	return mix64(v);
}

/*
 * Open the index and check that it can be one: a regular file of the
 * user's, writable by no one else, with room for a header.  The fd, or -1
 * with why set.
 */
static int
index_open(const char *path, struct stat *st, char *why, size_t whysz)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_uid != getuid() || (st->st_mode & (S_IWGRP | S_IWOTH)) ||
	    st->st_size < (off_t)sizeof(struct sent_hdr)) {
		snprintf(why, whysz, "%s: not a valid index (type, owner, "
		    "mode or size)", path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Is h the header of an index of this version, within the bounds, of a
 * file of size bytes, its check holding over it and the stamps?  The
 * stamps are read only once the size says they are there.
 */
static int
hdr_valid(const struct sent_hdr *h, const struct sent_stamp *stamps,
    uint64_t size)
{
	return memcmp(h->magic, SENT_MAGIC, 8) == 0 &&
	    h->version == SENT_VERSION && h->nids <= SENT_MAX_IDS &&
	    h->nnames <= SENT_MAX_IDS && h->nstamps <= SENT_MAX_DIRS &&
	    h->nrcpts <= SENT_MAX_RCPTS &&
	    size == sizeof(*h) + h->nstamps * sizeof(struct sent_stamp) +
	    h->nids * sizeof(uint64_t) + h->nnames * sizeof(struct sent_name) +
	    h->nrcpts * sizeof(struct sent_rcpt) &&
	    hdr_check(h, stamps) == h->check;
}

/*
 * Map and validate the whole index (to build a new one from it).
 * Returns 0, or -1 with why set (missing, not ours, corrupt): the caller
 * then has an empty index.
 */
static int
map_open(const char *path, struct sent_map *m, char *why, size_t whysz)
{
	struct stat	 st;
	int		 fd;
	const struct sent_hdr *h;

	memset(m, 0, sizeof(*m));
	if ((fd = index_open(path, &st, why, whysz)) == -1)
		return -1;
	m->size = (size_t)st.st_size;
	m->base = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		snprintf(why, whysz, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	h = m->base;
	if (!hdr_valid(h, (const struct sent_stamp *)(h + 1), m->size)) {
		snprintf(why, whysz, "%s: corrupt or of another version, "
		    "ignored", path);
		map_close(m);
		return -1;
	}
	m->h = h;
	m->stamps = (const struct sent_stamp *)(h + 1);
	m->ids = (const uint64_t *)(m->stamps + h->nstamps);
	m->names = (const struct sent_name *)(m->ids + h->nids);
	m->rcpts = (const struct sent_rcpt *)(m->names + h->nnames);
	return 0;
}

static void
file_close(struct sent_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
}

/*
 * Open the index for a lookup: its header and stamps read and checked,
 * the file left open for the searches.  Returns 0, or -1 with why set
 * (missing, not ours, corrupt): the caller then has an empty index.
 */
static int
file_open(const char *path, struct sent_file *f, char *why, size_t whysz)
{
	struct stat	 st;
	struct iovec	 v[2];
	struct sent_hdr	*h = &f->h;
	ssize_t		 k;

	f->blk_arr = -1;
	if ((f->fd = index_open(path, &st, why, whysz)) == -1)
		return -1;
	/* the header and as many stamps as there can be, in one read */
	v[0].iov_base = h;
	v[0].iov_len = sizeof(*h);
	v[1].iov_base = f->stamps;
	v[1].iov_len = sizeof(f->stamps);
	while ((k = preadv(f->fd, v, 2, 0)) == -1 && errno == EINTR)
		;
	if (k < (ssize_t)sizeof(*h) || h->nstamps > SENT_MAX_DIRS ||
	    (size_t)k < sizeof(*h) + h->nstamps * sizeof(struct sent_stamp) ||
	    !hdr_valid(h, f->stamps, (uint64_t)st.st_size)) {
		snprintf(why, whysz, "%s: corrupt or of another version, "
		    "ignored", path);
		file_close(f);
		return -1;
	}
	f->ids_off = (off_t)(sizeof(*h) + h->nstamps * sizeof(*f->stamps));
	f->rcpts_off = f->ids_off + (off_t)(h->nids * sizeof(uint64_t) +
	    h->nnames * sizeof(struct sent_name));
	return 0;
}

static struct sent_arr
arr_mem(const void *v, size_t n, size_t stride)
{
	struct sent_arr a = { v, NULL, 0, n, stride };

	return a;
}

static struct sent_arr
arr_file(struct sent_file *f, off_t off, size_t n, size_t stride)
{
	struct sent_arr a = { NULL, f, off, n, stride };

	return a;
}

/*
 * Entry i of a, or NULL when the file cannot be read.  From the file it
 * reads the 4 KiB of entries centred on i and keeps them for the next
 * call: a search that starts at its guess stays in that block.
 */
static const void *
arr_at(const struct sent_arr *a, size_t i)
{
	struct sent_file *f = a->f;
	size_t		 per, j, n;
	ssize_t		 k;

	if (a->mem != NULL)
		return (const char *)a->mem + i * a->stride;
	if (f->blk_arr != a->off || i < f->blk_first ||
	    i >= f->blk_first + f->blk_n) {
		per = sizeof(f->blk) / a->stride;
		j = i > per / 2 ? i - per / 2 : 0;
		if (a->n > per && j > a->n - per)
			j = a->n - per;
		n = a->n - j < per ? a->n - j : per;
		f->blk_arr = -1;
		while ((k = pread(f->fd, f->blk, n * a->stride, a->off +
		    (off_t)(j * a->stride))) == -1 && errno == EINTR)
			;
		if (k != (ssize_t)(n * a->stride))
			return NULL;
		f->blk_arr = a->off;
		f->blk_first = j;
		f->blk_n = n;
	}
	return (const char *)f->blk + (i - f->blk_first) * a->stride;
}

/* The 64-bit hash that entry i of a starts with; -1: unreadable. */
static int
arr_key(const struct sent_arr *a, size_t i, uint64_t *k)
{
	const void	*p = arr_at(a, i);

	if (p == NULL)
		return -1;
	memcpy(k, p, sizeof(*k));
	return 0;
}

/*
 * Where x can be in a sorted array of n entries whose first member is a
 * 64-bit hash: [*lo_r, *hi_r), every entry before *lo_r below x and
 * every entry from *hi_r on above it.  The hashes spread evenly, so the
 * window narrows by interpolation: x stands near (x - klo) / (khi - klo)
 * of the way from lo to hi.  Each probe also tries the entry half a
 * block (2 KiB) beyond it, on the side where x must be, which arr_at()
 * has read with it: a few probes, a block read each, bring the window
 * within one block, where a binary search from the whole file read a
 * block at each of its ~20 steps.  A recipient's hash repeats once per
 * date, so the runs of equal keys make the guess coarser; a probe that
 * hits x widens around it, doubling.  On an index out of order the window
 * is merely wrong, as the search was.  -1 when the file cannot be read.
 */
static int
hash_window(const struct sent_arr *a, uint64_t x, size_t *lo_r,
    size_t *hi_r)
{
	size_t		 n = a->n, lo = 0, hi = n, r, g, t, step;
	uint64_t	 klo = 0, khi = UINT64_MAX, k;
	int		 probes;

	r = 2048 / a->stride - 1;	/* within the block centred on g */
	for (probes = 0; probes < 8 && hi - lo > 2 * r; probes++) {
		g = lo + (size_t)((unsigned __int128)(x - klo) * (hi - lo) /
		    ((unsigned __int128)(khi - klo) + 1));
		if (g <= lo)
			g = lo + 1;
		if (g >= hi)
			g = hi - 1;
		if (arr_key(a, g, &k) == -1)
			return -1;
		if (k == x) {
			/* in a run of x: widen to its ends */
			for (step = 16, t = g; t > lo; step *= 2) {
				t = t - lo > step ? t - step : lo;
				if (arr_key(a, t, &k) == -1)
					return -1;
				if (k < x)
					break;
			}
			lo = t;
			for (step = 16, t = g; t < hi; step *= 2) {
				t = hi - t > step ? t + step : hi;
				if (t == hi)
					break;
				if (arr_key(a, t, &k) == -1)
					return -1;
				if (k > x)
					break;
			}
			hi = t;
			break;
		}
		if (k < x) {
			lo = g;
			klo = k;
			t = hi - g > r ? g + r : hi - 1;
		} else {
			hi = g;
			khi = k;
			t = g - lo > r ? g - r : lo + 1;
		}
		if (t <= lo || t >= hi)
			continue;
		if (arr_key(a, t, &k) == -1)
			return -1;
		if (k < x) {
			lo = t;
			klo = k;
		} else if (k > x) {
			hi = t;
			khi = k;
		}
	}
	*lo_r = lo;
	*hi_r = hi;
	return 0;
}

/*
 * Binary search that also checks that what it reads is in order, so that
 * a damaged array (or one that cannot be read) answers "corrupt" rather
 * than anything.
 */
static int
ids_find(const struct sent_arr *a, uint64_t x, int *corrupt_r)
{
	size_t		 lo, hi, mid;
	uint64_t	 lov = 0, hiv = UINT64_MAX, v;

	if (hash_window(a, x, &lo, &hi) == -1) {
		*corrupt_r = 1;
		return 0;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (arr_key(a, mid, &v) == -1 || v < lov || v > hiv) {
			*corrupt_r = 1;
			return 0;
		}
		if (v == x)
			return 1;
		if (v < x) {
			lo = mid + 1;
			lov = v;
		} else {
			hi = mid;
			hiv = v;
		}
	}
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int
rcpt_cmp(const void *a, const void *b)
{
	const struct sent_rcpt *x = a, *y = b;

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
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
todo_cmp(const void *a, const void *b)
{
	const struct sent_todo *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Are the stamps of the index (h NULL: none) those of the directories? */
static int
is_current(const struct sent_hdr *h, const struct sent_stamp *stamps,
    const struct sent_dirs *d)
{
	size_t	 i;

	if (h == NULL || h->nstamps != d->n)
		return 0;
	for (i = 0; i < d->n; i++)
		if (stamps[i].sec == SENT_UNSURE ||
		    memcmp(&stamps[i], &d->st[i], sizeof(d->st[i])) != 0)
			return 0;
	return 1;
}

/* The recipients of the files read in one build. */
struct sent_rcpts {
	struct sent_rcpt *v;
	size_t		 n, cap;
	uint64_t	 salt;
	int64_t		 t;		/* the date of the file being read */
	size_t		 nfile;		/* recipients of that file */
};

#define SENT_FILE_RCPTS	1000	/* recipients kept of one message */

/*
 * The keyed hash of a recipient address (lower case) or of "@domain":
 * the salt is the index's own, drawn when it is created, so that the
 * file holds nothing a dictionary of addresses can be matched against
 * without it, and two users' indexes share no hash.
 */
static uint64_t
rcpt_hash(uint64_t salt, const char *a, size_t n)
{
	uint64_t h = mix64(hash_bytes(0xcbf29ce484222325ULL ^ salt, a, n));

	return h ? h : 1;
}

static void
rcpts_push(struct sent_rcpts *rs, uint64_t h)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 1024;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	rs->v[rs->n].h = h;
	rs->v[rs->n++].t = rs->t;
}

/* One address of a sent message: itself and its domain. */
static int
on_rcpt(void *arg, const char *a, size_t st, size_t e)
{
	struct sent_rcpts *rs = arg;
	const char	*at = strrchr(a, '@');

	(void)st;
	(void)e;
	if (rs->nfile++ >= SENT_FILE_RCPTS)
		return -1;
	rcpts_push(rs, rcpt_hash(rs->salt, a, strlen(a)));
	if (at != NULL)
		rcpts_push(rs, rcpt_hash(rs->salt, at, strlen(at)));
	return 0;
}

/*
 * Read one message file up to the end of its header: its Message-ID
 * into id (1 with id set, 0 when it has none), and when rs is not NULL
 * the recipients (To, Cc, Bcc and their Resent- forms) dated by its
 * Date: (else by the file's mtime) into rs.  -1 when it cannot be read.
 */
static int
file_read(const char *path, char *id, size_t idsz, struct sent_rcpts *rs,
    int64_t *date_r)
{
	static const char *const rfields[] = {
		"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"
	};
	char		*buf, *val;
	size_t		 len = 0, cap = 8192, skip, i;
	ssize_t		 k;
	int		 fd, e;
	struct stat	 st;
	struct slice	 hb, v, cur, nm;

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
	e = hdr_find(hb, "Message-ID", &v) && hdr_msgid(v, id, idsz);
	if (!e)
		id[0] = '\0';
	if (rs != NULL) {
		val = xmalloc(LIM_FIELD_BYTES);
		rs->t = (int64_t)st.st_mtim.tv_sec;
		if (hdr_find(hb, "Date", &v)) {
			int64_t t;

			hdr_unfold(v, val, LIM_FIELD_BYTES);
			if ((t = extract_date(val, strlen(val))) != 0)
				rs->t = t;
		}
		*date_r = rs->t;
		rs->nfile = 0;
		cur = hb;
		while (hdr_next(&cur, &nm, &v))
			for (i = 0; i < sizeof(rfields) / sizeof(rfields[0]);
			    i++)
				if (nm.n == strlen(rfields[i]) &&
				    ascii_casecmp_n(nm.p, rfields[i], nm.n) ==
				    0) {
					hdr_unfold(v, val, LIM_FIELD_BYTES);
					hdr_decode_words(val, LIM_FIELD_BYTES);
					extract_addrs(val, strlen(val), on_rcpt,
					    rs);
				}
		free(val);
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

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Write the index, atomically: file_replace(). */
static int
index_write(const char *path, struct sent_hdr *h, const struct sent_stamp *st,
    const uint64_t *ids, const struct sent_name *names,
    const struct sent_rcpt *rcpts, char *why, size_t whysz)
{
	struct slice	 v[5];

	v[0].p = (const char *)h;
	v[0].n = sizeof(*h);
	v[1].p = (const char *)st;
	v[1].n = h->nstamps * sizeof(*st);
	v[2].p = (const char *)ids;
	v[2].n = h->nids * sizeof(*ids);
	v[3].p = (const char *)names;
	v[3].n = h->nnames * sizeof(*names);
	v[4].p = (const char *)rcpts;
	v[4].n = h->nrcpts * sizeof(*rcpts);
	return file_replace(path, v, 5, 0600, (uid_t)-1, (gid_t)-1, NULL, NULL,
	    why, whysz);
}

/* The outcome of a build, kept in memory to answer the lookup. */
struct sent_built {
	uint64_t	*ids;
	size_t		 nids;
	size_t		 nnames;
	struct sent_rcpt *rcpts;
	size_t		 nrcpts;
	uint64_t	 salt;
	int64_t		 first;
	int64_t		 since;
	int		 complete;
	size_t		 unread;	/* files left for the next time */
};

/* What the listing of the directories found, for the build to read. */
struct sent_listing {
	const struct sent_name *old;	/* the old index's names, usable */
	size_t		 nold;
	unsigned char	*present;	/* per old name: its file is there */
	struct sent_todo *todo;		/* files the old index lacks */
	size_t		 ntodo;
	struct sent_stamp st[SENT_MAX_DIRS];	/* stamps to write */
	int		 listed_all;
	uint64_t	 salt;		/* the old index's, or a new one */
	int64_t		 first, since;	/* the old index's */
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
		v = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		    (uint64_t)getpid());
	}
	return v;
}

/*
 * The names of the old index, when its data check holds and its arrays
 * are in order; otherwise none (the index is built afresh).
 */
static void
old_names(const struct sent_map *m, struct sent_listing *l)
{
	const struct sent_name *old;
	size_t		 nold, i, j;

	l->old = NULL;
	l->nold = 0;
	l->salt = new_salt();
	l->first = INT64_MAX;
	l->since = 0;
	if (m->h == NULL || m->h->nnames == 0 ||
	    mix64(hash_words(HASH_WORDS_SEED, (const uint64_t *)m->ids,
	    (size_t)(m->h->nids + 2 * m->h->nnames + 2 * m->h->nrcpts))) !=
	    m->h->data_check)
		return;
	old = m->names;
	nold = (size_t)m->h->nnames;
	for (i = 1; i < nold; i++)
		if (old[i - 1].key >= old[i].key)
			return;
	for (j = 1; j < m->h->nids; j++)
		if (m->ids[j - 1] >= m->ids[j])
			return;
	for (j = 1; j < m->h->nrcpts; j++)
		if (rcpt_cmp(&m->rcpts[j - 1], &m->rcpts[j]) >= 0)
			return;
	l->old = old;
	l->nold = nold;
	l->salt = m->h->salt;
	l->first = m->h->first;
	l->since = m->h->since;
}

/* The key of a file: its folder and the unique part of its name. */
static uint64_t
file_key(uint64_t folder_hash, const char *name)
{
	char		 base[512];
	const char	*colon;
	size_t		 bl;

	/* "unique:2,FLAGS": the unique part survives moves from new/ to
	 * cur/ and flag changes */
	colon = strchr(name, ':');
	bl = colon ? (size_t)(colon - name) : strlen(name);
	if (bl >= sizeof(base))
		bl = sizeof(base) - 1;
	memcpy(base, name, bl);
	base[bl] = '\0';
	return mix64(hash_bytes(folder_hash, base, bl));
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
	struct sent_name key, *hit;
	DIR		*dp;
	struct dirent	*de;
	size_t		 i, captodo = 0;
	uint64_t	 fh;

	l->present = xmalloc(l->nold ? l->nold : 1);
	memset(l->present, 0, l->nold ? l->nold : 1);
	l->todo = NULL;
	l->ntodo = 0;
	l->listed_all = 1;
	memcpy(l->st, d->st, d->n * sizeof(l->st[0]));
	for (i = 0; i < d->n; i++) {
		if (l->st[i].sec >= (int64_t)time(NULL) - 1)
			l->st[i].sec = SENT_UNSURE;	/* racy: look again */
		if ((dp = opendir(d->path[i])) == NULL) {
			l->listed_all = 0;
			l->st[i].sec = SENT_UNSURE;
			continue;
		}
		fh = hash_bytes(0xcbf29ce484222325ULL, d->folder[i],
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

/*
 * Read the files the old index lacks, oldest names first, until the
 * budget (from t0; negative: no limit) is spent.  Returns their names,
 * sorted and one per file, with their count in *nnew_r; *ndone_r: how
 * many files were read (the rest wait for the next time).
 */
static struct sent_name *
files_read(const struct sent_dirs *d, const struct sent_listing *l,
    const struct timespec *t0, long budget_ms, size_t *nnew_r,
    size_t *ndone_r, struct sent_rcpts *rs, int64_t *first_r)
{
	struct sent_name *names;
	char		 fpath[4400], id[LIM_MSGID + 1];
	size_t		 i, j, nnew = 0, ndone = 0;
	int64_t		 date;
	int		 r;

	names = xmalloc((l->ntodo + 1) * sizeof(*names));
	for (i = 0; i < l->ntodo; i++) {
		if (budget_ms >= 0 && (i & 31) == 0 &&
		    elapsed_ms(t0) > budget_ms)
			break;
		if ((size_t)snprintf(fpath, sizeof(fpath), "%s/%s",
		    d->path[l->todo[i].dir], l->todo[i].name) >= sizeof(fpath))
			r = 0;
		else if ((r = file_read(fpath, id, sizeof(id), rs, &date)) ==
		    -1)
			continue;	/* gone meanwhile: next time */
		else if (date < *first_r)
			*first_r = date;
		names[nnew].key = l->todo[i].key;
		names[nnew++].id = r == 1 ? sent_hash(id) : 0;
		ndone++;
	}
	if (nnew > 1)
		qsort(names, nnew, sizeof(*names), u64_cmp);
	for (i = j = 0; i < nnew; i++)	/* one entry per file */
		if (j == 0 || names[j - 1].key != names[i].key)
			names[j++] = names[i];
	*nnew_r = j;
	*ndone_r = ndone;
	return names;
}

/*
 * Merge the files read now (few, sorted) into the old names (many,
 * sorted already): linear.  Over the bound the names of deleted files go
 * first (*over_r 1), and what still does not fit is cut (*over_r 2).
 * Returns the merged names, their count in *n_r.
 */
static struct sent_name *
names_merge(const struct sent_listing *l, const struct sent_name *names,
    size_t nnew, size_t *n_r, int *over_r)
{
	struct sent_name *mg;
	size_t		 a, c, o, nold = l->nold;
	int		 over = nold + nnew > SENT_MAX_IDS;

	mg = xmalloc((nold + nnew + 1) * sizeof(*mg));
	for (a = c = o = 0; a < nold || c < nnew; ) {
		if (a < nold && over && !l->present[a])
			a++;
		else if (c == nnew || (a < nold && l->old[a].key <
		    names[c].key))
			mg[o++] = l->old[a++];
		else if (a < nold && l->old[a].key == names[c].key) {
			mg[o++] = names[c++];
			a++;
		} else
			mg[o++] = names[c++];
	}
	if (o > SENT_MAX_IDS) {
		o = SENT_MAX_IDS;
		over = 2;
	}
	*n_r = o;
	*over_r = over;
	return mg;
}

/*
 * The ids of the new index, sorted and unique, into b->ids: the old ids
 * and those of the files read now merged (linear); over the bound,
 * rebuilt from the names that are left.
 */
static void
ids_merge(const struct sent_map *m, const struct sent_listing *l,
    const struct sent_name *fresh, size_t nfresh,
    const struct sent_name *names, size_t nnames, int over,
    struct sent_built *b)
{
	uint64_t	*nids;
	size_t		 i, j, nid, a, c;

	nids = xmalloc((nfresh + 1) * sizeof(*nids));
	for (i = nid = 0; i < nfresh; i++)
		if (fresh[i].id != 0)
			nids[nid++] = fresh[i].id;
	if (nid > 1)
		qsort(nids, nid, sizeof(*nids), u64_cmp);
	b->ids = xmalloc((nnames + l->nold + 1) * sizeof(*b->ids));
	if (over) {
		for (i = j = 0; i < nnames; i++)
			if (names[i].id != 0)
				b->ids[j++] = names[i].id;
		if (j > 1)
			qsort(b->ids, j, sizeof(*b->ids), u64_cmp);
	} else {
		const uint64_t *oid = l->old != NULL ? m->ids : NULL;
		size_t noid = l->old != NULL ? (size_t)m->h->nids : 0;

		for (a = c = j = 0; a < noid || c < nid; )
			if (c == nid || (a < noid && oid[a] <= nids[c]))
				b->ids[j++] = oid[a++];
			else
				b->ids[j++] = nids[c++];
	}
	for (i = b->nids = 0; i < j; i++)
		if (b->nids == 0 || b->ids[b->nids - 1] != b->ids[i])
			b->ids[b->nids++] = b->ids[i];
	free(nids);
}

/*
 * The recipients of the new index into b: the old ones (when the old
 * index is usable) and those read now, sorted and unique.  Over
 * SENT_MAX_RCPTS the oldest go, and b->since says from when the index
 * still knows every recipient.
 */
static void
rcpts_merge(const struct sent_map *m, const struct sent_listing *l,
    struct sent_rcpts *rs, struct sent_built *b)
{
	const struct sent_rcpt *old = NULL;
	size_t		 nold = 0, a, c, o, i;
	int64_t		*ts, cut;

	if (l->old != NULL) {
		old = m->rcpts;
		nold = (size_t)m->h->nrcpts;
	}
	if (rs->n > 1)
		qsort(rs->v, rs->n, sizeof(*rs->v), rcpt_cmp);
	b->rcpts = xmalloc((nold + rs->n + 1) * sizeof(*b->rcpts));
	for (a = c = o = 0; a < nold || c < rs->n; ) {
		const struct sent_rcpt *x;

		if (c == rs->n || (a < nold && rcpt_cmp(&old[a],
		    &rs->v[c]) <= 0))
			x = &old[a++];
		else
			x = &rs->v[c++];
		if (o == 0 || rcpt_cmp(&b->rcpts[o - 1], x) != 0)
			b->rcpts[o++] = *x;
	}
	b->since = l->since;
	if (o > SENT_MAX_RCPTS) {
		ts = xmalloc(o * sizeof(*ts));
		for (i = 0; i < o; i++)
			ts[i] = b->rcpts[i].t;
		qsort(ts, o, sizeof(*ts), i64_cmp);
		/* keep what is newer than the cut: at most the bound */
		cut = ts[o - SENT_MAX_RCPTS];
		free(ts);
		for (i = a = 0; i < o; i++)
			if (b->rcpts[i].t > cut)
				b->rcpts[a++] = b->rcpts[i];
		o = a;
		if (cut + 1 > b->since)
			b->since = cut + 1;
	}
	b->nrcpts = o;
}

/* Write the index b with its names and stamps; why NULL: no report. */
static void
index_store(const char *path, const struct sent_built *b,
    struct sent_stamp *st, size_t nst, const struct sent_name *names,
    char *why, size_t whysz)
{
	struct sent_hdr	 h;
	size_t		 i;

	if (!b->complete)
		for (i = 0; i < nst; i++)
			st[i].sec = SENT_UNSURE;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SENT_MAGIC, 8);
	h.version = SENT_VERSION;
	h.flags = b->complete ? SENT_F_COMPLETE : 0;
	h.nids = b->nids;
	h.nnames = b->nnames;
	h.nstamps = nst;
	h.built = (int64_t)time(NULL);
	h.nrcpts = b->nrcpts;
	h.salt = b->salt;
	h.first = b->first;
	h.since = b->since;
	/* ids, names and recipients follow each other in the file */
	h.data_check = mix64(hash_words(hash_words(hash_words(HASH_WORDS_SEED,
	    b->ids, b->nids), (const uint64_t *)names, 2 * b->nnames),
	    (const uint64_t *)b->rcpts, 2 * b->nrcpts));
	h.check = hdr_check(&h, st);
	if (index_write(path, &h, st, b->ids, names, b->rcpts, why,
	    whysz) == 0 && why != NULL)
		why[0] = '\0';
}

/*
 * Extend (or build) the index for the directories d: list them, read
 * the files the old index m (may be empty) does not hold, for at most
 * budget_ms (negative: no limit), merge, write.  Writing may fail (a
 * read-only home): the answer in *b stands anyway.
 */
static void
index_build(const char *path, const struct sent_map *m,
    const struct sent_dirs *d, long budget_ms, struct sent_built *b,
    char *why, size_t whysz)
{
	struct timespec	 t0;
	struct sent_listing l;
	struct sent_name *fresh, *names;
	struct sent_rcpts rs;
	size_t		 nfresh, ndone, nnames;
	int		 over;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(b, 0, sizeof(*b));
	old_names(m, &l);
	dirs_list(d, &l);
	memset(&rs, 0, sizeof(rs));
	rs.salt = l.salt;
	b->salt = l.salt;
	b->first = l.first;
	fresh = files_read(d, &l, &t0, budget_ms, &nfresh, &ndone, &rs,
	    &b->first);
	b->unread = l.ntodo - ndone;
	names = names_merge(&l, fresh, nfresh, &nnames, &over);
	ids_merge(m, &l, fresh, nfresh, names, nnames, over, b);
	rcpts_merge(m, &l, &rs, b);
	free(rs.v);
	free(fresh);
	b->nnames = nnames;
	b->complete = l.listed_all && b->unread == 0 && over != 2;
	index_store(path, b, l.st, d->n, names, why, whysz);
	free(names);
	listing_free(&l);
}

/*
 * After the index on disk (h and stamps as read; h NULL: none usable)
 * could not answer a lookup: -1, no sent folder (why says so); 0, that
 * index is complete and current, so its "no" stands; 1, the index was
 * extended or rebuilt within budget_ms into b (to free).  The writing may
 * fail (a read-only home): b answers all the same.
 */
static int
index_refresh(const struct sent_src *src, const struct sent_hdr *h,
    const struct sent_stamp *stamps, long budget_ms, struct sent_built *b,
    char *why, size_t whysz)
{
	const char	*index = src->index;
	struct sent_dirs d;
	struct sent_map	 m;
	char		 werr[512], merr[512];

	dirs_get(&d, src);
	if (d.nfolders == 0) {
		dirs_free(&d);
		snprintf(why, whysz, "no sent folder found");
		return -1;
	}
	if (h != NULL && (h->flags & SENT_F_COMPLETE) &&
	    is_current(h, stamps, &d)) {
		dirs_free(&d);
		return 0;
	}
	/* the build merges the old index: map it whole */
	if (h == NULL || map_open(index, &m, merr, sizeof(merr)) == -1)
		memset(&m, 0, sizeof(m));
	werr[0] = '\0';
	index_build(index, &m, &d, budget_ms, b, werr, sizeof(werr));
	map_close(&m);
	dirs_free(&d);
	return 1;
}

/*
 * Is id (as written, brackets or not) among the Message-IDs of the sent
 * folders?  names/nnames: the configured folder names (NULL: defaults);
 * index: the index file; budget_ms: time allowed to bring a stale index
 * up to date (negative: no limit).  Returns 1 (sent: proof), 0 (not in a
 * complete, current index) or -1 (no evidence: why says why).
 */
int
sent_lookup(const struct sent_src *src, const char *id, long budget_ms,
    char *why, size_t whysz)
{
	const char	*index = src->index;
	struct sent_file f;
	struct sent_built b;
	struct sent_arr	 a;
	uint64_t	 x = sent_hash(id);
	int		 corrupt = 0, rc;

	why[0] = '\0';
	if (file_open(index, &f, why, whysz) == 0) {
		a = arr_file(&f, f.ids_off, (size_t)f.h.nids, sizeof(uint64_t));
		if (ids_find(&a, x, &corrupt)) {
			file_close(&f);
			return 1;
		}
		if (corrupt) {
			file_close(&f);
			snprintf(why, whysz, "%s: out of order, rebuilt",
			    index);
		}
	}
	rc = index_refresh(src, f.fd != -1 ? &f.h : NULL, f.stamps,
	    budget_ms, &b, why, whysz);
	file_close(&f);
	if (rc == 0 && f.h.nids == 0) {
		snprintf(why, whysz, "the sent folders hold no Message-ID");
		rc = -1;
	}
	if (rc <= 0)
		return rc;
	a = arr_mem(b.ids, b.nids, sizeof(*b.ids));
	corrupt = 0;
	if (ids_find(&a, x, &corrupt))
		rc = 1;
	else if (!b.complete) {
		snprintf(why, whysz, "sent index incomplete: %zu files not "
		    "read yet", b.unread);
		rc = -1;
	} else if (b.nids == 0) {
		snprintf(why, whysz, "the sent folders hold no Message-ID");
		rc = -1;
	} else
		rc = 0;
	free(b.ids);
	free(b.rcpts);
	return rc;
}

/* Is h in a with a date in [from, to]?  -1: a cannot be read. */
static int
rcpt_find(const struct sent_arr *a, uint64_t h, int64_t from, int64_t to)
{
	struct sent_rcpt r;
	const void	*p;
	size_t		 lo, hi, mid;

	if (hash_window(a, h, &lo, &hi) == -1)
		return -1;
	while (lo < hi) {		/* the first entry >= (h, from) */
		mid = lo + (hi - lo) / 2;
		if ((p = arr_at(a, mid)) == NULL)
			return -1;
		memcpy(&r, p, sizeof(r));
		if (r.h < h || (r.h == h && r.t < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->n)
		return 0;
	if ((p = arr_at(a, lo)) == NULL)
		return -1;
	memcpy(&r, p, sizeof(r));
	return r.h == h && r.t <= to;
}

/*
 * Which of addrs were written to in [from, to]: each_r; any: 1, none: 0,
 * -1 when the index cannot be read (no answer).
 */
static int
rcpts_match(const struct sent_arr *a, uint64_t salt,
    const char *const *addrs, size_t naddrs, int domains, int64_t from,
    int64_t to, int *each_r)
{
	const char	*at;
	size_t		 i;
	int		 any = 0, r;

	for (i = 0; i < naddrs; i++) {
		r = rcpt_find(a, rcpt_hash(salt, addrs[i], strlen(addrs[i])),
		    from, to);
		if (r == 0 && domains &&
		    (at = strrchr(addrs[i], '@')) != NULL &&
		    (r = rcpt_find(a, rcpt_hash(salt, at, strlen(at)), from,
		    to)) == 1)
			r = 2;
		if (r == -1)
			return -1;
		each_r[i] = r;
		if (r)
			any = 1;
	}
	return any;
}

/* Does an index that dates from first and keeps all since reach from? */
static int
rcpts_cover(int64_t first, int64_t since, int64_t from, char *why,
    size_t whysz)
{
	char	 d[32];

	if (first == INT64_MAX) {
		snprintf(why, whysz, "the sent folders hold no message");
		return 0;
	}
	if (first > from || since > from) {
		utc_day(first > since ? first : since, d, sizeof(d));
		snprintf(why, whysz, "the sent index knows your recipients "
		    "only from %s, after the window starts", d);
		return 0;
	}
	return 1;
}

/*
 * Did the user write to any of addrs (lower case) between from and to
 * (seconds since the epoch)?  domains: a recipient at the same domain
 * counts too.  each_r[i]: 1 when addrs[i] was written to, 2 when its
 * domain was, else 0.  Returns 1 (written to: proof, even from a stale
 * index), 0 (none was, and the index is complete, current and reaches
 * back to from) or -1 (no answer: why says why).
 */
int
sent_lookup_rcpts(const struct sent_src *src, const char *const *addrs,
    size_t naddrs, int domains, int64_t from, int64_t to, long budget_ms,
    int *each_r, char *why, size_t whysz)
{
	const char	*index = src->index;
	struct sent_file f;
	struct sent_built b;
	struct sent_arr	 a;
	int		 rc;

	why[0] = '\0';
	memset(each_r, 0, naddrs * sizeof(*each_r));
	if (file_open(index, &f, why, whysz) == 0) {
		a = arr_file(&f, f.rcpts_off, (size_t)f.h.nrcpts,
		    sizeof(struct sent_rcpt));
		rc = rcpts_match(&a, f.h.salt, addrs, naddrs, domains, from,
		    to, each_r);
		if (rc == 1) {
			file_close(&f);
			return 1;
		}
		if (rc == -1) {		/* unreadable: build it afresh */
			file_close(&f);
			memset(each_r, 0, naddrs * sizeof(*each_r));
			snprintf(why, whysz, "%s: cannot be read, rebuilt",
			    index);
		}
	}
	rc = index_refresh(src, f.fd != -1 ? &f.h : NULL, f.stamps,
	    budget_ms, &b, why, whysz);
	file_close(&f);
	if (rc == 0)
		return rcpts_cover(f.h.first, f.h.since, from, why, whysz) ?
		    0 : -1;
	if (rc == -1)
		return -1;
	a = arr_mem(b.rcpts, b.nrcpts, sizeof(*b.rcpts));
	if (rcpts_match(&a, b.salt, addrs, naddrs, domains, from, to,
	    each_r) == 1)
		rc = 1;
	else if (!b.complete) {
		snprintf(why, whysz, "sent index incomplete: %zu files not "
		    "read yet", b.unread);
		rc = -1;
	} else
		rc = rcpts_cover(b.first, b.since, from, why, whysz) ? 0 : -1;
	free(b.ids);
	free(b.rcpts);
	return rc;
}

/*
 * Bring the index fully up to date (learn, check-rules).  Returns the
 * number of Message-IDs it holds, or -1; msg says what happened.
 */
long
sent_refresh(const struct sent_src *src, char *msg, size_t msgsz)
{
	const char	*index = src->index;
	struct sent_map	 m;
	struct sent_dirs d;
	struct sent_built b;
	char		 why[512], werr[512];
	long		 n;
	size_t		 nf;

	if (map_open(index, &m, why, sizeof(why)) == -1)
		memset(&m, 0, sizeof(m));
	dirs_get(&d, src);
	nf = d.nfolders;
	if (nf == 0) {
		map_close(&m);
		dirs_free(&d);
		snprintf(msg, msgsz, "no sent folder found");
		return -1;
	}
	werr[0] = '\0';
	index_build(index, &m, &d, -1, &b, werr, sizeof(werr));
	map_close(&m);
	dirs_free(&d);
	free(b.ids);
	free(b.rcpts);
	n = (long)b.nids;
	if (werr[0] != '\0') {
		snprintf(msg, msgsz, "cannot write the sent index: %s", werr);
		return -1;
	}
	snprintf(msg, msgsz, "%s: %ld Message-IDs of %zu messages in %zu "
	    "folder%s%s", index, n, b.nnames, nf, nf == 1 ? "" : "s",
	    b.complete ? "" : " (incomplete: over the size bound)");
	return n;
}
