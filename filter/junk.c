/*
 * The Junk folder as backstop files into it.  It is also the mail
 * client's own spam folder (Dovecot marks .Junk \Junk), so whoever acts
 * on it acts only on what is backstop's: a message with backstop's
 * X-Backstop: field in its top header block (deliver renames incoming
 * ones to X-Backstop-Incoming, so the field is backstop's own).  The
 * commands that read the folder (expire, junk, restore: expire.c) and
 * deliver share what is here, so that neither calls the other.
 *
 * The folder is opened once, relative to the maildir; it may be a
 * symbolic link (a .Junk on another disk) only as maildir.c's one rule
 * says (maildir_link_refused()), for every command alike.  Its cur/ new/
 * tmp/ are opened with O_NOFOLLOW, and everything below is reached
 * relative to those descriptors, so that no symbolic link below the
 * folder is ever followed.
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
#include "hdr.h"
#include "junk.h"
#include "maildir.h"
#include "util.h"

/*
 * Open the maildir root and its Junk folder (one Maildir++ folder name,
 * checked again here: this is what keeps every command inside it,
 * whatever a rule file says).  A missing Junk folder is not an error:
 * f->fd is then -1.  0, or -1 (err says why, the names escaped).
 */
int
junk_open(struct junk_folder *f, const char *root, const char *junk,
    char *err, size_t errsz)
{
	struct stat	 st, lst, rst;
	const char	*why = NULL;

	f->rootfd = f->fd = -1;
	f->shown[0] = f->shownroot[0] = '\0';
	if (junk == NULL || junk[0] != '.' || strchr(junk, '/') != NULL ||
	    strstr(junk, "..") != NULL || strcmp(junk, ".") == 0) {
		sanitize(f->shown, sizeof(f->shown), junk ? junk : "(null)",
		    strlen(junk ? junk : "(null)"));
		snprintf(err, errsz, "junk folder '%s' is not one Maildir++ "
		    "folder name, refused", f->shown);
		return -1;
	}
	path_escape(f->shownroot, sizeof(f->shownroot), root, strlen(root));
	if ((size_t)snprintf(f->root, sizeof(f->root), "%s", root) >=
	    sizeof(f->root) || (size_t)snprintf(f->path, sizeof(f->path),
	    "%s/%s", root, junk) >= sizeof(f->path)) {
		snprintf(err, errsz, "%s: path too long", f->shownroot);
		return -1;
	}
	path_escape(f->shown, sizeof(f->shown), f->path, strlen(f->path));
	if ((f->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fstat(f->rootfd, &rst) == -1) {
		snprintf(err, errsz, "maildir %s: %s", f->shownroot,
		    strerror(errno));
		junk_close(f);
		return -1;
	}
	if (fstatat(f->rootfd, junk, &lst, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	if ((why = maildir_link_refused(&rst, &lst, NULL)) != NULL)
		goto fail;
	f->fd = openat(f->rootfd, junk, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (S_ISLNK(lst.st_mode) ? 0 : O_NOFOLLOW));
	if (f->fd == -1 && errno == ENOENT && !S_ISLNK(lst.st_mode))
		return 0;	/* removed meanwhile */
	if (f->fd == -1 || fstat(f->fd, &st) == -1)
		goto fail;
	if ((why = maildir_link_refused(&rst, &lst, &st)) != NULL)
		goto fail;
	return 0;
fail:
	snprintf(err, errsz, "%s: %s", f->shown, why != NULL ? why :
	    strerror(errno));
	junk_close(f);
	return -1;
}

void
junk_close(struct junk_folder *f)
{
	if (f->fd != -1)
		close(f->fd);
	if (f->rootfd != -1)
		close(f->rootfd);
	f->fd = f->rootfd = -1;
}

/*
 * cur/, new/ or tmp/ of the folder dfd, never through a symbolic link.
 * The fd, or -1 with errno (ENOENT: absent) and err saying why: a link
 * is named as one (O_NOFOLLOW | O_DIRECTORY says only "Not a
 * directory").
 */
int
junk_subdir(int dfd, const char *name, char *err, size_t errsz)
{
	struct stat	 st;
	int		 fd, e;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd != -1)
		return fd;
	e = errno;
	if ((e == ENOTDIR || e == ELOOP) &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		snprintf(err, errsz, "a symbolic link, not followed");
	else
		snprintf(err, errsz, "%s", strerror(e));
	errno = e;
	return -1;
}

void
junk_entries_free(struct junk_entry *e, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/*
 * The entries of directory dfd, dot names skipped, each with its lstat;
 * entries that vanish meanwhile are left out, one whose lstat fails
 * otherwise is kept with err set.  Names are read to the end before
 * anything is removed, so that unlinking cannot make readdir skip an
 * entry.  0, or -1 with errno.
 */
int
junk_entries(int dfd, struct junk_entry **ents_r, size_t *n_r)
{
	DIR		*d;
	struct dirent	*de;
	struct junk_entry *ents = NULL;
	size_t		 n = 0, cap = 0, i, o;
	int		 fd, e;

	*ents_r = NULL;
	*n_r = 0;
	if ((fd = dup(dfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
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
		memset(&ents[n], 0, sizeof(ents[n]));
		ents[n++].name = xstrdup(de->d_name);
	}
	e = errno;
	closedir(d);
	if (e != 0) {
		junk_entries_free(ents, n);
		errno = e;
		return -1;
	}
	for (i = o = 0; i < n; i++) {
		if (fstatat(dfd, ents[i].name, &ents[i].st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT) {	/* moved away */
				free(ents[i].name);
				continue;
			}
			ents[i].err = errno;
		}
		ents[o++] = ents[i];
	}
	*ents_r = ents;
	*n_r = o;
	return 0;
}

/*
 * The top header block of the file open on fd, read until its end or
 * LIM_HEADER_BYTES.  Returns 0 (a buffer to free) or -1.
 */
int
junk_read_header(int fd, char **buf_r, size_t *len_r)
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
 * The top header block of the file name of directory dfd, which readdir
 * saw as st: 1 with a buffer to free and its length; 0 when the name
 * holds another file now; -1 with errno (ENOENT: moved away).
 */
static int
named_header(int dfd, const char *name, const struct stat *st,
    struct slice *block_r, char **buf_r)
{
	struct stat	 fst;
	size_t		 len;
	int		 fd, e;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &fst) == -1 || (fst.st_dev == st->st_dev &&
	    fst.st_ino == st->st_ino && junk_read_header(fd, buf_r,
	    &len) == -1)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	if (fst.st_dev != st->st_dev || fst.st_ino != st->st_ino)
		return 0;
	block_r->p = *buf_r;
	block_r->n = hdr_block_len(*buf_r, len);
	return 1;
}

/*
 * Whether the file name of directory dfd, which readdir saw as st, carries
 * backstop's X-Backstop: field in its top header block.  Returns 0 with
 * *ours_r, or -1 when it could not be read (ENOENT: moved away).
 */
int
junk_filed_by_us(int dfd, const char *name, const struct stat *st,
    int *ours_r)
{
	struct slice	 block, v;
	char		*buf;
	int		 r;

	*ours_r = 0;
	if ((r = named_header(dfd, name, st, &block, &buf)) != 1)
		return r;	/* 0: not the file readdir saw, not ours */
	*ours_r = hdr_find(block, "X-Backstop", &v);
	free(buf);
	return 0;
}

/*
 * Split the X-Backstop: value that deliver wrote,
 *	<verdict>; kind=<k>; original=<id>; rule=<r>
 * into the original id and the reason (the rest).  The id was sanitized
 * but may hold ';', so the rule is taken from the last "; rule=".
 */
void
junk_why(const char *v, char *id, size_t idsz, char *reason,
    size_t reasonsz)
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

/* --- what a message of the folder says --------------------------------- */

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

/* An unfolded, terminal-safe header value (sanitize()), or "-". */
void
junk_field(struct slice v, char *out, size_t outsz)
{
	char	*buf = xmalloc(LIM_FIELD_BYTES);
	size_t	 o = field_line(v, buf, LIM_FIELD_BYTES);

	if (o == 0)
		snprintf(out, outsz, "-");
	else
		sanitize(out, outsz, buf, o);
	free(buf);
}

/* The same for Subject and From: RFC 2047 words decoded, UTF-8 shown. */
void
junk_field_words(struct slice v, char *out, size_t outsz)
{
	char	*buf = xmalloc(LIM_FIELD_BYTES);

	field_line(v, buf, LIM_FIELD_BYTES);
	hdr_decode_words(buf, LIM_FIELD_BYTES);
	if (buf[0] == '\0')
		snprintf(out, outsz, "-");
	else	/* a tab or line end decoded from a word must not split it */
		sanitize_utf8(out, outsz, buf, strlen(buf));
	free(buf);
}

/* The domain after the last '@' of s, lower case, up to '>' or a blank. */
static void
domain_of(const char *s, char *out, size_t outsz)
{
	const char	*at = strrchr(s, '@');
	size_t		 o = 0;

	if (at == NULL || at[1] == '\0' || at[1] == '>') {
		snprintf(out, outsz, "-");
		return;
	}
	for (at++; *at != '\0' && *at != '>' && *at != ' ' && o + 1 < outsz;
	    at++)
		out[o++] = *at >= 'A' && *at <= 'Z' ? (char)(*at + 32) : *at;
	out[o] = '\0';
}

/*
 * How weak the evidence named in an X-Backstop: value is, for the digest
 * (lower: weaker; the weakest are the ones a person should look at): a
 * report that is not an RFC 3464 DSN is weaker (a non-standard NDR more
 * so than an auto-reply or a read receipt is not), and the recipient
 * evidence alone (no Message-ID to ask about) weaker than a Message-ID
 * that none of the user's sources knows.
 */
static int
evidence_strength(const char *xb, enum kind *kind_r)
{
	static const struct {
		const char	*tag;
		enum kind	 kind;
		int		 points;
	} kinds[] = {
		{ "kind=dsn", K_DSN, 2 },
		{ "kind=ndr", K_NDR, 1 },
		{ "kind=autoreply", K_AUTOREPLY, 0 },
		{ "kind=mdn", K_MDN, 0 },
	};
	size_t	 i;
	int	 points = 0;

	*kind_r = K_NONE;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strstr(xb, kinds[i].tag) != NULL) {
			*kind_r = kinds[i].kind;
			points = kinds[i].points;
			break;
		}
	if (strstr(xb, "evidence=recipient") == NULL)
		points += 2;
	return points;
}

/*
 * Read what the message name of dfd (readdir's st) says for a person:
 * it->ours when backstop filed it (its X-Backstop: field), the kind, the
 * original and the reason from that field, From and Subject decoded,
 * the reporting domain (From's) and the original's domain.  0, or -1
 * with errno (ENOENT: moved away).
 */
int
junk_item_read(int dfd, const char *name, const struct stat *st,
    struct junk_item *it)
{
	struct slice	 block, v;
	char		*buf, xb[1024], addr[JUNK_FIELD + 1];
	int		 r;

	memset(it, 0, sizeof(*it));
	if (maildir_name_time(name, &it->filed) == -1)
		it->filed = st->st_mtime;
	it->mtime = st->st_mtime;
	it->size = maildir_name_size(name, st);
	snprintf(it->original, sizeof(it->original), "-");
	snprintf(it->reason, sizeof(it->reason), "-");
	snprintf(it->from, sizeof(it->from), "-");
	snprintf(it->subject, sizeof(it->subject), "-");
	snprintf(it->msgid, sizeof(it->msgid), "-");
	/* the header block only: deliver put X-Backstop: first */
	if ((r = named_header(dfd, name, st, &block, &buf)) != 1) {
		if (r == 0)
			errno = ENOENT;	/* another file now: moved away */
		return -1;
	}
	if (hdr_find(block, "From", &v)) {
		junk_field_words(v, it->from, sizeof(it->from));
		junk_field(v, addr, sizeof(addr));
		domain_of(addr, it->rdomain, sizeof(it->rdomain));
	} else
		snprintf(it->rdomain, sizeof(it->rdomain), "-");
	if (hdr_find(block, "Subject", &v))
		junk_field_words(v, it->subject, sizeof(it->subject));
	if (hdr_find(block, "Message-ID", &v))
		junk_field(v, it->msgid, sizeof(it->msgid));
	if ((it->ours = hdr_find(block, "X-Backstop", &v))) {
		junk_field(v, xb, sizeof(xb));
		junk_why(xb, it->original, sizeof(it->original), it->reason,
		    sizeof(it->reason));
		it->strength = evidence_strength(xb, &it->kind);
	}
	domain_of(it->original, it->odomain, sizeof(it->odomain));
	free(buf);
	return 0;
}

/* --- counting ----------------------------------------------------------- */

#define TALLY_KEYS	65536	/* distinct keys kept; the rest: "(other)" */

static uint32_t
fnv1a(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Count key once more (an open-addressing table that grows). */
void
junk_tally_add(struct junk_tally *t, const char *key, unsigned long n)
{
	struct junk_count *old = t->slot;
	size_t		 i, j, ocap = t->cap;

	if (t->used + 1 > t->cap / 2 && t->cap < 2 * TALLY_KEYS) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->slot = xmalloc(t->cap * sizeof(*t->slot));
		memset(t->slot, 0, t->cap * sizeof(*t->slot));
		for (i = 0; i < ocap; i++) {
			if (old[i].key == NULL)
				continue;
			for (j = fnv1a(old[i].key) & (t->cap - 1);
			    t->slot[j].key != NULL; j = (j + 1) & (t->cap - 1))
				;
			t->slot[j] = old[i];
		}
		free(old);
	}
	for (j = fnv1a(key) & (t->cap - 1); t->slot[j].key != NULL;
	    j = (j + 1) & (t->cap - 1))
		if (strcmp(t->slot[j].key, key) == 0) {
			t->slot[j].n += n;
			return;
		}
	if (t->used >= TALLY_KEYS) {
		t->other += n;
		return;
	}
	t->slot[j].key = xstrdup(key);
	t->slot[j].n = n;
	t->used++;
}

static int
cmp_count(const void *a, const void *b)
{
	const struct junk_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct junk_count *)a)->key,
	    ((const struct junk_count *)b)->key);
}

/*
 * The keys and their counts, most first (by_key: in key order), in an
 * array of their own (free() it, not the keys: they stay the table's).
 */
size_t
junk_tally_sorted(const struct junk_tally *t, int by_key,
    struct junk_count **v_r)
{
	size_t	 i, n = 0;

	*v_r = xmalloc((t->used ? t->used : 1) * sizeof(**v_r));
	for (i = 0; i < t->cap; i++)
		if (t->slot[i].key != NULL)
			(*v_r)[n++] = t->slot[i];
	if (n > 1)
		qsort(*v_r, n, sizeof(**v_r), by_key ? cmp_key : cmp_count);
	return n;
}

void
junk_tally_free(struct junk_tally *t)
{
	size_t	 i;

	for (i = 0; i < t->cap; i++)
		free(t->slot[i].key);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/*
 * Add it to the summary s: what backstop filed by day (UTC), kind,
 * reporting domain and forged original's domain; the rest as other; and
 * the JUNK_WEAKEST with the weakest evidence, the most recent first among
 * equals.
 */
void
junk_summary_add(struct junk_summary *s, const struct junk_item *it)
{
	char	 day[16];
	size_t	 i, w;

	s->total++;
	s->bytes += it->size;
	if (!it->ours) {
		s->other++;
		return;
	}
	s->ours++;
	utc_day(it->filed, day, sizeof(day));
	junk_tally_add(&s->days, day, 1);
	junk_tally_add(&s->kinds, kind_name(it->kind), 1);
	junk_tally_add(&s->rdomains, it->rdomain, 1);
	if (strcmp(it->odomain, "-") != 0)
		junk_tally_add(&s->odomains, it->odomain, 1);
	/* keep the weakest: insertion into a short sorted list */
	for (w = 0; w < s->nweak; w++)
		if (it->strength < s->weak[w].strength ||
		    (it->strength == s->weak[w].strength &&
		    it->filed > s->weak[w].filed))
			break;
	if (w >= JUNK_WEAKEST)
		return;
	i = s->nweak < JUNK_WEAKEST ? s->nweak++ : JUNK_WEAKEST - 1;
	for (; i > w; i--)
		s->weak[i] = s->weak[i - 1];
	s->weak[w] = *it;
}

void
junk_summary_free(struct junk_summary *s)
{
	junk_tally_free(&s->days);
	junk_tally_free(&s->kinds);
	junk_tally_free(&s->rdomains);
	junk_tally_free(&s->odomains);
	junk_tally_free(&s->pruned);
}

/* --- the ledger: how much of what backstop filed the folder holds ------- */

/*
 * root/.Junk/backstop-junksize counts the messages backstop filed that
 * the folder holds (by name: maildir_unique()'s form, regular files in
 * new/ and cur/), in maildirsize's format, read and written by maildir.c
 * (first line "MAXS,MAXC", the caps, then "BYTES COUNT" lines): one
 * O_APPEND line for each message filed or removed, so that a delivery
 * knows whether Junk is over its cap without looking at the folder.
 * Past 5120 bytes it is written again as one line, its sum; it is
 * counted again from the folder (one readdir, no file opened) when it is
 * missing or broken, and each time pruning has looked at the folder
 * anyway.  What a mail client moves in or out makes
 * it drift until then: it decides when to look, never what is removed.
 */
#define LEDGER		"backstop-junksize"
#define PRUNED_LOG	"backstop-pruned"	/* what pruning removed */
#define PRUNED_MAX	(1024 * 1024)		/* then it starts anew */

/*
 * The ledger, if present and whole: 1 with count and bytes, 2 the same
 * but past 5120 bytes (to be written again as one line, its sum: that
 * needs no look at the folder); 0 when missing or broken; -1.
 */
static int
ledger_read_at(int dfd, const char *path, long long *count_r,
    long long *bytes_r)
{
	struct maildir_quota q;
	char		 err[64];
	int		 r;

	if ((r = maildir_quota_read(dfd, path, &q, err, sizeof(err))) != 1)
		return r == 0 ? 0 : -1;
	if (q.lines == 0 || q.bad || q.us < 0 || q.uc < 0)
		return 0;
	*count_r = q.uc;
	*bytes_r = q.us;
	return q.fsize > 5120 ? 2 : 1;
}

static int
ledger_read(const struct junk_folder *f, long long *count_r,
    long long *bytes_r)
{
	return ledger_read_at(f->fd, LEDGER, count_r, bytes_r);
}

/* Replace the ledger with one line: count and bytes (file_replace). */
static int
ledger_write(const struct junk_folder *f, const struct junk_policy *p,
    long long count, long long bytes)
{
	struct slice	 v;
	char		 line[128], err[256], *path;
	int		 n, rc;

	n = snprintf(line, sizeof(line), "%lldS,%lldC\n%lld %lld\n",
	    p->max_bytes, p->max_messages, bytes, count);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	v.p = line;
	v.n = (size_t)n;
	path = xstrjoin(f->path, "/" LEDGER, (char *)NULL);
	rc = file_replace(path, &v, 1, 0600, (uid_t)-1, (gid_t)-1, NULL, NULL,
	    err, sizeof(err));
	if (rc == -1)
		log_msg(LOG_ERR, "%s", err);
	free(path);
	return rc;
}

/* A message of ours, as the folder's names say (no file opened). */
struct ours {
	time_t			 t;
	char			*name;
	int			 sub;		/* 0 new/, 1 cur/ */
	unsigned long long	 size;
};

static int
cmp_ours(const void *a, const void *b)
{
	const struct ours *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The messages backstop named in new/ (dfd[0]) and cur/ (dfd[1]): one
 * readdir each, the size from ",S=" (a stat only for a name without it).
 * 0 with the list (free with ours_free) and its totals, or -1.
 */
static int
scan_ours(const int dfd[2], struct ours **v_r, size_t *n_r,
    long long *bytes_r)
{
	struct dirent		*de;
	struct stat		 st;
	DIR			*d;
	struct ours		*v = NULL;
	size_t			 n = 0, cap = 0;
	unsigned long long	 size;
	time_t			 t;
	int			 s, fd;

	*bytes_r = 0;
	for (s = 0; s < 2; s++) {
		if (dfd[s] == -1)
			continue;
		if ((fd = dup(dfd[s])) == -1 || (d = fdopendir(fd)) == NULL) {
			if (fd != -1)
				close(fd);
			goto fail;
		}
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			if (maildir_name_time(de->d_name, &t) == -1)
				continue;
			if (de->d_type != DT_REG || !maildir_name_sized_as(
			    de->d_name, &size)) {
				if (fstatat(dfd[s], de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) == -1 ||
				    !S_ISREG(st.st_mode))
					continue;
				size = maildir_name_size(de->d_name, &st);
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n].t = t;
			v[n].name = xstrdup(de->d_name);
			v[n].sub = s;
			v[n++].size = size;
			*bytes_r += (long long)size;
		}
		closedir(d);
	}
	*v_r = v;
	*n_r = n;
	return 0;
fail:
	while (n > 0)
		free(v[--n].name);
	free(v);
	return -1;
}

static void
ours_free(struct ours *v, size_t n)
{
	while (n > 0)
		free(v[--n].name);
	free(v);
}

/* new/ (dfd[0]) and cur/ (dfd[1]) of the folder: 0, or -1 with errno. */
static int
open_subs(const struct junk_folder *f, int dfd[2])
{
	static const char *const subs[] = { "new", "cur" };
	char		 err[128];
	int		 s;

	dfd[0] = dfd[1] = -1;
	for (s = 0; s < 2; s++)
		if ((dfd[s] = junk_subdir(f->fd, subs[s], err,
		    sizeof(err))) == -1 && errno != ENOENT) {
			if (s == 1)
				close(dfd[0]);
			dfd[0] = -1;
			return -1;
		}
	return 0;
}

static void
close_subs(int dfd[2])
{
	if (dfd[0] != -1)
		close(dfd[0]);
	if (dfd[1] != -1)
		close(dfd[1]);
}

/* open_subs() and scan_ours(): 0 with both open, or -1 with none. */
static int
ours_of(const struct junk_folder *f, int dfd[2], struct ours **v_r,
    size_t *n_r, long long *bytes_r)
{
	if (open_subs(f, dfd) == -1)
		return -1;
	if (scan_ours(dfd, v_r, n_r, bytes_r) == -1) {
		close_subs(dfd);
		return -1;
	}
	return 0;
}

/*
 * Count the ledger again from the folder and write it; count and bytes
 * of what backstop filed that it holds.  0 or -1.
 */
static int
ledger_recount(const struct junk_folder *f, const struct junk_policy *p,
    long long *count_r, long long *bytes_r)
{
	struct ours	*v;
	size_t		 n;
	int		 dfd[2];

	if (ours_of(f, dfd, &v, &n, bytes_r) == -1)
		return -1;
	*count_r = (long long)n;
	ours_free(v, n);
	close_subs(dfd);
	return ledger_write(f, p, *count_r, *bytes_r);
}

/*
 * count and bytes of what the ledger holds changed by one message filed
 * (positive) or removed (negative); a ledger that is missing is left so
 * (the next filing counts it).  For deliver once the message is stored:
 * one O_APPEND write, never waiting.
 */
void
junk_ledger_add(const struct junk_folder *f, long long bytes,
    long long count)
{
	if (f->fd != -1)
		(void)maildir_size_add(f->fd, LEDGER, bytes, count);
}

/* --- pruning --------------------------------------------------------------- */

/* How far pruning goes: -1 is no bound, 0 nothing to free. */
struct goal {
	long long	 keep_count;	/* leave at most this many of ours */
	long long	 keep_bytes;	/* and this many bytes */
	long long	 free_bytes;	/* free at least this much */
	long long	 free_count;
	const char	*why;		/* "cap" or "quota", for the log */
};

static int
goal_open(const struct goal *g, long long count, long long bytes,
    long long fb, long long fc)
{
	return (g->keep_count >= 0 && count > g->keep_count) ||
	    (g->keep_bytes >= 0 && bytes > g->keep_bytes) ||
	    fb < g->free_bytes || fc < g->free_count;
}

/*
 * Remove o (of dfd) if backstop filed it, by expire's rule: its top
 * header block has backstop's X-Backstop: field (never what the user
 * moved into the folder).  Logs its Message-ID and adds a line to rec.
 * 1 removed, 0 not (not ours, gone meanwhile, or not removable).
 */
static int
prune_one(const struct junk_folder *f, int dfd, const struct ours *o,
    const char *why, time_t now, struct trace *rec)
{
	struct junk_item it;
	struct stat	 st;
	char		*shown;

	if (fstatat(dfd, o->name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode) ||
	    junk_item_read(dfd, o->name, &st, &it) == -1 || !it.ours ||
	    unlinkat(dfd, o->name, 0) == -1)
		return 0;
	shown = path_shown(o->name);
	log_msg(LOG_INFO, "pruned %s/%s/%s (%s): message-id=%s original=%s",
	    f->shown, o->sub ? "cur" : "new", shown, why, it.msgid,
	    it.original);
	trace_add(rec, "%lld\t%s\t%s\t%s\t%s\n", (long long)now, why,
	    it.msgid, it.original, shown);
	free(shown);
	return 1;
}

/*
 * Append what was pruned to the Junk folder's record, for junk
 * --summary; past PRUNED_MAX the record is kept as ".old" and begun anew.
 */
static void
pruned_record(const struct junk_folder *f, const struct trace *rec)
{
	struct stat	 st;
	struct slice	 v;
	int		 fd;

	if (rec->len == 0)
		return;
	if (fstatat(f->fd, PRUNED_LOG, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > PRUNED_MAX)
		(void)renameat(f->fd, PRUNED_LOG, f->fd, PRUNED_LOG ".old");
	if ((fd = openat(f->fd, PRUNED_LOG, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600)) == -1)
		return;
	v.p = rec->buf;
	v.n = rec->len;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		(void)write_iov(fd, &v, 1);
	close(fd);
}

/*
 * Prune the Junk folder f toward g: what backstop filed, oldest first
 * (by the time in its name), counted in maildirsize (unless the quota
 * leaves Junk out) and in the ledger, which is written from what the
 * folder then holds.  The caller holds the folder's lock.  *fb and *fc
 * get what was freed added.  0, or -1 when the folder could not be read.
 */
static int
prune(const struct junk_folder *f, const struct junk_policy *p,
    const struct goal *g, long long *fb, long long *fc)
{
	struct trace	 rec = { NULL, 0, 0 };
	struct ours	*v;
	size_t		 n, i;
	long long	 count, bytes, b = 0, c = 0;
	time_t		 now = time(NULL);
	int		 dfd[2];

	if (ours_of(f, dfd, &v, &n, &bytes) == -1)
		return -1;
	count = (long long)n;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_ours);
	for (i = 0; i < n && goal_open(g, count, bytes, b, c); i++) {
		if (!prune_one(f, dfd[v[i].sub], &v[i], g->why, now, &rec))
			continue;
		count--;
		bytes -= (long long)v[i].size;
		b += (long long)v[i].size;
		c++;
	}
	if (c > 0 && !p->quota_ignore &&
	    maildir_size_add(f->rootfd, "maildirsize", -b, -c) == -1)
		log_msg(LOG_ERR, "%s/maildirsize not updated: %s",
		    f->shownroot, strerror(errno));
	(void)ledger_write(f, p, count, bytes);
	pruned_record(f, &rec);
	if (c > 0)
		log_msg(LOG_INFO, "pruned %lld messages, %lld bytes, from %s "
		    "(%s); it holds %lld of backstop's, %lld bytes", c, b,
		    f->shown, g->why, count, bytes);
	trace_free(&rec);
	ours_free(v, n);
	close_subs(dfd);
	*fb += b;
	*fc += c;
	return 0;
}

/*
 * The goal of the cap (junk.max_messages, junk.max_size) for a message of
 * size bytes filed into a Junk folder holding count messages of
 * backstop's, bytes in all: 1 with g set when it would go over, else 0.
 */
static int
cap_goal(const struct junk_policy *p, off_t size, long long count,
    long long bytes, struct goal *g)
{
	memset(g, 0, sizeof(*g));
	g->why = "cap";
	g->keep_count = g->keep_bytes = -1;
	if (p->max_messages > 0 && count + 1 > p->max_messages)
		g->keep_count = p->max_messages - 1 - (p->max_messages / 10);
	if (p->max_bytes > 0 && (long long)size <= p->max_bytes / 2 &&
	    bytes + (long long)size > p->max_bytes)
		g->keep_bytes = p->max_bytes - (long long)size -
		    p->max_bytes / 10;
	if (g->keep_count == -1 && g->keep_bytes == -1)
		return 0;
	if (g->keep_count < -1)
		g->keep_count = 0;
	if (g->keep_bytes < -1)
		g->keep_bytes = 0;
	return 1;
}

/*
 * The ledger of a delivery's Junk folder by path, for reading and
 * appending without opening the folder: this delivery's maildir_put()
 * checked the folder by the one rule.
 */
static char *
ledger_path(const struct junk_policy *p)
{
	return xstrjoin(p->root, "/", p->folder, "/" LEDGER, (char *)NULL);
}

/*
 * The cap's common case, decided without opening the folder: the ledger
 * read by path, as junk_filed() appends to it (this delivery's
 * maildir_put() checked the folder).  1 when the ledger is whole and
 * short and the message fits the cap; 0 sends the delivery down the
 * whole way (junk_open(), the lock, pruning), which decides again.
 */
static int
cap_fits(const struct junk_policy *p, off_t size)
{
	struct goal	 g;
	long long	 count, bytes;
	char		*path;
	int		 r;

	path = ledger_path(p);
	r = ledger_read_at(AT_FDCWD, path, &count, &bytes);
	free(path);
	return r == 1 && !cap_goal(p, size, count, bytes, &g);
}

/*
 * The cap (junk.max_messages, junk.max_size) for a message of size bytes
 * filed into Junk: when the ledger says it would go over, prune down to
 * 90% of the cap (so that a flood prunes once every tenth of the cap,
 * not for every message).  A message larger than half of max_size makes
 * no room by size for itself.  The folder's lock is taken when needed.
 */
static void
room_for_cap(const struct junk_folder *f, const struct junk_policy *p,
    off_t size, int *locked, long long *fb, long long *fc)
{
	struct goal	 g;
	long long	 count, bytes;
	int		 r;

	if ((r = ledger_read(f, &count, &bytes)) != 1) {
		if (!*locked)
			*locked = flock(f->fd, LOCK_EX) == 0;
		if ((r = ledger_read(f, &count, &bytes)) == 2)
			(void)ledger_write(f, p, count, bytes);
		else if (r != 1 && ledger_recount(f, p, &count, &bytes) == -1)
			return;
	}
	if (!cap_goal(p, size, count, bytes, &g))
		return;
	if (!*locked)
		*locked = flock(f->fd, LOCK_EX) == 0;
	/* another delivery may have pruned while this one waited */
	if (ledger_read(f, &count, &bytes) >= 1 && !goal_open(&g, count,
	    bytes, 0, 0))
		return;
	if (prune(f, p, &g, fb, fc) == -1)
		log_msg(LOG_ERR, "%s: cannot prune: %s", f->shown,
		    strerror(errno));
}

/*
 * The room of a delivery (maildir_put()'s struct maildir_room, called by
 * deliver): a message filed into Junk keeps it within its cap, and a
 * message that would go over the Maildir++ quota, real mail above all,
 * first has the oldest of what backstop filed in Junk removed, the need
 * and 5% of the quota more (once for many messages of a flood).  Never
 * what the user moved there, never another folder.  Failures are logged:
 * the cap is then exceeded for now, and the quota step refuses what does
 * not fit.  Returns 0.
 */
static void room_made(const struct junk_policy *, struct maildir_need *, int,
    int);

int
junk_room(const struct junk_policy *p, struct maildir_need *n)
{
	int	 capped, quota;

	capped = p->filing && (p->max_messages > 0 || p->max_bytes > 0);
	quota = !p->quota_ignore && (n->over_bytes > 0 || n->over_count > 0);
	if (!capped && !quota)
		return 0;
	if (!quota && cap_fits(p, n->size))
		return 0;
	room_made(p, n, capped, quota);
	return 0;
}

/*
 * junk_room() the whole way: the folder opened by the one rule, locked,
 * pruned.  Its own frame, not inlined: struct junk_folder and err are
 * 57 KiB of stack, which every filing into Junk would otherwise pay in
 * page faults (bench/sent-index.sh).
 */
static void __attribute__((noinline))
room_made(const struct junk_policy *p, struct maildir_need *n, int capped,
    int quota)
{
	struct junk_folder f;
	struct goal	 g;
	char		 err[JUNK_SHOWN + 256];
	long long	 fb = 0, fc = 0;
	int		 locked = 0;

	if (junk_open(&f, p->root, p->folder, err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "cannot make room: %s", err);
		return;
	}
	if (f.fd != -1 && capped)
		room_for_cap(&f, p, n->size, &locked, &fb, &fc);
	if (f.fd != -1 && quota) {
		memset(&g, 0, sizeof(g));
		g.why = "quota";
		g.keep_count = g.keep_bytes = -1;
		if (n->over_bytes > 0)
			g.free_bytes = n->over_bytes + n->quota_bytes / 20 - fb;
		if (n->over_count > 0)
			g.free_count = n->over_count + n->quota_count / 20 - fc;
		if (!locked)
			locked = flock(f.fd, LOCK_EX) == 0;
		if ((g.free_bytes > 0 || g.free_count > 0) &&
		    prune(&f, p, &g, &fb, &fc) == -1)
			log_msg(LOG_ERR, "%s: cannot prune: %s", f.shown,
			    strerror(errno));
	}
	junk_close(&f);		/* the lock goes with the descriptor */
	if (!p->quota_ignore) {
		n->freed_bytes += fb;
		n->freed_count += fc;
	}
}

/*
 * A message of size bytes was filed into Junk (deliver, once it is
 * stored): the ledger counts it.  Never waits, never fails the delivery.
 */
void
junk_filed(const struct junk_policy *p, off_t size)
{
	char	*path;

	if (p->max_messages <= 0 && p->max_bytes <= 0)
		return;
	path = ledger_path(p);
	(void)maildir_size_add(AT_FDCWD, path, (long long)size, 1);
	free(path);
}

/* --- the daily digest ------------------------------------------------------ */

#define DIGEST_MARK	"backstop-digest."	/* + YYYY-MM-DD: made that day */
#define DIGEST_READ	20000			/* messages read for one */

/* Remove the marks of days before today from the folder f. */
static void
digest_unmark(const struct junk_folder *f, const char *today)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if ((fd = dup(f->fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, DIGEST_MARK, sizeof(DIGEST_MARK) - 1) ==
		    0 && strcmp(de->d_name + sizeof(DIGEST_MARK) - 1, today) != 0)
			(void)unlinkat(f->fd, de->d_name, 0);
	closedir(d);
}

/*
 * What pruning removed between from and to (the record and the one
 * before it), counted by why ("cap", "quota") into t.  The count.
 */
unsigned long
junk_pruned_count(const struct junk_folder *f, time_t from, time_t to,
    struct junk_tally *t)
{
	static const char *const logs[] = { PRUNED_LOG ".old", PRUNED_LOG };
	char		*buf, *p, *nl, *end, why[16];
	size_t		 len, i, k;
	unsigned long	 n = 0;
	long long	 when;
	int		 fd;

	for (i = 0; i < 2; i++) {
		if ((fd = openat(f->fd, logs[i], O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1)
			continue;
		if (read_all_fd(fd, &buf, &len, 2 * PRUNED_MAX) == -1) {
			close(fd);
			continue;
		}
		close(fd);
		for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf)))
		    != NULL; p = nl + 1) {
			*nl = '\0';
			when = strtoll(p, &end, 10);
			if (*end != '\t' || when < from || when >= to)
				continue;
			for (k = 0, end++; *end != '\t' && *end != '\0' &&
			    k + 1 < sizeof(why); end++)
				why[k++] = *end;
			why[k] = '\0';
			junk_tally_add(t, why, 1);
			n++;
		}
		free(buf);
	}
	return n;
}

