/*
 * The sent index's file: its layout (sentfile.h), read a checked block at
 * a time by lookups, mapped and checked whole by a build, and written
 * atomically -- but only over a file that is absent or is an index of
 * backstop's own.
 *
 * Why a check per block.  A lookup reads the header and a few blocks,
 * never the whole file (a bounce must cost little; docs/performance.md).
 * A check over the whole data would need the whole file; without any,
 * a block damaged on disk or by hand reads as "these ids were never
 * sent" and files a real bounce as junk.  With one per block, what a
 * lookup relies on -- the entries of the blocks it read -- is exactly
 * what it checked, and an index that fails a check answers nothing until
 * it is rebuilt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backstop.h"
#include "sentfile.h"
#include "util.h"

#define SF_SEED		0xcbf29ce484222325ULL
#define SF_WORDS_SEED	0x9e3779b97f4a7c15ULL

static const unsigned char sf_zero[SF_BLOCK];

size_t
sf_stride(int a)
{
	return a == SF_IDS ? sizeof(uint64_t) : 16;
}

uint64_t
sf_mix64(uint64_t h)
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
uint64_t
sf_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t	 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The check of block number b (counted over all arrays) of 4 KiB. */
static uint64_t
block_check(uint64_t b, const void *blk)
{
	const unsigned char *p = blk;
	uint64_t	 h = SF_WORDS_SEED ^ sf_mix64(b + 1), w;
	size_t		 i;

	for (i = 0; i < SF_BLOCK; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return sf_mix64(h);
}

static uint64_t
hdr_check(const struct sf_hdr *h, const struct sf_stamp *st)
{
	struct sf_hdr	 c = *h;
	uint64_t	 v;

	c.check = 0;
	v = sf_hash_bytes(SF_SEED, &c, sizeof(c));
	v = sf_hash_bytes(v, st, (size_t)h->nstamps * sizeof(*st));
	return sf_mix64(v);
}

static uint64_t
blocks_of(uint64_t n, int a)
{
	return (n * sf_stride(a) + SF_BLOCK - 1) / SF_BLOCK;
}

/*
 * Where each array starts (off[a]) and the checks (off[SF_NARR]), each
 * array's first block number, and the size of the file.  -1 when the
 * counts are beyond the bounds (a damaged header).
 */
static int
layout(const struct sf_hdr *h, off_t *off, uint64_t *blk0, uint64_t *size_r)
{
	uint64_t	 o, b = 0;
	int		 a;

	if (h->nstamps > SF_MAX_DIRS)
		return -1;
	for (a = 0; a < SF_NARR; a++)
		if (h->n[a] > ((uint64_t)1 << 32))
			return -1;
	o = sizeof(*h) + h->nstamps * sizeof(struct sf_stamp);
	o = (o + SF_BLOCK - 1) / SF_BLOCK * SF_BLOCK;
	for (a = 0; a < SF_NARR; a++) {
		off[a] = (off_t)o;
		if (blk0 != NULL)
			blk0[a] = b;
		b += blocks_of(h->n[a], a);
		o += blocks_of(h->n[a], a) * SF_BLOCK;
	}
	off[SF_NARR] = (off_t)o;
	*size_r = o + b * sizeof(uint64_t);
	return 0;
}

static int
hdr_valid(const struct sf_hdr *h, const struct sf_stamp *st, uint64_t size)
{
	off_t		 off[SF_NARR + 1];
	uint64_t	 want;

	return memcmp(h->magic, SF_MAGIC, 8) == 0 &&
	    h->version == SF_VERSION && layout(h, off, NULL, &want) == 0 &&
	    want == size && hdr_check(h, st) == h->check;
}

/*
 * Open the index and check that it can be one: a regular file of the
 * user's, writable by no one else, with room for a header.  The fd, or
 * -1 with why set.
 */
static int
index_fd(const char *path, struct stat *st, char *why, size_t whysz)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_uid != getuid() || (st->st_mode & (S_IWGRP | S_IWOTH)) ||
	    st->st_size < (off_t)sizeof(struct sf_hdr)) {
		snprintf(why, whysz, "%s: not a valid index (type, owner, "
		    "mode or size)", path);
		close(fd);
		return -1;
	}
	return fd;
}

