/*
 * What the world saw of the user's Message-IDs, for learn and check-rules.
 *
 * A Sent copy holds the message as the mail client saved it, before the
 * submission server saw it; a server that adds a missing Message-ID, or
 * rewrites every one, sends mail whose bounces quote an ID that no Sent
 * copy holds.  The replies in the inbox show the IDs as they left: a
 * reply from someone the user wrote to names the message it answers in
 * In-Reply-To (else last in References).  Such a reply that quotes a
 * sent copy's own ID shows the server kept it.  One that quotes another
 * ID, and answers a sent copy by its subject (Re:, AW:, [list] tags
 * aside), sent to that person not long before, shows the ID the world
 * saw for that copy, unless its References name the copy's own ID (then
 * it answers another message of the same thread).
 *
 * Those IDs are added to what learn groups, never put in place of the
 * Sent copies': a wrong match can only add a pattern, which vouches for
 * more bounces (inbox), never fewer.  Only header fields are read, with
 * hdr.c's slices; nothing here parses MIME or decodes words, so a hostile
 * reply costs at most its bounded header read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backstop.h"
#include "extract.h"
#include "hdr.h"
#include "learnworld.h"
#include "sent.h"
#include "util.h"

#define WORLD_SKEW	86400		/* a reply dated before the copy */
#define WORLD_WINDOW	(180 * 86400)	/* a reply long after it */

/* One Message-ID to learn from: a sent copy's, or one a reply shows. */
void
learn_add_id(struct learn *L, const char *path, const char *id, int world)
{
	struct sentmsg	*m;
	size_t		 k;

	if (L->n == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 256;
		L->m = xrealloc(L->m, L->cap * sizeof(*L->m));
	}
	m = &L->m[L->n++];
	k = strlen(id);
	m->id = xmalloc(k + 3);
	if (id[0] == '<')
		memcpy(m->id, id, k + 1);
	else
		snprintf(m->id, k + 3, "<%s>", id);
	m->path = xstrdup(path);
	m->key = NULL;
	m->group = 0;
	m->world = world;
}