/*
 * The summary s of what backstop filed between from and to (by the time
 * in the names), DIGEST_READ messages read at most (the rest counted as
 * s->unread).  0 or -1.
 */
static int
digest_gather(const struct junk_folder *f, time_t from, time_t to,
    struct junk_summary *s)
{
	struct junk_item it;
	struct ours	*v;
	struct stat	 st;
	size_t		 n, i, read = 0;
	long long	 bytes;
	int		 dfd[2];

	if (ours_of(f, dfd, &v, &n, &bytes) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i].t < from || v[i].t >= to)
			continue;
		if (read >= DIGEST_READ) {
			s->unread++;
			continue;
		}
		if (fstatat(dfd[v[i].sub], v[i].name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || junk_item_read(dfd[v[i].sub],
		    v[i].name, &st, &it) == -1)
			continue;
		read++;
		snprintf(it.name, sizeof(it.name), "%s", v[i].name);
		junk_summary_add(s, &it);
	}
	ours_free(v, n);
	close_subs(dfd);
	return 0;
}

/* "k1 n1, k2 n2, k3 n3, and N more" of t, most first, into buf. */
static void
digest_list(struct trace *buf, const struct junk_tally *t, size_t most)
{
	struct junk_count *v;
	size_t		 n, i;

	n = junk_tally_sorted(t, 0, &v);
	for (i = 0; i < n && i < most; i++)
		trace_add(buf, "%s%s %lu", i ? ", " : "", v[i].key, v[i].n);
	if (n > most)
		trace_add(buf, ", and %zu more", n - most);
	if (n == 0)
		trace_add(buf, "-");
	free(v);
}