void
sf_close(struct sf_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
}

/*
 * Open the index for lookups: its header and stamps read and checked,
 * the file kept open for the searches.  0, or -1 with why set (missing,
 * not ours, another version, damaged): the caller then has no index.
 */
int
sf_open(const char *path, struct sf_file *f, char *why, size_t whysz)
{
	struct stat	 st;
	struct iovec	 v[2];
	uint64_t	 size;
	ssize_t		 k;

	f->blk_arr = -1;
	if ((f->fd = index_fd(path, &st, why, whysz)) == -1)
		return -1;
	v[0].iov_base = &f->h;
	v[0].iov_len = sizeof(f->h);
	v[1].iov_base = f->stamps;
	v[1].iov_len = sizeof(f->stamps);
	while ((k = preadv(f->fd, v, 2, 0)) == -1 && errno == EINTR)
		;
	if (k < (ssize_t)sizeof(f->h) || f->h.nstamps > SF_MAX_DIRS ||
	    (size_t)k < sizeof(f->h) + f->h.nstamps * sizeof(struct sf_stamp) ||
	    !hdr_valid(&f->h, f->stamps, (uint64_t)st.st_size) ||
	    layout(&f->h, f->off, f->blk0, &size) == -1) {
		snprintf(why, whysz, "%s: damaged or of another version",
		    path);
		sf_close(f);
		return -1;
	}
	return 0;
}

static ssize_t
pread_all(int fd, void *buf, size_t n, off_t off)
{
	ssize_t	 k;

	while ((k = pread(fd, buf, n, off)) == -1 && errno == EINTR)
		;
	return k;
}

/* Block b of array a into f->blk, checked.  0, or -1: unreadable/bad. */
static int
read_block(struct sf_file *f, int a, uint64_t b)
{
	uint64_t	 want;

	if (f->blk_arr == a && f->blk_no == b)
		return 0;
	f->blk_arr = -1;
	if (pread_all(f->fd, f->blk, SF_BLOCK, f->off[a] +
	    (off_t)(b * SF_BLOCK)) != SF_BLOCK ||
	    pread_all(f->fd, &want, sizeof(want), f->off[SF_NARR] +
	    (off_t)((f->blk0[a] + b) * sizeof(want))) != sizeof(want) ||
	    block_check(f->blk0[a] + b, f->blk) != want)
		return -1;
	f->blk_arr = a;
	f->blk_no = b;
	return 0;
}

/* Entry i of array a as a pair (for ids: h, t 0).  0, or -1. */
int
sf_pair_at(struct sf_file *f, int a, size_t i, struct sf_pair *p)
{
	size_t	 s = sf_stride(a), per = SF_BLOCK / s;

	if (i >= f->h.n[a] || read_block(f, a, i / per) == -1)
		return -1;
	memset(p, 0, sizeof(*p));
	memcpy(p, f->blk + (i % per) * s, s);
	return 0;
}

static int
pair_lt(const struct sf_pair *p, uint64_t x, int64_t t, int a)
{
	if (p->h != x)
		return p->h < x;
	return a != SF_IDS && a != SF_NAMES && p->t < t;
}

/*
 * The first entry of array a not below (x, t) (ids and names: x alone):
 * its index in *pos (the count when there is none).  The hashes spread
 * evenly, so the search interpolates: the block where x must stand is
 * read, and either holds the answer or tells which side of it the answer
 * is on, with the keys at its ends as the new bounds.  A few blocks
 * whatever the size.  0, or -1 when a block cannot be read or fails its
 * check.
 */