/* The header block of a message file, at most LIM_HEADER_BYTES. */
static int
read_head(const char *path, char **buf_r, size_t *len_r)
{
	struct stat	 st;
	size_t		 cap, n = 0;
	ssize_t		 k;
	char		*buf;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	cap = st.st_size < (off_t)LIM_HEADER_BYTES ? (size_t)st.st_size :
	    LIM_HEADER_BYTES;
	buf = xmalloc(cap + 1);
	while (n < cap && (k = read(fd, buf + n, cap - n)) != 0) {
		if (k == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return -1;
		}
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	*buf_r = buf;
	*len_r = hdr_block_len(buf, n);
	return 0;
}

/* Call fn with the unfolded value of every field called name. */
static void
each_field(struct slice block, const char *name,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	struct slice	 cur = block, nm, v;
	static char	 text[LIM_FIELD_BYTES];
	size_t		 k = strlen(name), n;

	while (hdr_next(&cur, &nm, &v))
		if (nm.n == k && ascii_casecmp_n(nm.p, name, k) == 0) {
			n = hdr_unfold(v, text, sizeof(text));
			fn(arg, text, n);
		}
}

struct addrs {
	char	**a;
	size_t	 n;
	int	 first;		/* keep only the first one */
};

static int
on_addr(void *arg, const char *addr, size_t start, size_t end)
{
	struct addrs	*as = arg;

	(void)start;
	(void)end;
	if (as->first && as->n > 0)
		return -1;
	as->a = xrealloc(as->a, (as->n + 1) * sizeof(*as->a));
	as->a[as->n++] = xstrdup(addr);
	return 0;
}

static void
field_addrs(void *arg, const char *text, size_t n)
{
	extract_addrs(text, n, on_addr, arg);
}

static void
field_first(void *arg, const char *text, size_t n)
{
	char	**out = arg;

	if (*out == NULL)
		*out = xstrdup(n > 0 ? text : "");
}

/* A prefix such as "Re:", "AW:", "Fwd[2]:" at p, in lower case: its length. */
static size_t
reply_prefix(const char *p)
{
	static const char *const words[] = { "re", "aw", "sv", "vs", "ref",
	    "fw", "fwd", "wg", "tr", "antw", "odp", "r", NULL };
	size_t	 i, k;

	for (i = 0; words[i] != NULL; i++) {
		k = strlen(words[i]);
		if (strncmp(p, words[i], k) != 0)
			continue;
		if (p[k] == '[' || p[k] == '(') {
			size_t j = k + 1;

			while (p[j] >= '0' && p[j] <= '9')
				j++;
			if (j == k + 1 || (p[j] != ']' && p[j] != ')'))
				continue;
			k = j + 1;
		}
		while (p[k] == ' ')
			k++;
		if (p[k] == ':')
			return k + 1;
	}
	return 0;
}

/*
 * A subject as replies keep it: white space collapsed, ASCII letters in
 * lower case, reply and forward prefixes and [list] tags before the text
 * removed.  Encoded words stay as they are (a reply that re-encodes a
 * subject differently is not matched).
 */
static char *
norm_subject(const char *s)
{
	char	*o = xmalloc(strlen(s) + 1);
	size_t	 n = 0, k;
	int	 sp = 0, again;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ' || c == '\t') {
			sp = n > 0;
			continue;
		}
		if (sp)
			o[n++] = ' ';
		sp = 0;
		o[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	o[n] = '\0';
	do {
		again = 0;
		if (o[0] == '[' && (k = strcspn(o, "]")) < strlen(o)) {
			k++;
			again = 1;
		} else if ((k = reply_prefix(o)) > 0)
			again = 1;
		if (again) {
			while (o[k] == ' ')
				k++;
			memmove(o, o + k, strlen(o + k) + 1);
		}
	} while (again && o[0] != '\0');
	return o;
}

/* The fields of one message: the copy's, or a reply's. */
struct head {
	char		*buf;
	struct slice	 block;
	char		*subj, *date;
};

static int
head_read(struct head *h, const char *path)
{
	size_t	 len;

	memset(h, 0, sizeof(*h));
	if (read_head(path, &h->buf, &len) == -1)
		return -1;
	h->block.p = h->buf;
	h->block.n = len;
	each_field(h->block, "Subject", field_first, &h->subj);
	each_field(h->block, "Date", field_first, &h->date);
	return 0;
}

static void
head_free(struct head *h)
{
	free(h->buf);
	free(h->subj);
	free(h->date);
}

/*
 * A sent copy (id NULL when it has none), with its recipients, subject
 * and date.  One that cannot be read is kept without them.
 */
void
learn_copy(struct learn *L, const char *path, const char *id)
{
	struct sentcopy	*c;
	struct head	 h;
	struct addrs	 as;

	if (L->nsc == L->capsc) {
		L->capsc = L->capsc ? L->capsc * 2 : 256;
		L->sc = xrealloc(L->sc, L->capsc * sizeof(*L->sc));
	}
	c = &L->sc[L->nsc++];
	memset(c, 0, sizeof(*c));
	c->id = id != NULL ? xstrdup(id) : NULL;
	if (head_read(&h, path) == -1) {
		c->subj = xstrdup("");
		return;
	}
	memset(&as, 0, sizeof(as));
	each_field(h.block, "To", field_addrs, &as);
	each_field(h.block, "Cc", field_addrs, &as);
	each_field(h.block, "Bcc", field_addrs, &as);
	c->rcpt = as.a;
	c->nrcpt = as.n;
	c->subj = norm_subject(h.subj != NULL ? h.subj : "");
	c->date = h.date != NULL ? extract_date(h.date, strlen(h.date)) : 0;
	head_free(&h);
}

struct index {
	struct learn	 *L;
	char		**rcpt;		/* every recipient, sorted, once */
	size_t		  nrcpt;
	struct sentcopy	**byid;		/* the copies with an ID, by ID */
	size_t		  nbyid;
	struct sentcopy	**bysubj;	/* every copy, by subject */
	size_t		  nbysubj;
};

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
id_cmp(const void *a, const void *b)
{
	return strcmp((*(struct sentcopy *const *)a)->id,
	    (*(struct sentcopy *const *)b)->id);
}

static int
subj_cmp(const void *a, const void *b)
{
	return strcmp((*(struct sentcopy *const *)a)->subj,
	    (*(struct sentcopy *const *)b)->subj);
}

static void
index_build(struct index *x, struct learn *L)
{
	size_t	 i, j, n = 0;

	memset(x, 0, sizeof(*x));
	x->L = L;
	for (i = 0; i < L->nsc; i++)
		n += L->sc[i].nrcpt;
	x->rcpt = xmalloc((n ? n : 1) * sizeof(*x->rcpt));
	x->byid = xmalloc((L->nsc ? L->nsc : 1) * sizeof(*x->byid));
	x->bysubj = xmalloc((L->nsc ? L->nsc : 1) * sizeof(*x->bysubj));
	for (i = 0; i < L->nsc; i++) {
		for (j = 0; j < L->sc[i].nrcpt; j++)
			x->rcpt[x->nrcpt++] = L->sc[i].rcpt[j];
		if (L->sc[i].id != NULL)
			x->byid[x->nbyid++] = &L->sc[i];
		if (L->sc[i].subj[0] != '\0')
			x->bysubj[x->nbysubj++] = &L->sc[i];
	}
	qsort(x->rcpt, x->nrcpt, sizeof(*x->rcpt), str_cmp);
	for (i = j = 0; i < x->nrcpt; i++)
		if (j == 0 || strcmp(x->rcpt[j - 1], x->rcpt[i]) != 0)
			x->rcpt[j++] = x->rcpt[i];
	x->nrcpt = j;
	qsort(x->byid, x->nbyid, sizeof(*x->byid), id_cmp);
	qsort(x->bysubj, x->nbysubj, sizeof(*x->bysubj), subj_cmp);
}

static void
index_free(struct index *x)
{
	free(x->rcpt);
	free(x->byid);
	free(x->bysubj);
}

static int
wrote_to(const struct sentcopy *c, const char *addr)
{
	size_t	 i;

	for (i = 0; i < c->nrcpt; i++)
		if (strcmp(c->rcpt[i], addr) == 0)
			return 1;
	return 0;
}

/*
 * The sent copy a reply from addr, with subject subj and date, answers:
 * the latest one to addr with that subject, not after the reply (a day
 * of skew) nor long before it; NULL when none.
 */
static struct sentcopy *
answered(const struct index *x, const char *addr, const char *subj,
    int64_t date)
{
	struct sentcopy	 key, *kp = &key, *best = NULL, *c;
	size_t		 lo = 0, hi = x->nbysubj, mid;

	key.subj = (char *)(uintptr_t)subj;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (subj_cmp(&x->bysubj[mid], &kp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < x->nbysubj && strcmp(x->bysubj[lo]->subj, subj) == 0;
	    lo++) {
		c = x->bysubj[lo];
		if (!wrote_to(c, addr))
			continue;
		if (date != 0 && c->date != 0 && (c->date > date + WORLD_SKEW ||
		    date - c->date > WORLD_WINDOW))
			continue;
		if (best == NULL || c->date > best->date)
			best = c;
	}
	return best;
}

/* One inbox message: a reply from someone written to? */
static int
on_inbox(void *arg, const char *path, const char *id)
{
	struct index	*x = arg;
	struct learn	*L = x->L;
	struct head	 h;
	struct addrs	 from;
	struct sentcopy	 key, *kp = &key, *c;
	char		 q[LIM_MSGID + 1], *refs = NULL, *irt = NULL, *subj;
	struct slice	 v;
	int		 have;

	(void)id;
	L->w.read++;
	if (head_read(&h, path) == -1) {
		L->w.unreadable++;
		return 0;
	}
	memset(&from, 0, sizeof(from));
	from.first = 1;
	each_field(h.block, "From", field_addrs, &from);
	if (from.n == 0 || bsearch(&from.a[0], x->rcpt, x->nrcpt,
	    sizeof(*x->rcpt), str_cmp) == NULL)
		goto done;
	have = hdr_find(h.block, "In-Reply-To", &v) &&
	    hdr_msgid(v, q, sizeof(q));
	if (!have)
		have = hdr_find(h.block, "References", &v) &&
		    hdr_last_msgid(v, q, sizeof(q));
	if (!have || q[0] != '<')
		goto done;
	L->w.replies++;
	key.id = q;
	if (bsearch(&kp, x->byid, x->nbyid, sizeof(*x->byid), id_cmp) != NULL) {
		L->w.kept++;
		goto done;
	}
	subj = norm_subject(h.subj != NULL ? h.subj : "");
	c = subj[0] != '\0' ? answered(x, from.a[0], subj, h.date != NULL ?
	    extract_date(h.date, strlen(h.date)) : 0) : NULL;
	free(subj);
	if (c == NULL || c->world != NULL)
		goto done;
	if (c->id != NULL) {
		/* a reply in the thread, to another message of it? */
		each_field(h.block, "References", field_first, &refs);
		each_field(h.block, "In-Reply-To", field_first, &irt);
		if ((refs != NULL && strstr(refs, c->id) != NULL) ||
		    (irt != NULL && strstr(irt, c->id) != NULL))
			goto done;
	}
	c->world = xstrdup(q);
	c->reply = xstrdup(path);
	if (c->id == NULL) {
		L->w.added++;
		if (L->w.ex_added == NULL)
			L->w.ex_added = c;
	} else {
		L->w.rewritten++;
		if (L->w.ex_rewritten == NULL)
			L->w.ex_rewritten = c;
	}
	learn_add_id(L, path, q, 1);
done:
	while (from.n > 0)
		free(from.a[--from.n]);
	free(from.a);
	free(refs);
	free(irt);
	head_free(&h);
	return 0;
}

/*
 * Read the replies of the inbox (the maildir's new/ and cur/) against the
 * sent copies read so far; add the IDs the world saw.  Returns 0, or -1
 * with err set when the inbox is there but cannot be listed.
 */
int
learn_replies(struct learn *L, const char *inbox, char *err, size_t errsz)
{
	struct index	 x;
	char		 sub[4096];
	struct stat	 st;
	size_t		 unreadable = 0;
	int		 rc;

	if ((size_t)snprintf(sub, sizeof(sub), "%s/cur", inbox) >=
	    sizeof(sub) || stat(sub, &st) == -1 || !S_ISDIR(st.st_mode))
		return 0;	/* no inbox: nothing to learn from it */
	free(L->inbox);
	L->inbox = xstrdup(inbox);
	if (L->nsc == 0)
		return 0;
	index_build(&x, L);
	rc = sent_each(inbox, on_inbox, &x, &unreadable, err, errsz);
	L->w.unreadable += unreadable;
	index_free(&x);
	return rc;
}

/* Sent copies without a Message-ID whose ID no reply showed. */
size_t
learn_copies_unproven(const struct learn *L)
{
	size_t	 i, n = 0;

	for (i = 0; i < L->nsc; i++)
		n += L->sc[i].id == NULL && L->sc[i].world == NULL;
	return n;
}

/* What the replies showed, for learn and check-rules. */
void
learn_world_print(const struct learn *L)
{
	const struct world *w = &L->w;
	char	 a[LIM_MSGID + 1], b[LIM_MSGID + 1];

	if (L->inbox == NULL)
		return;
	printf("replies in %s from people you wrote to: %zu of %zu "
	    "messages\n", L->inbox, w->replies, w->read);
	if (w->replies == 0)
		return;
	printf("  %zu quote a Message-ID as your sent copy has it\n",
	    w->kept);
	if (w->ex_added != NULL) {
		sanitize(a, sizeof(a), w->ex_added->world,
		    strlen(w->ex_added->world));
		printf("  %zu answer a sent copy that has no Message-ID: your "
		    "submission server adds it; the world saw e.g. %s\n",
		    w->added, a);
	}
	if (w->ex_rewritten != NULL) {
		sanitize(a, sizeof(a), w->ex_rewritten->id,
		    strlen(w->ex_rewritten->id));
		sanitize(b, sizeof(b), w->ex_rewritten->world,
		    strlen(w->ex_rewritten->world));
		printf("  %zu answer a sent copy by another Message-ID: your "
		    "submission server rewrites it; e.g. your copy has %s, "
		    "the world saw %s\n", w->rewritten, a, b);
	}
	if (w->added + w->rewritten > 0)
		printf("  the %zu Message-ID%s the world saw %s learnt from "
		    "too\n", w->added + w->rewritten, w->added + w->rewritten
		    == 1 ? "" : "s", w->added + w->rewritten == 1 ? "is" :
		    "are");
}

void
learn_world_free(struct learn *L)
{
	size_t	 i, j;

	for (i = 0; i < L->nsc; i++) {
		free(L->sc[i].id);
		free(L->sc[i].subj);
		free(L->sc[i].world);
		free(L->sc[i].reply);
		for (j = 0; j < L->sc[i].nrcpt; j++)
			free(L->sc[i].rcpt[j]);
		free(L->sc[i].rcpt);
	}
	free(L->sc);
	free(L->inbox);
}