/*
 * The digest's text: a short message for a person, every string from a
 * message shown as explain and junk show them (sanitize(), RFC 2047
 * words decoded; file names path_escape()d).
 */
static void
digest_text(struct trace *m, const struct junk_policy *p,
    const struct junk_summary *s, const char *day, time_t now,
    const char *host, unsigned long pruned)
{
	struct junk_count *kv;
	struct tm	 tm;
	char		 date[64], when[32], *name, *folder;
	size_t		 i, n;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	folder = path_shown(p->folder);
	trace_add(m, "From: backstop <backstop@%s>\nSubject: backstop: %lu "
	    "messages filed in Junk on %s\nDate: %s\nMessage-ID: "
	    "<backstop-digest.%s.%lld@%s>\nAuto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n", host, s->ours + s->unread,
	    day, date,
	    day, (long long)now, host);
	trace_add(m, "backstop filed %lu messages in %s on %s (UTC).\n\n"
	    "By kind: ", s->ours + s->unread, folder, day);
	n = junk_tally_sorted(&s->kinds, 0, &kv);
	for (i = 0; i < n; i++)
		trace_add(m, "%s%s %lu", i ? ", " : "", kv[i].key, kv[i].n);
	free(kv);
	if (s->unread > 0)
		trace_add(m, "%s%lu not read", n ? ", " : "", s->unread);
	trace_add(m, ".\nReporting systems: ");
	digest_list(m, &s->rdomains, 3);
	trace_add(m, ".\nForged Message-ID domains: ");
	digest_list(m, &s->odomains, 3);
	trace_add(m, ".\nPruned to keep Junk within its cap and the quota: "
	    "%lu", pruned);
	if (pruned > 0) {
		trace_add(m, " (");
		digest_list(m, &s->pruned, 2);
		trace_add(m, ")");
	}
	trace_add(m, ".\n\nThe %zu with the weakest evidence; if one of them "
	    "answers mail you sent,\nrestore it (backstop restore FILE):\n",
	    s->nweak);
	for (i = 0; i < s->nweak; i++) {
		gmtime_r(&s->weak[i].filed, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		name = path_shown(s->weak[i].name);
		trace_add(m, "\n  %s  %s\n    Subject: %s\n    Why: %s\n    "
		    "Original: %s\n    FILE: %s\n", when, s->weak[i].from,
		    s->weak[i].subject, s->weak[i].reason,
		    s->weak[i].original, name);
		free(name);
	}
	trace_add(m, "\nbackstop junk lists the folder, backstop junk "
	    "--summary counts it.\n");
	free(folder);
}

/*
 * junk.digest: daily.  Once a day (UTC), the first delivery that finds
 * no mark of today in the Junk folder takes the mark with O_EXCL (so
 * that of concurrent deliveries exactly one goes on) and puts one short
 * message into the inbox: what backstop filed yesterday, by kind,
 * reporting system and forged domain, what pruning removed, and the few
 * messages with the weakest evidence, the ones a person should look at
 * before they expire.  No message on a day with nothing to say.  Called
 * once the delivered message is stored: it costs one access() a
 * delivery, and a failure is logged, never the delivery's.
 */
void
junk_digest(const struct junk_policy *p, time_t now)
{
	struct junk_folder f;
	struct junk_summary s;
	struct maildir_put put;
	struct trace	 m = { NULL, 0, 0 };
	struct slice	 v;
	char		 today[16], day[16], host[256], err[JUNK_SHOWN + 256];
	char		*mark;
	time_t		 t0 = now - now % 86400;
	unsigned long	 pruned;
	int		 fd;

	utc_day(now, today, sizeof(today));
	mark = xstrjoin(p->root, "/", p->folder, "/" DIGEST_MARK, today,
	    (char *)NULL);
	fd = faccessat(AT_FDCWD, mark, F_OK, AT_SYMLINK_NOFOLLOW);
	free(mark);
	if (fd == 0 || errno != ENOENT ||
	    junk_open(&f, p->root, p->folder, err, sizeof(err)) == -1)
		return;
	mark = xstrjoin(DIGEST_MARK, today, (char *)NULL);
	fd = f.fd == -1 ? -1 : openat(f.fd, mark, O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(mark);
	if (fd == -1) {		/* another delivery made it, or no Junk */
		junk_close(&f);
		return;
	}
	close(fd);
	digest_unmark(&f, today);
	memset(&s, 0, sizeof(s));
	utc_day(t0 - 86400, day, sizeof(day));
	pruned = junk_pruned_count(&f, t0 - 86400, t0, &s.pruned);
	if (digest_gather(&f, t0 - 86400, t0, &s) == 0 &&
	    (s.ours > 0 || s.unread > 0 || pruned > 0)) {
		if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		digest_text(&m, p, &s, day, now, host, pruned);
		v.p = m.buf;
		v.n = m.len;
		memset(&put, 0, sizeof(put));
		put.root = p->root;
		put.iov = &v;
		put.niov = 1;
		put.tail_fd = -1;
		put.unquoted = p->quota_ignore ? p->folder : NULL;
		if (maildir_put(&put, err, sizeof(err)) == -1)
			log_msg(LOG_ERR, "digest for %s not delivered: %s",
			    day, err);
		else
			log_msg(LOG_INFO, "digest for %s delivered to the "
			    "inbox (%lu filed, %lu pruned)", day, s.ours +
			    s.unread, pruned);
	}
	trace_free(&m);
	junk_summary_free(&s);
	junk_close(&f);
}