int
sf_lower_bound(struct sf_file *f, int a, uint64_t x, int64_t t, size_t *pos)
{
	size_t		 n = f->h.n[a], per = SF_BLOCK / sf_stride(a);
	size_t		 lo = 0, hi = n, g, bs, be, mid;
	uint64_t	 klo = 0, khi = UINT64_MAX;
	struct sf_pair	 p, q;
	int		 probes;

	for (probes = 0; probes < 64 && hi - lo > per; probes++) {
		g = lo + (size_t)((unsigned __int128)(x - klo) * (hi - lo) /
		    ((unsigned __int128)(khi - klo) + 1));
		if (g >= hi)
			g = hi - 1;
		/* the part of g's block within [lo, hi): one block read */
		bs = g / per * per;
		be = bs + per < hi ? bs + per : hi;
		if (bs < lo)
			bs = lo;
		if (sf_pair_at(f, a, bs, &p) == -1 ||
		    sf_pair_at(f, a, be - 1, &q) == -1)
			return -1;
		if (!pair_lt(&p, x, t, a)) {
			hi = bs;
			khi = p.h;
		} else if (pair_lt(&q, x, t, a)) {
			lo = be;
			klo = q.h;
		} else {
			lo = bs + 1;
			hi = be - 1;
			break;
		}
		if (klo > khi)		/* out of order: damaged */
			return -1;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sf_pair_at(f, a, mid, &p) == -1)
			return -1;
		if (pair_lt(&p, x, t, a))
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

void
sf_unmap(struct sf_map *m)
{
	if (m->base != NULL)
		munmap(m->base, m->size);
	memset(m, 0, sizeof(*m));
}

/* Is array a of m in order: ids and names strictly, pairs unique? */
static int
in_order(const struct sf_map *m, int a)
{
	const struct sf_pair *p = m->arr[a];
	const uint64_t	*u = m->arr[a];
	size_t		 i, n = (size_t)m->h->n[a];

	for (i = 1; i < n; i++) {
		if (a == SF_IDS) {
			if (u[i - 1] >= u[i])
				return 0;
		} else if (a == SF_NAMES) {
			if (p[i - 1].h >= p[i].h)
				return 0;
		} else if (p[i - 1].h > p[i].h || (p[i - 1].h == p[i].h &&
		    p[i - 1].t >= p[i].t))
			return 0;
	}
	return 1;
}

/*
 * Map the whole index and check all of it: header, every block, the
 * order of every array (to build a new index from it).  0, or -1 with
 * why set: the caller then starts from nothing.
 */
int
sf_map(const char *path, struct sf_map *m, char *why, size_t whysz)
{
	struct stat	 st;
	off_t		 off[SF_NARR + 1];
	uint64_t	 blk0[SF_NARR], size, b, nb;
	const uint64_t	*checks;
	const struct sf_hdr *h;
	int		 fd, a;

	memset(m, 0, sizeof(*m));
	if ((fd = index_fd(path, &st, why, whysz)) == -1)
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
	if (m->size < sizeof(*h) || h->nstamps > SF_MAX_DIRS ||
	    m->size < sizeof(*h) + h->nstamps * sizeof(struct sf_stamp) ||
	    !hdr_valid(h, (const struct sf_stamp *)(h + 1), m->size) ||
	    layout(h, off, blk0, &size) == -1)
		goto bad;
	checks = (const uint64_t *)((const char *)m->base + off[SF_NARR]);
	nb = (m->size - (size_t)off[SF_NARR]) / sizeof(uint64_t);
	for (b = 0; b < nb; b++)
		if (block_check(b, (const char *)m->base + off[0] +
		    b * SF_BLOCK) != checks[b])
			goto bad;
	m->h = h;
	m->stamps = (const struct sf_stamp *)(h + 1);
	for (a = 0; a < SF_NARR; a++) {
		m->arr[a] = (const char *)m->base + off[a];
		if (!in_order(m, a))
			goto bad;
	}
	return 0;
bad:
	snprintf(why, whysz, "%s: damaged or of another version, rebuilt",
	    path);
	sf_unmap(m);
	return -1;
}

/*
 * May path be replaced by an index?  Only when nothing is there or what
 * is there is an index of backstop's (any version): outbound.sent_index
 * naming ~/notes.txt or the rule file itself must not cost that file.
 * 1 yes, 0 no (why says what is there), -1 when it cannot be told.
 */
int
sf_is_ours(const char *path, char *why, size_t whysz)
{
	struct stat	 st;
	char		 magic[sizeof(SF_MAGIC_ANY) - 1];
	int		 fd, ok;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s is not a regular file: not replaced "
		    "by the sent index", path);
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return -1;
	}
	ok = pread_all(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic)
	    && memcmp(magic, SF_MAGIC_ANY, sizeof(magic)) == 0;
	close(fd);
	if (!ok)
		snprintf(why, whysz, "%s exists and is not a backstop sent "
		    "index: not replaced (name another outbound.sent_index, "
		    "or move the file away)", path);
	return ok;
}

/* file_replace()'s last look before the rename: still ours to replace? */
static int
replace_ok(const char *tmp, void *arg, char *err, size_t errsz)
{
	(void)tmp;
	return sf_is_ours(arg, err, errsz) == 1 ? 0 : -1;
}

/*
 * Write the index o to path atomically (file_replace(): a temporary
 * file, fsync, rename), the layout and the checks computed here.  Only
 * over an absent file or an index (sf_is_ours()).  0; or, when it cannot
 * be written there and memfd is not -1, 1 with the index in memfd and
 * why saying why (the caller answers from memory); or -1 with why.
 */
int
sf_write(const char *path, struct sf_out *o, int memfd, char *why,
    size_t whysz)
{
	off_t		 off[SF_NARR + 1];
	uint64_t	 blk0[SF_NARR], size, nb, b, k;
	uint64_t	*checks;
	unsigned char	 last[SF_BLOCK];
	struct slice	*v;
	size_t		 nv = 0, head, bytes, full;
	int		 a, rc;

	memcpy(o->h.magic, SF_MAGIC, 8);
	o->h.version = SF_VERSION;
	if (layout(&o->h, off, blk0, &size) == -1) {
		snprintf(why, whysz, "%s: over the bounds", path);
		return -1;
	}
	if (sf_is_ours(path, why, whysz) == 0)
		return -1;	/* never over what is not ours, not even */
	nb = (size - (uint64_t)off[SF_NARR]) / sizeof(uint64_t);
	checks = xmalloc((size_t)nb * sizeof(*checks) + 1);
	v = xmalloc((4 + 3 * SF_NARR) * sizeof(*v));
	o->h.check = hdr_check(&o->h, o->stamps);
	v[nv].p = (const char *)&o->h;
	v[nv++].n = sizeof(o->h);
	v[nv].p = (const char *)o->stamps;
	v[nv++].n = (size_t)o->h.nstamps * sizeof(struct sf_stamp);
	head = sizeof(o->h) + (size_t)o->h.nstamps * sizeof(struct sf_stamp);
	v[nv].p = (const char *)sf_zero;
	v[nv++].n = (size_t)off[0] - head;
	for (a = 0; a < SF_NARR; a++) {
		bytes = (size_t)o->h.n[a] * sf_stride(a);
		full = bytes / SF_BLOCK;
		for (k = 0; k < full; k++)
			checks[blk0[a] + k] = block_check(blk0[a] + k,
			    (const char *)o->arr[a] + k * SF_BLOCK);
		v[nv].p = (const char *)o->arr[a];
		v[nv++].n = bytes;
		if (bytes % SF_BLOCK != 0) {
			memset(last, 0, sizeof(last));
			memcpy(last, (const char *)o->arr[a] + full * SF_BLOCK,
			    bytes % SF_BLOCK);
			checks[blk0[a] + full] = block_check(blk0[a] + full,
			    last);
			v[nv].p = (const char *)sf_zero;
			v[nv++].n = SF_BLOCK - bytes % SF_BLOCK;
		}
	}
	b = nb;
	v[nv].p = (const char *)checks;
	v[nv++].n = (size_t)b * sizeof(*checks);
	rc = file_replace(path, v, nv, 0600, (uid_t)-1, (gid_t)-1, replace_ok,
	    (void *)(uintptr_t)path, why, whysz);
	if (rc == -1 && memfd != -1 && ftruncate(memfd, 0) == 0 &&
	    lseek(memfd, 0, SEEK_SET) == 0 && write_iov(memfd, v, nv) == 0)
		rc = 1;
	free(v);
	free(checks);
	return rc;
}
