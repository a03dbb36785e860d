/*
 * backstop learn and backstop check-rules: outbound patterns from what
 * the user really sent.
 *
 * Design.  Every program that writes Message-IDs has a shape: Thunderbird
 * writes a UUID at the sender's domain, Postfix a timestamp and a queue
 * ID at its host name, a cron job a timestamp, a process ID and a user
 * name.  learn reads the Message-IDs of the sent folders and groups them
 * by generator: the domain (its last two labels and number of labels)
 * and the separators of the left-hand side ("----" for a UUID, "." for
 * Postfix).  Each position of a group then becomes a literal when it is
 * the same everywhere (a user name, a host), an alternation of a few
 * words, or a character class with a length range (digits, hex of one
 * case, letters) widened a little beyond what was seen, so that the next
 * message of the same generator matches too.  A domain whose groups are
 * mostly singletons (separators that vary from message to message, as in
 * Gmail's base64 ids) is generalized as one free-form group.
 *
 * A pattern is flagged, never proposed silently, when it would also
 * match Message-IDs of other senders: a domain shared by every user of a
 * provider (gmail.com, outlook.com, ...), a local host name, or a pattern
 * that accepts two or more of the common shapes in a built-in battery of
 * Message-IDs (UUID, hex, Postfix, Outlook, JavaMail, ...) written at the
 * same domain: that is what ".*"-like and too-short patterns do.  Such
 * messages are better proven by the sent index (outbound.sent).
 *
 * --write appends the accepted patterns to the user's rule file as text,
 * under the existing outbound.message_id list, so that its comments and
 * layout stay as the user wrote them; libyaml only says where.  The new
 * file is loaded as a rule file before it replaces the old one.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "backstop.h"
#include "evidence.h"
#include "commands.h"
#include "extract.h"
#include "judge.h"
#include "learnworld.h"
#include "maildir.h"
#include "mta.h"
#include "opts.h"
#include "rules.h"
#include "sent.h"
#include "util.h"

#define LEARN_MAXTOK	64	/* tokens of a left-hand side, labels */
#define LEARN_ALT	3	/* words in an alternation */
#define LEARN_ALT_LABEL	4	/* host names in an alternation */
#define LEARN_MINLEN	8	/* shorter left-hand sides: flagged */

/* Character kinds of a token. */
#define C_DIGIT		0x01
#define C_UHEX		0x02	/* A-F */
#define C_UPPER		0x04	/* G-Z */
#define C_LHEX		0x08	/* a-f */
#define C_LOWER		0x10	/* g-z */
#define C_OTHER		0x20	/* anything else (free-form only) */

struct buf {
	char	*p;
	size_t	 n, cap;
};

struct group {
	char	*key;
	size_t	*mem;
	size_t	 n, cap;
	int	 freeform;
	char	*pattern;
	char	*shape;
	pcre2_code *re;
	size_t	 cover;		/* sent ids the pattern matches */
	size_t	 example;	/* index of a member */
	char	 flag[300];	/* empty: proposed */
	char	 rule[320];	/* already covered by this rule */
	int	 redundant;	/* another proposal covers all it does */
	size_t	 minlen;	/* shortest left-hand side accepted */
	unsigned char *hits;	/* per sent id */
	char	 accepted[300];	/* a flag the user accepted, and why */
	const char *mta;	/* the local mail system's own: its name */
	char	*source;	/* what it was read from */
	char	*sample;	/* an ID it writes, when no member shows one */
	int	 unused;	/* the MTA's, but no sent ID went through it */
};

/* A parsed Message-ID: tokens of the left-hand side, labels of the right. */
struct idshape {
	struct slice	 tok[LEARN_MAXTOK];
	char		 sep[LEARN_MAXTOK];	/* sep[i] follows tok[i] */
	size_t		 ntok;
	struct slice	 lab[LEARN_MAXTOK];
	size_t		 nlab;
	struct slice	 l, r;
	int		 at;			/* has '@' */
	int		 overflow;
};

static void	 bput(struct buf *, const char *, size_t);
static void	 bputs(struct buf *, const char *);
static void	 bprintf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
bput(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
bputs(struct buf *b, const char *s)
{
	bput(b, s, strlen(s));
}

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[512];
	int	 k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k > 0)
		bput(b, tmp, (size_t)k < sizeof(tmp) ? (size_t)k :
		    sizeof(tmp) - 1);
}

static int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

static unsigned
char_kind(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return C_DIGIT;
	if (c >= 'A' && c <= 'F')
		return C_UHEX;
	if (c >= 'G' && c <= 'Z')
		return C_UPPER;
	if (c >= 'a' && c <= 'f')
		return C_LHEX;
	if (c >= 'g' && c <= 'z')
		return C_LOWER;
	return C_OTHER;
}

static unsigned
slice_kind(struct slice s)
{
	unsigned m = 0;
	size_t	 i;

	for (i = 0; i < s.n; i++)
		m |= char_kind((unsigned char)s.p[i]);
	return m;
}

/* Split "<left@right>" into tokens and labels. */
static void
parse_id(const char *id, struct idshape *s)
{
	const char	*p = id, *e = id + strlen(id), *at = NULL, *q, *t;

	memset(s, 0, sizeof(*s));
	if (p < e && *p == '<')
		p++;
	if (e > p && e[-1] == '>')
		e--;
	for (q = p; q < e; q++)
		if (*q == '@')
			at = q;
	s->at = at != NULL;
	s->l.p = p;
	s->l.n = (size_t)((at ? at : e) - p);
	s->r.p = at ? at + 1 : e;
	s->r.n = at ? (size_t)(e - at - 1) : 0;
	/* tokens: runs of letters and digits, one separator between */
	for (t = q = p; ; q++) {
		if (q == s->l.p + s->l.n || !is_alnum((unsigned char)*q)) {
			if (s->ntok == LEARN_MAXTOK) {
				s->overflow = 1;
				break;
			}
			s->tok[s->ntok].p = t;
			s->tok[s->ntok].n = (size_t)(q - t);
			if (q == s->l.p + s->l.n) {
				s->ntok++;
				break;
			}
			s->sep[s->ntok++] = *q;
			t = q + 1;
		}
	}
	for (t = q = s->r.p; s->r.n > 0; q++) {
		if (q == s->r.p + s->r.n || *q == '.') {
			if (s->nlab == LEARN_MAXTOK) {
				s->overflow = 1;
				break;
			}
			s->lab[s->nlab].p = t;
			s->lab[s->nlab++].n = (size_t)(q - t);
			if (q == s->r.p + s->r.n)
				break;
			t = q + 1;
		}
	}
}

/* Generator key: domain family and separators of the left-hand side. */
static char *
id_key(const char *id)
{
	struct idshape	 s;
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i, from;

	parse_id(id, &s);
	from = s.nlab >= 2 ? s.nlab - 2 : 0;
	for (i = from; i < s.nlab; i++) {
		size_t k;

		for (k = 0; k < s.lab[i].n; k++) {
			char c = s.lab[i].p[k];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			bput(&b, &c, 1);
		}
		if (i + 1 < s.nlab)
			bputs(&b, ".");
	}
	bprintf(&b, "|%zu|%d|", s.nlab, s.at);
	if (s.overflow)
		bputs(&b, "~");
	else
		for (i = 0; i + 1 < s.ntok; i++)
			bput(&b, &s.sep[i], 1);
	if (b.p == NULL)
		bputs(&b, "");
	return b.p;
}

/* Escape a literal for PCRE2. */
static void
re_literal(struct buf *b, const char *p, size_t n)
{
	size_t	 i;
	char	 x[8];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (strchr("\\^$.|?*+()[]{}", c) != NULL && c != '\0') {
			bput(b, "\\", 1);
			bput(b, (const char *)&c, 1);
		} else if (c < 0x21 || c >= 0x7f || c == '#') {
			snprintf(x, sizeof(x), "\\x%02x", c);
			bputs(b, x);
		} else
			bput(b, (const char *)&c, 1);
	}
}

static int
slice_eq(struct slice a, struct slice b, int ci)
{
	return a.n == b.n && (ci ? ascii_casecmp_n(a.p, b.p, a.n) == 0 :
	    memcmp(a.p, b.p, a.n) == 0);
}

/* A date or epoch written in digits: its length is its format. */
static int
timestamp_like(const struct slice *v, size_t k)
{
	size_t	 i, n = v[0].n;

	for (i = 0; i < k; i++) {
		if (v[i].n != n)
			return 0;
		if ((n == 8 || n == 12 || n == 14) &&
		    !(v[i].p[0] == '1' && v[i].p[1] == '9') &&
		    !(v[i].p[0] == '2' && v[i].p[1] == '0'))
			return 0;
		if ((n == 10 || n == 13) && v[i].p[0] != '1')
			return 0;
		if (n != 8 && n != 10 && n != 12 && n != 13 && n != 14)
			return 0;
	}
	return 1;
}

/* "word", "Word": a name, not a random token. */
static int
word_like(struct slice s)
{
	size_t	 i;
	int	 nonhex = 0;

	if (s.n < 2 || s.n > 12)
		return 0;
	for (i = 0; i < s.n; i++) {
		unsigned k = char_kind((unsigned char)s.p[i]);

		if (i == 0 && (k & (C_UHEX | C_UPPER)))
			continue;
		if (!(k & (C_LHEX | C_LOWER)))
			return 0;
		if (k == C_LOWER)
			nonhex = 1;
	}
	return nonhex;
}

static void
re_class(struct buf *re, struct buf *desc, unsigned mask)
{
	if (mask == C_DIGIT) {
		bputs(re, "[0-9]");
		bputs(desc, "digits");
		return;
	}
	bputs(re, "[0-9");
	if (mask & C_UPPER)
		bputs(re, "A-Z");
	else if (mask & C_UHEX)
		bputs(re, "A-F");
	if (mask & C_LOWER)
		bputs(re, "a-z");
	else if (mask & C_LHEX)
		bputs(re, "a-f");
	bputs(re, "]");
	if ((mask & (C_UPPER | C_LOWER)) == 0)
		bputs(desc, (mask & C_UHEX) && (mask & C_LHEX) ? "Hex" :
		    (mask & C_UHEX) ? "HEX" : "hex");
	else
		bputs(desc, (mask & (C_UPPER | C_UHEX)) &&
		    (mask & (C_LOWER | C_LHEX)) ? "Alnum" :
		    (mask & (C_UPPER | C_UHEX)) ? "ALNUM" : "alnum");
}

/*
 * Lengths seen, widened where the generator's range is not known.
 * Returns the shortest length accepted.
 */
static size_t
re_len(struct buf *re, struct buf *desc, size_t lo, size_t hi, int widen)
{
	size_t	 d;

	if (lo == hi && !widen) {
		bprintf(re, "{%zu}", lo);
		bprintf(desc, "%zu", lo);
		return lo;
	}
	d = (hi - lo) / 2 + 1;
	if (lo == hi)
		d = 2;
	lo = lo > d ? lo - d : (lo > 0 ? 1 : 0);
	hi += d;
	bprintf(re, "{%zu,%zu}", lo, hi);
	bprintf(desc, "%zu-%zu", lo, hi);
	return lo;
}

/*
 * One position of a group (k values): a literal, an alternation or a
 * class.  label: a domain label.  grp: the letter kinds of the whole
 * left-hand side of the group, for a token that happened to be digits.
 */
static size_t
gen_pos(struct buf *re, struct buf *desc, const struct slice *v, size_t k,
    int label, unsigned grp)
{
	size_t		 i, j, lo = SIZE_MAX, hi = 0, total = 0, nd = 0;
	unsigned	 mask = 0, nup = 0, nlow = 0;
	int		 constant = 1, ciconst = 1;
	struct slice	 dist[LEARN_ALT_LABEL + 1];

	for (i = 0; i < k; i++) {
		mask |= slice_kind(v[i]);
		lo = v[i].n < lo ? v[i].n : lo;
		hi = v[i].n > hi ? v[i].n : hi;
		total += v[i].n;
		for (j = 0; j < v[i].n; j++) {
			unsigned c = char_kind((unsigned char)v[i].p[j]);

			nup += (c & (C_UHEX | C_UPPER)) != 0;
			nlow += (c & (C_LHEX | C_LOWER)) != 0;
		}
		if (!slice_eq(v[i], v[0], 0))
			constant = 0;
		if (!slice_eq(v[i], v[0], 1))
			ciconst = 0;
		for (j = 0; j < nd; j++)
			if (slice_eq(v[i], dist[j], 0))
				break;
		if (j == nd && nd <= LEARN_ALT_LABEL)
			dist[nd++] = v[i];
	}
	if (hi == 0)
		return 0;
	if (label ? constant : (constant && mask != C_DIGIT &&
	    (k >= 2 || word_like(v[0])))) {
		re_literal(re, v[0].p, v[0].n);
		bput(desc, v[0].p, v[0].n);
		return v[0].n;
	}
	if (label && ciconst) {
		bputs(re, "(?i:");
		re_literal(re, v[0].p, v[0].n);
		bputs(re, ")");
		bput(desc, v[0].p, v[0].n);
		return v[0].n;
	}
	if (nd >= 2 && nd <= (label ? LEARN_ALT_LABEL : LEARN_ALT) &&
	    k >= 2 * nd && (label || lo > 0) &&
	    (label || (mask & C_DIGIT) == 0)) {
		bputs(re, "(?:");
		bputs(desc, "(");
		for (j = 0; j < nd; j++) {
			if (j > 0) {
				bputs(re, "|");
				bputs(desc, "|");
			}
			re_literal(re, dist[j].p, dist[j].n);
			bput(desc, dist[j].p, dist[j].n);
		}
		bputs(re, ")");
		bputs(desc, ")");
		return lo;
	}
	if (mask == C_DIGIT) {
		if (timestamp_like(v, k)) {
			re_class(re, desc, mask);
			re_len(re, desc, lo, hi, 0);
			if (hi == 14 || hi == 12 || hi == 8)
				bputs(desc, "(date)");
			else
				bputs(desc, "(epoch)");
			return lo;
		}
		/* hex that happened to be all digits in what we saw */
		if (total < 15 && (grp & (C_LHEX | C_LOWER | C_UPPER)) ==
		    C_LHEX && !(grp & C_UHEX))
			mask |= C_LHEX;
		else if (total < 15 && (grp & (C_UHEX | C_UPPER | C_LOWER)) ==
		    C_UHEX && !(grp & C_LHEX))
			mask |= C_UHEX;
		re_class(re, desc, mask);
		return re_len(re, desc, lo, hi, mask == C_DIGIT);
	}
	/* a few letters all within a-f prove nothing about hex */
	if ((mask & C_UHEX) && !(mask & C_UPPER) && nup < 4)
		mask |= C_UPPER;
	if ((mask & C_LHEX) && !(mask & C_LOWER) && nlow < 4)
		mask |= C_LOWER;
	re_class(re, desc, mask);
	return re_len(re, desc, lo, hi, 0);
}

/* Free-form left-hand side: a common prefix, then one class. */
static size_t
gen_freeform(struct buf *re, struct buf *desc, const struct slice *v,
    size_t k)
{
	size_t		 i, j, pre = SIZE_MAX, lo = SIZE_MAX, hi = 0;
	unsigned	 mask = 0;
	unsigned char	 punct[256];
	char		 c[3];

	memset(punct, 0, sizeof(punct));
	if (k >= 3) {
		pre = 4;
		for (i = 0; i < k; i++) {
			for (j = 0; j < pre && j < v[i].n && j < v[0].n &&
			    v[i].p[j] == v[0].p[j] &&
			    is_alnum((unsigned char)v[0].p[j]); j++)
				;
			pre = j;
		}
	} else
		pre = 0;
	for (i = 0; i < k; i++) {
		for (j = pre; j < v[i].n; j++) {
			unsigned char ch = (unsigned char)v[i].p[j];
			unsigned kd = char_kind(ch);

			mask |= kd;
			if (kd == C_OTHER)
				punct[ch] = 1;
		}
		lo = v[i].n - pre < lo ? v[i].n - pre : lo;
		hi = v[i].n - pre > hi ? v[i].n - pre : hi;
	}
	if (pre > 0) {
		re_literal(re, v[0].p, pre);
		bput(desc, v[0].p, pre);
		bputs(desc, " ");
	}
	bputs(re, "[");
	if (mask & (C_DIGIT | C_UHEX | C_UPPER | C_LHEX | C_LOWER))
		bputs(re, "0-9");
	if (mask & (C_UHEX | C_UPPER))
		bputs(re, "A-Z");
	if (mask & (C_LHEX | C_LOWER))
		bputs(re, "a-z");
	for (i = 0; i < 256; i++)
		if (punct[i] && i > 0x20 && i < 0x7f && i != '@' &&
		    i != '<' && i != '>') {
			c[0] = '\\';
			c[1] = (char)i;
			c[2] = '\0';
			bputs(re, is_alnum((unsigned char)i) ? c + 1 : c);
		}
	bputs(re, "]");
	bputs(desc, "free-form");
	return pre + re_len(re, desc, lo, hi, lo == hi);
}

/* Build the pattern and the shape line of a group. */
static void
gen_group(struct learn *L, struct group *g)
{
	struct idshape	*s = xmalloc(g->n * sizeof(*s));
	struct slice	*v = xmalloc(g->n * sizeof(*v));
	struct buf	 re = { NULL, 0, 0 }, desc = { NULL, 0, 0 };
	size_t		 i, j, ntok, nlab;
	unsigned	 grp = 0;

	for (i = 0; i < g->n; i++) {
		parse_id(L->m[g->mem[i]].id, &s[i]);
		grp |= slice_kind(s[i].l);
	}
	ntok = s[0].ntok;
	nlab = s[0].nlab;
	bputs(&re, "^<");
	if (g->freeform || s[0].overflow) {
		for (i = 0; i < g->n; i++)
			v[i] = s[i].l;
		g->minlen = gen_freeform(&re, &desc, v, g->n);
	} else
		for (j = 0; j < ntok; j++) {
			for (i = 0; i < g->n; i++)
				v[i] = s[i].tok[j];
			g->minlen += gen_pos(&re, &desc, v, g->n, 0, grp);
			if (j + 1 < ntok) {
				g->minlen++;
				re_literal(&re, &s[0].sep[j], 1);
				bput(&desc, &s[0].sep[j], 1);
			}
		}
	if (s[0].at) {
		bputs(&re, "@");
		bputs(&desc, " @ ");
		for (j = 0; j < nlab; j++) {
			for (i = 0; i < g->n; i++)
				v[i] = s[i].lab[j];
			gen_pos(&re, &desc, v, g->n, 1, 0);
			if (j + 1 < nlab) {
				bputs(&re, "\\.");
				bputs(&desc, ".");
			}
		}
	}
	bputs(&re, ">$");
	g->pattern = re.p;
	g->shape = desc.p ? desc.p : xstrdup("");
	free(s);
	free(v);
}

/* Domains that every user of a provider shares. */
static const char *const shared_domains[] = {
	"gmail.com", "googlemail.com", "google.com", "outlook.com",
	"hotmail.com", "live.com", "msn.com", "office365.com",
	"yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com",
	"aol.com", "aim.com", "icloud.com", "me.com", "mac.com", "apple.com",
	"gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de", "mail.ru",
	"yandex.ru", "yandex.com", "protonmail.com", "protonmail.ch",
	"proton.me", "zoho.com", "fastmail.com", "messagingengine.com",
	"amazonses.com", "sendgrid.net", "mailgun.org", "mailchimp.com",
	"mcsv.net", "sparkpostmail.com", "qq.com", "163.com", "naver.com",
	"orange.fr", "free.fr", "laposte.net", "libero.it", "comcast.net",
	"att.net", "verizon.net", "seznam.cz", "wp.pl", "o2.pl", "rambler.ru",
	NULL
};

static const char *
shared_domain(struct slice r)
{
	size_t	 i, k;

	for (i = 0; shared_domains[i] != NULL; i++) {
		k = strlen(shared_domains[i]);
		if (r.n >= k && ascii_casecmp_n(r.p + r.n - k,
		    shared_domains[i], k) == 0 &&
		    (r.n == k || r.p[r.n - k - 1] == '.'))
			return shared_domains[i];
	}
	return NULL;
}

static int
local_domain(struct slice r)
{
	static const char *const suf[] = { ".localdomain", ".local", ".lan",
	    ".home", ".internal", ".localhost", NULL };
	size_t	 i, k;

	if (r.n == 0 || memchr(r.p, '.', r.n) == NULL)
		return 1;
	for (i = 0; suf[i] != NULL; i++) {
		k = strlen(suf[i]);
		if (r.n >= k && ascii_casecmp_n(r.p + r.n - k, suf[i], k) == 0)
			return 1;
	}
	return 0;
}

/*
 * Message-IDs that other software writes, at the group's own domain: a
 * pattern that accepts two different shapes of these is too broad.
 */
static const char *const battery[] = {
	"3f2504e0-4f89-11d3-9a0c-0305e82c3301",		/* UUID */
	"3F2504E0-4F89-11D3-9A0C-0305E82C3301",		/* UUID, Apple */
	"9b2e4c1a7d3f40e8b6a5c2d1e0f98765",		/* hex 32 */
	"20240517093015.4C1A27F3B2@",			/* Postfix */
	"000001d9a1b2$c3d4e5f6$a7b8c9d0",		/* Outlook */
	"Kq7ZtR2mWx9PbN4sLc8V",				/* random 20 */
	"1715938215123.4711.JavaMail.root",		/* JavaMail */
	"5F2A1B3C.4050607",				/* Netscape */
	"CAF8xk7z3Q9w+4p_Jm2=Rk-5vT1nYb@",		/* Gmail */
	"1715938215",					/* epoch */
	"E1sVx2Q-0004kL-7a",				/* Exim */
	"a1b",						/* short */
	NULL
};

static int
battery_hits(const struct group *g, const char *dom, pcre2_match_data *md,
    const char **ex_r)
{
	char	 id[1200], loc[64];
	size_t	 i, k;
	int	 n = 0;

	for (i = 0; battery[i] != NULL; i++) {
		snprintf(loc, sizeof(loc), "%s", battery[i]);
		k = strlen(loc);
		if (k > 0 && loc[k - 1] == '@')
			loc[k - 1] = '\0';
		if ((size_t)snprintf(id, sizeof(id), "<%s@%s>", loc, dom) >=
		    sizeof(id))
			continue;
		if (pcre2_match(g->re, (PCRE2_SPTR)id, strlen(id), 0, 0, md,
		    NULL) >= 0) {
			if (n++ == 0)
				*ex_r = battery[i];
		}
	}
	return n;
}

static int
group_cmp_cover(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->cover != y->cover)
		return x->cover > y->cover ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Collect the Message-IDs of the sent folders, and the copies' fields. */
static int
on_sent(void *arg, const char *path, const char *id)
{
	struct learn	*L = arg;

	L->nmsgs++;
	if (id == NULL)
		L->noid++;
	else
		learn_add_id(L, path, id, 0);
	learn_copy(L, path, id);
	return 0;
}

static void
learn_free(struct learn *L)
{
	size_t	 i;

	for (i = 0; i < L->n; i++) {
		free(L->m[i].id);
		free(L->m[i].path);
		free(L->m[i].key);
	}
	free(L->m);
	for (i = 0; i < L->nfolders; i++)
		free(L->folders[i]);
	free(L->folders);
	for (i = 0; i < L->ng; i++) {
		free(L->g[i].key);
		free(L->g[i].mem);
		free(L->g[i].pattern);
		free(L->g[i].shape);
		free(L->g[i].hits);
		free(L->g[i].source);
		free(L->g[i].sample);
		pcre2_code_free(L->g[i].re);
	}
	free(L->g);
	learn_world_free(L);
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
add_folder(struct learn *L, const char *path)
{
	L->folders = xrealloc(L->folders, (L->nfolders + 1) *
	    sizeof(*L->folders));
	L->folders[L->nfolders++] = xstrdup(path);
}

/*
 * The sent folders of the rules (outbound.sent), else the default ones,
 * as deliver's sent index reads them; n set to how many names there are.
 */
static const char *const *
sent_names(const struct rules *r, size_t *n_r)
{
	const char *const *names = rules_sent_folders(r, n_r);

	if (*n_r == 0) {
		names = sent_default_names();
		while (names[*n_r] != NULL)
			(*n_r)++;
	}
	return names;
}

/*
 * The folders to read: the arguments, or the sent folders of the rules
 * that exist (none is no error here: learn asks the mail system then).
 * -1 when a folder named as an argument is not there.
 */
static int
get_folders(struct learn *L, const struct rules *r, int argc, char **argv)
{
	char		 path[4096];
	const char *const *names;
	size_t		 n, k;
	int		 i;

	if (argc == 0) {
		names = sent_names(r, &n);
		for (k = 0; k < n; k++)
			if (sent_folder_path(NULL, names[k], path,
			    sizeof(path)) ==
			    0 && is_dir(path))
				add_folder(L, path);
		return 0;
	}
	for (i = 0; i < argc; i++) {
		if (strchr(argv[i], '/') != NULL || is_dir(argv[i]))
			snprintf(path, sizeof(path), "%s", argv[i]);
		else if (sent_folder_path(NULL, argv[i], path, sizeof(path)) == -1 ||
		    !is_dir(path)) {
			warnx_("%s: no such folder (neither a directory nor "
			    "a folder of ~/Maildir)", argv[i]);
			return -1;
		}
		add_folder(L, path);
	}
	return 0;
}

/* "no sent folder found (looked for ...)", naming what was looked for. */
static void
no_folder(const struct rules *r, const char *then)
{
	const char *const *names;
	char		 list[1024];
	size_t		 n, k, o = 0;

	names = sent_names(r, &n);
	list[0] = '\0';
	for (k = 0; k < n && o < sizeof(list); k++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s\"%s\"",
		    k == 0 ? "" : k + 1 == n ? " and " : ", ", names[k]);
	warnx_("no sent folder found (looked for %s in ~/Maildir%s): %s",
	    list, rules_sent_folders(r, &k) != NULL && k > 0 ?
	    ", as outbound.sent names them" : "", then);
}

static int
read_folders(struct learn *L)
{
	char	 err[512];
	size_t	 i;

	for (i = 0; i < L->nfolders; i++)
		if (sent_each(L->folders[i], on_sent, L, &L->unreadable, err,
		    sizeof(err)) == -1) {
			warnx_("%s", err);
			return -1;
		}
	if (L->unreadable > 0)
		warnx_("%zu message%s could not be read", L->unreadable,
		    L->unreadable == 1 ? "" : "s");
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct sentmsg *x = a, *y = b;
	int	 c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->id, y->id);
}

/* The domain family of a key: everything before the separators. */
static size_t
family_len(const char *key)
{
	const char *p = strrchr(key, '|');

	return p ? (size_t)(p - key) : strlen(key);
}

static void
group_add(struct group *g, size_t i)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->mem = xrealloc(g->mem, g->cap * sizeof(*g->mem));
	}
	g->mem[g->n++] = i;
}

/* Group by generator; mostly-singleton domain families go free-form. */
static void
make_groups(struct learn *L)
{
	size_t	 i, j, k, fam, small, nsmall, ngr, ff;
	struct group *g;

	for (i = 0; i < L->n; i++)
		L->m[i].key = id_key(L->m[i].id);
	if (L->n > 1)	/* none: L->m is NULL */
		qsort(L->m, L->n, sizeof(*L->m), key_cmp);
	for (i = 0; i < L->n; i++) {
		if (L->ng == 0 || strcmp(L->g[L->ng - 1].key, L->m[i].key)) {
			L->g = xrealloc(L->g, (L->ng + 1) * sizeof(*L->g));
			g = &L->g[L->ng++];
			memset(g, 0, sizeof(*g));
			g->key = xstrdup(L->m[i].key);
		}
		group_add(&L->g[L->ng - 1], i);
	}
	/* per domain family: are the groups mostly one or two messages? */
	for (i = 0; i < L->ng; i = j) {
		fam = family_len(L->g[i].key);
		small = nsmall = 0;
		for (j = i; j < L->ng && family_len(L->g[j].key) == fam &&
		    strncmp(L->g[j].key, L->g[i].key, fam) == 0; j++)
			if (L->g[j].n <= 2) {
				small += L->g[j].n;
				nsmall++;
			}
		ngr = j - i;
		if (ngr < 2 || nsmall < 2)
			continue;
		for (k = i, ff = 0; k < j; k++)
			ff += L->g[k].n;
		if (small * 2 < ff)
			continue;
		/* merge the small groups into the first small one */
		for (k = i, ff = SIZE_MAX; k < j; k++) {
			if (L->g[k].n > 2 || L->g[k].freeform)
				continue;
			if (ff == SIZE_MAX) {
				ff = k;
				L->g[k].freeform = 1;
				continue;
			}
			while (L->g[k].n > 0)
				group_add(&L->g[ff], L->g[k].mem[--L->g[k].n]);
		}
	}
	/* drop the emptied groups */
	for (i = j = 0; i < L->ng; i++) {
		if (L->g[i].n == 0) {
			free(L->g[i].key);
			free(L->g[i].mem);
			continue;
		}
		L->g[j++] = L->g[i];
	}
	L->ng = j;
	for (i = 0; i < L->ng; i++)
		for (k = 0; k < L->g[i].n; k++)
			L->m[L->g[i].mem[k]].group = i;
}

/*
 * Compile g's pattern and mark which sent Message-IDs it matches; 0, or
 * -1 with g->flag saying what went wrong (an internal error).
 */
static int
group_hits(const struct learn *L, struct group *g, pcre2_match_data *md)
{
	PCRE2_SIZE	 eo;
	size_t		 j, k, own;
	int		 ec;

	g->re = pcre2_compile((PCRE2_SPTR)g->pattern, PCRE2_ZERO_TERMINATED,
	    0, &ec, &eo, NULL);
	if (g->re == NULL) {
		snprintf(g->flag, sizeof(g->flag), "internal error: the "
		    "pattern does not compile");
		return -1;
	}
	g->hits = xmalloc(L->n ? L->n : 1);
	for (j = 0; j < L->n; j++) {
		g->hits[j] = pcre2_match(g->re, (PCRE2_SPTR)L->m[j].id,
		    strlen(L->m[j].id), 0, 0, md, NULL) >= 0;
		g->cover += g->hits[j];
	}
	for (k = own = 0; k < g->n; k++)
		own += g->hits[g->mem[k]];
	if (own != g->n) {
		snprintf(g->flag, sizeof(g->flag), "internal error: the "
		    "pattern misses %zu of its messages", g->n - own);
		return -1;
	}
	return 0;
}

/* An ID of the group: a member's, or one the local mail system writes. */
static const char *
group_example(const struct learn *L, const struct group *g)
{
	return g->n == 0 ? g->sample : L->m[g->example].id;
}

/*
 * Why g's pattern would be a risk in the rules, in g->flag; or nothing.
 * A local host name is a risk the user may accept (--accept-local): the
 * pattern is proposed, and why it was flagged said with it.
 */
static void
group_flag(struct group *g, const struct learn *L, pcre2_match_data *md)
{
	struct idshape	 s;
	const char	*dom, *ex = "";
	char		 domain[1024];
	int		 n;

	parse_id(group_example(L, g), &s);
	snprintf(domain, sizeof(domain), "%.*s", (int)s.r.n, s.r.p);
	if ((dom = shared_domain(s.r)) != NULL)
		snprintf(g->flag, sizeof(g->flag), "%.120s is shared by every "
		    "user of %s: the pattern would match their mail too",
		    domain, dom);
	else if (!s.at)
		snprintf(g->flag, sizeof(g->flag), "no domain in the "
		    "Message-ID: too easy to forge by chance");
	else if (local_domain(s.r))
		snprintf(L->accept_local ? g->accepted : g->flag,
		    sizeof(g->flag), "%.120s is a local host name that other "
		    "machines use too", domain);
	else if (g->minlen < LEARN_MINLEN)
		snprintf(g->flag, sizeof(g->flag), "too short: it accepts "
		    "left-hand sides of %zu character%s, as other software "
		    "writes them", g->minlen, g->minlen == 1 ? "" : "s");
	else if ((n = battery_hits(g, domain, md, &ex)) >= 2)
		snprintf(g->flag, sizeof(g->flag), "too broad: it also "
		    "matches %d common Message-ID shapes, such as <%s@%.120s>",
		    n, ex, domain);
}

/*
 * A group that another one covers entirely is not shown: a proposal by a
 * wider proposal, a flagged pattern by any.  Of two that cover the same,
 * the local mail system's stays (it says where the pattern comes from),
 * else the first.  A group that matches nothing sent (the mail system's,
 * when no sent mail went through it) is no one's subset.
 */
static void
mark_redundant(struct learn *L)
{
	struct group	*g, *h;
	size_t		 i, j, k;
	int		 incl;

	for (i = 0; i < L->ng; i++) {
		g = &L->g[i];
		if (g->rule[0] || g->re == NULL || g->cover == 0)
			continue;
		for (j = 0; j < L->ng; j++) {
			h = &L->g[j];
			if (j == i || (h->flag[0] && !g->flag[0]) ||
			    h->rule[0] || h->redundant || h->re == NULL ||
			    h->cover < g->cover)
				continue;
			for (k = 0, incl = 1; k < L->n && incl; k++)
				if (g->hits[k] && !h->hits[k])
					incl = 0;
			if (incl && (h->cover > g->cover ||
			    (h->mta != NULL && g->mta == NULL) ||
			    (j < i && (h->mta != NULL || g->mta == NULL)))) {
				g->redundant = 1;
				break;
			}
		}
	}
}

/*
 * Mail systems whose Message-IDs are known exactly: what they write, at
 * their host name, into a message that has none.
 *  - Postfix (cleanup(8)): "<YYYYMMDDhhmmss.QUEUEID@myhostname>", the
 *    time in UTC and the short queue ID (mail_queue.h: 5 hex digits of
 *    microseconds, then the inode number in hex: 6 to 21 upper-case hex
 *    digits); with enable_long_queue_ids "<QUEUEID@myhostname>", the long
 *    queue ID alone, which holds the time (seconds and microseconds in
 *    base 52, 10 characters, a 'z', the inode number in base 51, 1 to
 *    12; an alphabet of digits and consonants; Postfix 3.7 as the e2e
 *    suite saw it).  Both forms: the setting may change, and old mail
 *    has the other one.
 *  - Exim (receive.c): "<E" ID ["." message_id_header_text] "@"
 *    message_id_header_domain, else primary_hostname; the ID 6-6-2
 *    characters of base 62, 6-11-4 since Exim 4.97.
 * A group of sent Message-IDs of one of these shapes at one domain gets
 * the mail system's whole range, not the lengths a sample happened to
 * show: the next queue ID may be one digit longer.
 */
struct known {
	const char	*name;
	const char	*lhs;		/* the left-hand side, a regex */
	const char	*shape;
	const char	*samples[2];	/* left-hand sides it writes */
};

static const struct known knowns[] = {
	{ "Postfix", "(?:[0-9]{14}\\.[0-9A-F]{6,21}|"
	    "[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z"
	    "[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,12})",
	    "Postfix: date(14) . short queue ID (HEX 6-21), or a long queue "
	    "ID alone (10 z 1-12)",
	    { "20260105093015.4C1A27F3B2", "4bQ9Xk1BcDz3Gh" } },
	{ "Exim", "E[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|"
	    "[0-9A-Za-z]{11}-[0-9A-Za-z]{4})",
	    "Exim: E message ID (6-6-2, or 6-11-4 since Exim 4.97)",
	    { "E1sVx2Q-0004kL-7a", "E1sVx2Q-0000004kLmN-7aBc" } },
};
#define NKNOWNS	(sizeof(knowns) / sizeof(knowns[0]))

/* "^<LHS[\.text]@host>$", host and text as literals. */
static char *
known_pattern(const struct known *k, const char *host, const char *text)
{
	struct buf	 b = { NULL, 0, 0 };

	bputs(&b, "^<");
	bputs(&b, k->lhs);
	if (text != NULL && *text != '\0') {
		bputs(&b, "\\.");
		re_literal(&b, text, strlen(text));
	}
	bputs(&b, "@");
	re_literal(&b, host, strlen(host));
	bputs(&b, ">$");
	return b.p;
}

/*
 * A group whose every Message-ID a known mail system wrote, at one
 * domain: its pattern becomes that mail system's, at that domain.
 */
static void
known_widen(const struct learn *L, struct group *g)
{
	pcre2_code	 *re;
	pcre2_match_data *md;
	PCRE2_SIZE	 *ov, eo;
	char		  any[512], dom[LIM_MSGID + 1];
	const char	 *id;
	size_t		  i, k, dl = 0;
	int		  ec, same;

	if (g->freeform || g->n == 0)
		return;
	for (k = 0; k < NKNOWNS; k++) {
		snprintf(any, sizeof(any), "^<(?:%s)@([^<>@]+)>$",
		    knowns[k].lhs);
		if ((re = pcre2_compile((PCRE2_SPTR)any, PCRE2_ZERO_TERMINATED,
		    0, &ec, &eo, NULL)) == NULL)
			continue;
		md = pcre2_match_data_create_from_pattern(re, NULL);
		for (i = 0, same = md != NULL; i < g->n && same; i++) {
			id = L->m[g->mem[i]].id;
			if (pcre2_match(re, (PCRE2_SPTR)id, strlen(id), 0, 0,
			    md, NULL) < 2) {
				same = 0;
				break;
			}
			ov = pcre2_get_ovector_pointer(md);
			if (i == 0) {
				dl = ov[3] - ov[2];
				memcpy(dom, id + ov[2], dl);
				dom[dl] = '\0';
			} else if (ov[3] - ov[2] != dl ||
			    memcmp(dom, id + ov[2], dl) != 0)
				same = 0;
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
		if (!same)
			continue;
		free(g->pattern);
		free(g->shape);
		g->pattern = known_pattern(&knowns[k], dom, NULL);
		g->shape = xstrjoin(knowns[k].shape, " @ ", dom, (char *)NULL);
		g->minlen = LEARN_MINLEN;
		return;
	}
}

/* The local mail system and the Message-IDs it writes. */
struct mta_ids {
	const struct known *k;		/* NULL: none found */
	char	 host[256];
	char	 text[256];		/* Exim's message_id_header_text */
	char	 source[600];		/* what was read, for a person */
	char	 why[300];		/* found, but no pattern: why */
};

/*
 * Ask the mail system of this host (Postfix's postconf, Exim's -bP) for
 * the host name it writes its Message-IDs at.  Returns 1 with m->k set,
 * 0 when neither is installed, -1 with m->why when one is but its
 * Message-IDs cannot be known.
 */
static int
mta_learn(struct mta_ids *m)
{
	char	 lq[64], dom[256];
	int	 rc;

	memset(m, 0, sizeof(*m));
	if ((rc = mta_postconf("myhostname", m->host, sizeof(m->host))) ==
	    1 && m->host[0] != '\0') {
		if (mta_postconf("enable_long_queue_ids", lq, sizeof(lq)) != 1)
			snprintf(lq, sizeof(lq), "?");
		m->k = &knowns[0];
		snprintf(m->source, sizeof(m->source), "Postfix (postconf): "
		    "myhostname = %.200s, enable_long_queue_ids = %.20s",
		    m->host, lq);
		return 1;
	}
	if (rc != 0) {
		snprintf(m->why, sizeof(m->why), "Postfix is installed, but "
		    "postconf could not tell its myhostname");
		return -1;
	}
	if ((rc = mta_exim("message_id_header_domain", dom, sizeof(dom))) !=
	    1 || mta_exim("message_id_header_text", m->text,
	    sizeof(m->text)) != 1 || mta_exim("primary_hostname", m->host,
	    sizeof(m->host)) != 1) {
		if (rc != 0)
			snprintf(m->why, sizeof(m->why), "Exim is installed, "
			    "but exim -bP could not tell its primary_hostname");
		return rc == 0 ? 0 : -1;
	}
	if (strchr(dom, '$') != NULL || strchr(m->text, '$') != NULL ||
	    strchr(dom, '<') != NULL || strchr(m->text, '<') != NULL) {
		snprintf(m->why, sizeof(m->why), "Exim's message_id_header_"
		    "domain or _text is expanded for each message");
		return -1;
	}
	if (dom[0] != '\0')
		snprintf(m->host, sizeof(m->host), "%s", dom);
	m->k = &knowns[1];
	snprintf(m->source, sizeof(m->source), "Exim (exim -bP): %s = "
	    "%.200s%s%.100s", dom[0] ? "message_id_header_domain" :
	    "primary_hostname", m->host, m->text[0] ?
	    ", message_id_header_text = " : "", m->text);
	return 1;
}

/*
 * The local mail system's group: its pattern, what it covers of the sent
 * Message-IDs, whether the rules have it (they match what it writes),
 * and a flag as for any group.  Unused when there is sent mail and none
 * of it went through this mail system.
 */
static void
mta_group(struct learn *L, const struct mta_ids *m, const struct rules *r,
    pcre2_match_data *md)
{
	struct group	*g;
	char		 id[LIM_MSGID + 1], rule[320];
	size_t		 i, inrules = 0;

	L->g = xrealloc(L->g, (L->ng + 1) * sizeof(*L->g));
	g = &L->g[L->ng++];
	memset(g, 0, sizeof(*g));
	g->key = xstrdup("|mta");
	g->mta = m->k->name;
	g->pattern = known_pattern(m->k, m->host, m->text);
	g->shape = xstrjoin(m->k->shape, " @ ", m->host, (char *)NULL);
	g->source = xstrdup(m->source);
	g->minlen = LEARN_MINLEN;
	for (i = 0; i < 2; i++) {
		snprintf(id, sizeof(id), "<%s%s%s@%s>", m->k->samples[i],
		    m->text[0] ? "." : "", m->text, m->host);
		if (i == 0)
			g->sample = xstrdup(id);
		if (r != NULL && rules_match_msgid(r, id, rule,
		    sizeof(rule)) == 1 && inrules++ == 0)
			snprintf(g->rule, sizeof(g->rule), "%s", rule);
	}
	if (inrules < 2)
		g->rule[0] = '\0';
	if (group_hits(L, g, md) == -1 || g->rule[0])
		return;
	group_flag(g, L, md);
	g->unused = L->n > 0 && g->cover == 0;
}

/*
 * Group the sent Message-IDs by shape, make a pattern for each group,
 * and say of each whether the rules have it already, or why it would be
 * a risk; then leave out the groups others cover, widest first.
 */
static int
analyse(struct learn *L, const struct rules *r, const struct mta_ids *m)
{
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	struct group	*g;
	size_t		 i, k;
	char		 rule[320];

	if (md == NULL)
		return -1;
	make_groups(L);
	for (i = 0; i < L->ng; i++) {
		g = &L->g[i];
		gen_group(L, g);
		known_widen(L, g);
		g->example = g->mem[0];
		if (group_hits(L, g, md) == -1)
			continue;
		/* already in the rules? */
		for (k = 0; r != NULL && k < g->n; k++)
			if (rules_match_msgid(r, L->m[g->mem[k]].id, rule,
			    sizeof(rule)) != 1)
				break;
		if (r != NULL && rules_count(r, RULES_EV_PATTERNS) > 0 && k == g->n) {
			rules_match_msgid(r, L->m[g->mem[0]].id, g->rule,
			    sizeof(g->rule));
			continue;
		}
		group_flag(g, L, md);
	}
	if (m != NULL && m->k != NULL)
		mta_group(L, m, r, md);
	mark_redundant(L);
	pcre2_match_data_free(md);
	qsort(L->g, L->ng, sizeof(*L->g), group_cmp_cover);
	return 0;
}

/* Is g proposed: not flagged, not in the rules, not covered by another? */
static int
proposed(const struct group *g)
{
	return !g->flag[0] && !g->rule[0] && !g->redundant && !g->unused;
}

static void
print_group(const struct learn *L, const struct group *g)
{
	char		 ex[LIM_MSGID + 1];
	const char	*id = group_example(L, g);
	size_t		 n = g->mta != NULL ? g->cover : g->n;

	sanitize(ex, sizeof(ex), id, strlen(id));
	if (g->mta != NULL)
		printf("\nthe local mail system, %s\n", g->source);
	if (g->rule[0]) {
		printf("%salready in your rules (%s): %zu sent message%s, "
		    "e.g. %s\n", g->mta ? "" : "\n", g->rule, n, n == 1 ? "" :
		    "s", ex);
		return;
	}
	if (g->redundant)
		return;
	if (g->unused)
		printf("not proposed: none of your %zu sent Message-IDs was "
		    "written by it (propose it where the mail you send "
		    "leaves through this host), e.g. %s\n", L->n, ex);
	else if (L->n == 0)
		printf("%s, e.g. %s\n", g->flag[0] ? "FLAGGED" : "proposed",
		    ex);
	else
		printf("%s%s: %zu sent message%s, e.g. %s\n", g->mta ? "" :
		    "\n", g->flag[0] ? "FLAGGED" : "proposed", g->cover,
		    g->cover == 1 ? "" : "s", ex);
	printf("  shape:   %s%s\n", g->shape, g->n == 1 ?
	    " (from a single message)" : "");
	printf("  %s '%s'\n", g->flag[0] ? "flagged:" : g->unused ?
	    "pattern:" : "propose:", g->pattern);
	if (g->flag[0])
		printf("  why:     %s%s\n", g->flag, strstr(g->flag,
		    "local host name") != NULL ? " (if every machine that "
		    "may write it is yours: learn --accept-local)" : "");
	if (g->accepted[0] && !g->unused)
		printf("  note:    accepted with --accept-local, although "
		    "%s\n", g->accepted);
}

/* YAML single-quoted scalar. */
static void
yaml_quote(struct buf *b, const char *s)
{
	bputs(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			bputs(b, "'");
		bput(b, s, 1);
	}
	bputs(b, "'");
}

static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t	 *k;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(d, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static yaml_node_t *
map_key(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t	 *k;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(d, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return k;
	}
	return NULL;
}

/* The last line (0-based) that a block node's text occupies. */
static size_t
last_line(yaml_document_t *d, yaml_node_t *n)
{
	yaml_node_t	*c = NULL;

	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.style == YAML_BLOCK_SEQUENCE_STYLE &&
	    n->data.sequence.items.top > n->data.sequence.items.start)
		c = yaml_document_get_node(d, n->data.sequence.items.top[-1]);
	else if (n->type == YAML_MAPPING_NODE &&
	    n->data.mapping.style == YAML_BLOCK_MAPPING_STYLE &&
	    n->data.mapping.pairs.top > n->data.mapping.pairs.start)
		c = yaml_document_get_node(d,
		    n->data.mapping.pairs.top[-1].value);
	if (c != NULL)
		return last_line(d, c);
	/* a block scalar ends after its line break */
	if (n->end_mark.column == 0 && n->end_mark.line > n->start_mark.line)
		return n->end_mark.line - 1;
	return n->end_mark.line;
}

/* Offset of the start of line (0-based) in text; len if past the end. */
static size_t
line_off(const char *t, size_t len, size_t line)
{
	size_t	 off = 0;
	const char *nl;

	while (line > 0) {
		if ((nl = memchr(t + off, '\n', len - off)) == NULL)
			return len;
		off = (size_t)(nl - t) + 1;
		line--;
	}
	return off;
}

/* Indentation of the line that holds offset off. */
static size_t
line_indent(const char *t, size_t off)
{
	size_t	 s = off, i;

	while (s > 0 && t[s - 1] != '\n')
		s--;
	for (i = s; t[i] == ' '; i++)
		;
	return i - s;
}

static void
indent(struct buf *b, size_t n)
{
	while (n-- > 0)
		bputs(b, " ");
}

/* A newline before what ins holds (a file that does not end in one). */
static void
prepend_newline(struct buf *ins)
{
	struct buf t = { NULL, 0, 0 };

	bputs(&t, "\n");
	if (ins->p != NULL)
		bputs(&t, ins->p);
	free(ins->p);
	*ins = t;
}

/* The comment and the patterns, one a line, indented by ind, into ins. */
static void
put_items(struct buf *ins, size_t ind, const char *comment,
    char *const *pats, size_t npats)
{
	size_t	 i;

	indent(ins, ind);
	bputs(ins, comment);
	bputs(ins, "\n");
	for (i = 0; i < npats; i++) {
		indent(ins, ind);
		bputs(ins, pats[i]);
		bputs(ins, "\n");
	}
}

/*
 * Where and what to insert into the rule file text for the new items.
 * Returns 0 with *at_r and ins set, -1 with err set.
 */
static int
plan_insert(const char *path, const char *text, size_t len,
    char *const *pats, const char *comment,
    size_t npats, size_t *at_r, struct buf *ins, char *err, size_t errsz)
{
	yaml_parser_t	 p;
	yaml_document_t	 d;
	yaml_node_t	*root, *ob, *mi, *obk, *mik, *first;
	size_t		 ind, at;
	int		 rc = -1;

	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &d)) {
		snprintf(err, errsz, "%.400s:%lu: %s", path,
		    (unsigned long)p.problem_mark.line + 1,
		    p.problem ? p.problem : "YAML error");
		yaml_parser_delete(&p);
		return -1;
	}
	root = yaml_document_get_root_node(&d);
	if (root != NULL && root->type == YAML_SCALAR_NODE &&
	    root->data.scalar.length == 0)
		root = NULL;
	if (root != NULL && (root->type != YAML_MAPPING_NODE ||
	    root->data.mapping.style != YAML_BLOCK_MAPPING_STYLE)) {
		snprintf(err, errsz, "%.400s: not a block mapping at the top", path);
		goto out;
	}
	ob = root ? map_get(&d, root, "outbound") : NULL;
	if (ob == NULL) {
		/* no outbound section: a new one at the end */
		at = len;
		if (len > 0 && text[len - 1] != '\n')
			bputs(ins, "\n");
		bputs(ins, len > 0 ? "\noutbound:\n  message_id:\n" :
		    "outbound:\n  message_id:\n");
		ind = 4;
		goto items;
	}
	obk = map_key(&d, root, "outbound");
	if (ob->type == YAML_SCALAR_NODE && ob->data.scalar.length == 0) {
		/* "outbound:" and nothing: after its line */
		at = line_off(text, len, obk->start_mark.line + 1);
		ind = obk->start_mark.column + 2;
		indent(ins, ind);
		bputs(ins, "message_id:\n");
		ind += 2;
		goto items_nl;
	}
	if (ob->type != YAML_MAPPING_NODE ||
	    ob->data.mapping.style != YAML_BLOCK_MAPPING_STYLE) {
		snprintf(err, errsz, "%.400s: outbound is not a block mapping",
		    path);
		goto out;
	}
	mi = map_get(&d, ob, "message_id");
	if (mi == NULL) {
		/* after the last line of the outbound section */
		at = line_off(text, len, last_line(&d, ob) + 1);
		ind = ob->start_mark.column;
		indent(ins, ind);
		bputs(ins, "message_id:\n");
		ind += 2;
		goto items_nl;
	}
	mik = map_key(&d, ob, "message_id");
	if (mi->type == YAML_SCALAR_NODE && mi->data.scalar.length == 0 &&
	    mi->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		at = line_off(text, len, mik->start_mark.line + 1);
		ind = mik->start_mark.column + 2;
		goto items_nl;
	}
	if (mi->type != YAML_SEQUENCE_NODE ||
	    mi->data.sequence.style != YAML_BLOCK_SEQUENCE_STYLE ||
	    mi->data.sequence.items.top == mi->data.sequence.items.start) {
		snprintf(err, errsz, "%.400s: outbound.message_id is not a block "
		    "list (\"- 'pattern'\" lines)", path);
		goto out;
	}
	/* the usual case: after the last item, at the items' indentation */
	first = yaml_document_get_node(&d, mi->data.sequence.items.start[0]);
	ind = line_indent(text, line_off(text, len, first->start_mark.line));
	at = line_off(text, len, last_line(&d, mi) + 1);
items_nl:
	if (at == len && len > 0 && text[len - 1] != '\n')
		prepend_newline(ins);	/* the file does not end in one */
items:
	put_items(ins, ind, comment, pats, npats);
	*at_r = at;
	rc = 0;
out:
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	return rc;
}

/*
 * --write runs one at a time on a rule file: an exclusive flock() on the
 * directory that holds it, from the read to the rename.  Not on the file
 * itself, which the rename replaces (a run that opened the old one would
 * hold a lock on nothing), nor on a lock file, which would stay behind
 * in the user's home.  Returns the directory's descriptor, or -1.
 */
static int
lock_dir(const char *target, char *dir, size_t dirsz)
{
	const char	*sl = strrchr(target, '/');
	int		 fd;

	if (sl == NULL)
		snprintf(dir, dirsz, ".");
	else if (sl == target)
		snprintf(dir, dirsz, "/");
	else if ((size_t)(sl - target) >= dirsz) {
		errno = ENAMETOOLONG;
		return -1;
	} else
		snprintf(dir, dirsz, "%.*s", (int)(sl - target), target);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

/* Is the pattern (its source text) in the rule file already? */
static int
has_pattern(const struct rules *r, const char *pat)
{
	const char	*src, *file;
	size_t		 i;
	int		 line;

	for (i = 0; (src = rules_item(r, RULES_EV_PATTERNS, i, &file,
	    &line)) != NULL; i++)
		if (strcmp(src, pat) == 0)
			return 1;
	return 0;
}

/* In a CRLF file, the lines added end in CRLF too. */
static void
to_crlf(struct buf *b)
{
	struct buf	 t = { NULL, 0, 0 };
	size_t		 i;

	for (i = 0; i < b->n; i++) {
		if (b->p[i] == '\n' && (i == 0 || b->p[i - 1] != '\r'))
			bput(&t, "\r", 1);
		bput(&t, b->p + i, 1);
	}
	free(b->p);
	*b = t;
}

/* file_replace()'s check: the result must be a rule file backstop reads */
static int
loads_as_rules(const char *tmp, void *arg, char *err, size_t errsz)
{
	struct rules	*chk = rules_new(NULL);
	char		 lerr[600];
	int		 rc;

	(void)arg;
	lerr[0] = '\0';
	if ((rc = rules_load(chk, tmp, 1, lerr, sizeof(lerr))) == -1)
		snprintf(err, errsz, "the edited rule file would not load, "
		    "left unchanged: %.400s", lerr);
	rules_free(chk);
	return rc;
}

/*
 * Add the items (already quoted YAML list lines without indentation; pats
 * their patterns) to the rule file, under the lock: read it, leave out
 * the patterns it has already (another run added them meanwhile), plan,
 * write a temporary file in the same directory with the file's mode,
 * owner and line ends, fsync, load it as rules, rename, fsync the
 * directory.  A missing file is created with mode 600.  Returns the
 * number of patterns added (0: all there already), or -1 with err set.
 */
static int
write_rules(const char *path, char *const *items, char *const *pats,
    size_t n, const char *comment, char *err, size_t errsz)
{
	char		*text = NULL, real[PATH_MAX];
	char		 dir[PATH_MAX], **keep = NULL;
	const char	*target = path, *nl;
	size_t		 len = 0, at = 0, nkeep = 0, i;
	struct buf	 out = { NULL, 0, 0 }, ins = { NULL, 0, 0 };
	struct stat	 st;
	mode_t		 mode = 0600;
	int		 fd, dfd, exists, crlf = 0, rc = -1;
	struct rules	*chk;
	struct slice	 sl;
	char		 lerr[600];

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (realpath(path, real) == NULL) {
			snprintf(err, errsz, "%.400s: %s", path, strerror(errno));
			return -1;
		}
		target = real;
	}
	if ((dfd = lock_dir(target, dir, sizeof(dir))) == -1) {
		snprintf(err, errsz, "%.400s: cannot lock: %s", dir,
		    strerror(errno));
		return -1;
	}
	/* from here on, what the file is now: another run may have
	 * written it since the rules were read */
	exists = stat(target, &st) == 0;
	if (exists) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errsz, "%.400s: not a regular file", path);
			goto done;
		}
		mode = st.st_mode & 0755;
		if ((fd = open(target, O_RDONLY | O_CLOEXEC)) == -1 ||
		    read_all_fd(fd, &text, &len, 1024 * 1024) == -1) {
			snprintf(err, errsz, "%.400s: %s", path, strerror(errno));
			if (fd != -1)
				close(fd);
			goto done;
		}
		close(fd);
	} else if (errno != ENOENT) {
		snprintf(err, errsz, "%.400s: %s", path, strerror(errno));
		goto done;
	}
	if (!exists) {
		bputs(&out, "# backstop rules: see backstop.yaml(5).  Created "
		    "by backstop learn.\n");
		text = xstrdup(out.p);
		len = out.n;
		out.n = 0;
	}
	keep = xmalloc((n ? n : 1) * sizeof(*keep));
	chk = rules_new(NULL);
	if (exists && rules_load(chk, target, 1, lerr, sizeof(lerr)) == 0) {
		for (i = 0; i < n; i++)
			if (!has_pattern(chk, pats[i]))
				keep[nkeep++] = items[i];
	} else
		for (i = 0; i < n; i++)
			keep[nkeep++] = items[i];
	rules_free(chk);
	if (nkeep == 0) {
		rc = 0;
		goto done;
	}
	if (plan_insert(path, text, len, keep, comment, nkeep, &at, &ins,
	    err, errsz) == -1)
		goto done;
	/* the file's own line ends: CRLF if its first line has one */
	if ((nl = memchr(text, '\n', len)) != NULL && nl > text &&
	    nl[-1] == '\r')
		crlf = 1;
	if (crlf)
		to_crlf(&ins);
	bput(&out, text, at);
	bput(&out, ins.p, ins.n);
	bput(&out, text + at, len - at);

	/* the owner too, when root edits a user's rules */
	sl.p = out.p;
	sl.n = out.n;
	if (file_replace(target, &sl, 1, mode, exists && (st.st_uid !=
	    geteuid() || st.st_gid != getegid()) ? st.st_uid : (uid_t)-1,
	    st.st_gid, loads_as_rules, NULL, err, errsz) == -1)
		goto done;
	rc = (int)nkeep;
done:
	close(dfd);	/* and the lock with it */
	free(keep);
	free(text);
	free(out.p);
	free(ins.p);
	return rc;
}

static const char *
rules_path(const char *rulesfile, char *buf, size_t bufsz)
{
	const char *home;

	if (rulesfile != NULL)
		return rulesfile;
	if ((home = maildir_home()) == NULL ||
	    (size_t)snprintf(buf, bufsz, "%s/.backstop.yaml", home) >= bufsz)
		return NULL;
	return buf;
}

static void
print_sent_index(const struct rules *r)
{
	char	 msg[700];
	int	 rc = evidence_refresh(NULL, r, msg, sizeof(msg));

	if (rc == 1)
		printf("sent index: %s\n", msg);
	else if (rc == -1)
		printf("sent index: not usable: %s\n", msg);
}

/* learn -r FILE: a file that does not exist yet is no error. */
static int
load_rules_learn(struct rules *r, const char *file, char *err, size_t errsz)
{
	struct stat	 st;
	const char	*sys;

	if (file == NULL || stat(file, &st) == 0 || errno != ENOENT)
		return rules_load_default(r, file, err, errsz);
	err[0] = '\0';
	if ((sys = getenv("BACKSTOP_SYSTEM_RULES")) == NULL)
		sys = SYSCONFDIR "/backstop/rules.yaml";
	return *sys != '\0' ? rules_load(r, sys, 0, err, errsz) : 0;
}

/* What learn and check-rules both end with: rc, or 74 when stdout failed. */
static int
learn_close(struct learn *L, struct rules *r, int rc)
{
	rules_free(r);
	learn_free(L);
	return stdout_flushed() == -1 ? EXIT_IOERR : rc;
}

static void
on_recorded(void *arg, const char *id)
{
	learn_add_id(arg, "(recorded by backstop record)", id, 1);
}

/*
 * The Message-IDs backstop record saw leave (the newest few hundred):
 * the ids as the world saw them, after the submission server.
 */
static void
read_recorded(struct learn *L, const struct rules *r)
{
	struct sent_src	 src;
	char		 path[4096], why[300];
	int		 n;

	if (evidence_sent_src(NULL, r, &src, path, sizeof(path), why,
	    sizeof(why)) == -1 || (n = sent_recent(&src, on_recorded, L)) <= 0)
		return;
	L->nrecorded = (size_t)n;
}

/*
 * What learn and check-rules both start with: the rules (for learn, a -r
 * file that does not exist yet is one --write will create), then the
 * sent folders read (those of outbound.sent, else the default ones; none
 * at all is an error here only for check-rules), then the replies of the
 * inbox to them.  Returns 0, or the exit code with r freed.
 */
static int
learn_open(struct learn *L, struct rules **r_r, const struct opts *o,
    int learning, int argc, char **argv)
{
	struct rules	*r = *r_r = rules_new(o->user);
	const char	*rulesfile = o->rules, *home;
	char		 err[1024] = "", inbox[4096];
	int		 rc, nargs = argc - optind;
	char		**args = argv + optind;

	memset(L, 0, sizeof(*L));
	rc = learning ? load_rules_learn(r, rulesfile, err, sizeof(err)) :
	    rules_load_default(r, rulesfile, err, sizeof(err));
	if (rc == -1) {
		warnx_("%s", err);
		rules_free(r);
		return EXIT_CONFIG;
	}
	if (get_folders(L, r, nargs, args) == -1)
		rc = EXIT_NOINPUT;
	else if (L->nfolders == 0 && !learning) {
		no_folder(r, "name one");
		rc = EXIT_NOINPUT;
	} else if (read_folders(L) == -1)
		rc = EXIT_IOERR;
	else if (read_recorded(L, r), L->nsc > 0 && (home = maildir_home()) != NULL &&
	    (size_t)snprintf(inbox, sizeof(inbox), "%s/Maildir", home) <
	    sizeof(inbox) && learn_replies(L, inbox, err, sizeof(err)) == -1) {
		warnx_("%s", err);
		rc = EXIT_IOERR;
	}
	if (rc != 0) {
		rules_free(r);
		learn_free(L);
	}
	return rc;
}

/*
 * learn's report: the groups, then how much of what was sent the
 * proposals and the rules cover.  Returns how many patterns are proposed.
 */
static size_t
learn_report(const struct learn *L, const struct rules *r)
{
	char	 err[700];
	size_t	 i, j, nprop = 0, covered = 0, flagged_only = 0, inrules = 0;

	for (i = 0; i < L->ng; i++)
		print_group(L, &L->g[i]);
	for (j = 0; j < L->n; j++) {
		int prop = 0, flag = 0, rul;

		for (i = 0; i < L->ng; i++) {
			if (L->g[i].hits == NULL || !L->g[i].hits[j])
				continue;
			if (L->g[i].flag[0])
				flag = 1;
			else if (!L->g[i].rule[0] && !L->g[i].unused)
				prop = 1;
		}
		rul = rules_match_msgid(r, L->m[j].id, err, sizeof(err)) == 1;
		covered += prop || rul;
		inrules += rul;
		flagged_only += !prop && !rul && flag;
	}
	for (i = 0; i < L->ng; i++)
		nprop += proposed(&L->g[i]);
	if (L->n > 0)
		printf("\n%zu pattern%s proposed; with them your rules match "
		    "%zu of %zu sent Message-IDs (%.1f%%), without them %zu "
		    "(%.1f%%)\n", nprop, nprop == 1 ? "" : "s", covered, L->n,
		    100.0 * (double)covered / (double)L->n, inrules,
		    100.0 * (double)inrules / (double)L->n);
	else
		printf("\n%zu pattern%s proposed, from the mail system alone: "
		    "no sent Message-ID to measure %s on (backstop check-rules "
		    "does, once there is sent mail)\n", nprop, nprop == 1 ?
		    "" : "s", nprop == 1 ? "it" : "them");
	if (flagged_only > 0)
		printf("%zu sent message%s only flagged patterns match: prove "
		    "%s with the sent index (outbound: sent: true)\n",
		    flagged_only, flagged_only == 1 ? "" : "s",
		    flagged_only == 1 ? "it" : "them");
	print_sent_index(r);
	return nprop;
}

/*
 * learn --write: the nprop proposed patterns into the rule file target,
 * each with its cover and an example as a comment.  The exit code.
 */
static int
learn_write(const struct learn *L, const char *target, size_t nprop)
{
	char		 err[700], comment[200], day[32];
	char		**items, **pats;
	struct buf	 q;
	size_t		 i, j;
	time_t		 now;
	int		 any, rc = EXIT_OK;

	items = xmalloc(nprop * sizeof(*items));
	pats = xmalloc(nprop * sizeof(*pats));
	for (i = j = 0; i < L->ng; i++) {
		char		 ex[LIM_MSGID + 1];
		const char	*id = group_example(L, &L->g[i]);

		if (!proposed(&L->g[i]))
			continue;
		memset(&q, 0, sizeof(q));
		bputs(&q, "- ");
		yaml_quote(&q, L->g[i].pattern);
		sanitize(ex, sizeof(ex), id, strlen(id));
		if (L->g[i].mta != NULL)
			bprintf(&q, "   # %s on this host, e.g. %.200s",
			    L->g[i].mta, ex);
		else
			bprintf(&q, "   # %zu, e.g. %.200s", L->g[i].cover,
			    ex);
		pats[j] = L->g[i].pattern;
		items[j++] = q.p;
	}
	now = time(NULL);
	if (strftime(day, sizeof(day), "%Y-%m-%d", localtime(&now)) == 0)
		snprintf(day, sizeof(day), "today");
	snprintf(comment, sizeof(comment), "# added by backstop learn on "
	    "%s: %zu sent messages", day, L->nmsgs);
	any = write_rules(target, items, pats, j, comment, err, sizeof(err));
	if (any == -1) {
		warnx_("%s", err);
		printf("not written; add these lines under outbound: "
		    "message_id: yourself:\n");
		for (i = 0; i < j; i++)
			printf("    %s\n", items[i]);
		rc = EXIT_CONFIG;
	} else if (any == 0)
		printf("nothing added: %s has %s already\n", target,
		    j == 1 ? "it" : "them");
	else
		printf("added %d pattern%s to %s%s\n", any, any == 1 ? "" :
		    "s", target, (size_t)any < j ? " (the others are there "
		    "already)" : "");
	for (i = 0; i < j; i++)
		free(items[i]);
	free(items);
	free(pats);
	return rc;
}

/* learn's first lines: what was read, and from where. */
static void
learn_intro(const struct learn *L)
{
	size_t	 i, nworld = 0;

	for (i = 0; i < L->n; i++)
		nworld += L->m[i].world;
	printf("backstop learn: %zu sent message%s in %zu folder%s, %zu "
	    "with a Message-ID\n", L->nmsgs, L->nmsgs == 1 ? "" : "s",
	    L->nfolders, L->nfolders == 1 ? "" : "s", L->n - nworld);
	for (i = 0; i < L->nfolders; i++)
		printf("  folder: %s\n", L->folders[i]);
	learn_world_print(L);
}

int
cmd_learn(int argc, char **argv)
{
	struct learn	 L;
	struct rules	*r;
	struct mta_ids	 m;
	const char	*target;
	char		 pbuf[4096];
	size_t		 nprop;
	int		 dowrite = 0, local = 0, rc, found;
	const struct opt own[] = {
		{ 'w', "write", &dowrite, NULL },
		{ 0, "accept-local", &local, NULL },
		{ 0, NULL, NULL, NULL }
	};
	struct opts	 o;

	if (opts_parse(&o, "learn", "r:", own, argc, argv, 0, -1) == -1)
		return o.rc;
	if ((rc = learn_open(&L, &r, &o, 1, argc, argv)) != 0)
		return rc;
	L.accept_local = local;
	/* the host's own mail system, unless folders were named */
	found = argc - optind > 0 ? 0 : mta_learn(&m);
	if (L.nfolders == 0 && L.nrecorded == 0 && found != 1) {
		no_folder(r, found == -1 ? m.why : "name one, or run backstop "
		    "learn on the host whose mail system (Postfix, Exim) "
		    "writes your Message-IDs");
		return learn_close(&L, r, EXIT_NOINPUT);
	}
	if (L.nrecorded > 0)
		printf("backstop learn: %zu Message-IDs backstop record saw "
		    "leave\n", L.nrecorded);
	if (L.nfolders > 0)
		learn_intro(&L);
	else
		printf("backstop learn: no sent folder; what the mail system "
		    "of this host writes\n");
	if (found == -1)
		printf("the local mail system: %s\n", m.why);
	if (L.n == 0 && found != 1) {
		printf("nothing to learn from\n");
		return learn_close(&L, r, EXIT_OK);
	}
	if (analyse(&L, r, found == 1 ? &m : NULL) == -1) {
		warnx_("out of memory");
		return learn_close(&L, r, EXIT_TEMPFAIL);
	}
	nprop = learn_report(&L, r);
	target = rules_path(o.rules, pbuf, sizeof(pbuf));
	if (!dowrite) {
		if (nprop > 0)
			printf("run \"backstop learn --write\" to add %s to "
			    "%s\n", nprop == 1 ? "it" : "them",
			    target ? target : "your rule file");
	} else if (nprop == 0)
		printf("nothing to write\n");
	else if (target == NULL) {
		warnx_("no home directory: use -r RULES");
		rc = EXIT_CONFIG;
	} else
		rc = learn_write(&L, target, nprop);
	return learn_close(&L, r, rc);
}

/* What recipient evidence decides among the bounces of the folders. */
struct rcpt_count {
	const struct rules *r;
	size_t		 bounces, ours, junk, unknown;
};

static int
on_rcpt_msg(void *arg, const char *path, const char *id)
{
	struct rcpt_count *k = arg;
	static struct extract ex;	/* 30 KiB: not on the stack */
	struct result	 res;
	char		*buf;
	size_t		 len;
	int		 fd;

	(void)id;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return 0;
	if (read_all_fd(fd, &buf, &len, rules_parse_bytes(k->r)) == -1) {
		close(fd);
		return 0;
	}
	close(fd);
	if (extract_maybe_bounce(buf, len, rules_parse_bytes(k->r), 0)) {
		extract(buf, len, rules_parse_bytes(k->r), EXTRACT_ADDRS, &ex,
		    NULL);
		judge(NULL, k->r, &ex, &res, NULL);
		if (res.kind != K_NONE) {
			k->bounces++;
			if (res.by_rcpt && res.verdict == V_OURS)
				k->ours++;
			else if (res.by_rcpt)
				k->junk++;
			else if (res.verdict == V_UNKNOWN)
				k->unknown++;
		}
	}
	free(buf);
	return 0;
}

/*
 * With outbound.recipients on: how many bounces of the inbox and the
 * Junk folder the recipient evidence decides (what deliver would do).
 */
static void
print_rcpt_count(const struct rules *r)
{
	struct rcpt_count k;
	const char	*home, *junk = rules_junk_folder(r);
	char		 path[4096], err[600];
	size_t		 unreadable = 0;
	int		 i;

	if (!(rules_recipients(r) & RULES_RCPT_ON) ||
	    (home = maildir_home()) == NULL)
		return;
	memset(&k, 0, sizeof(k));
	k.r = r;
	for (i = 0; i < 2; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/Maildir%s%s", home,
		    i ? "/" : "", i ? junk : "") >= sizeof(path))
			continue;
		(void)sent_each(path, on_rcpt_msg, &k, &unreadable, err,
		    sizeof(err));
	}
	printf("recipient evidence: decides %zu of the %zu bounces in your "
	    "inbox and %s (ours %zu, backscatter %zu); %zu stay unknown\n",
	    k.ours + k.junk, k.bounces, junk, k.ours, k.junk, k.unknown);
}

/*
 * check-rules: exit 0 when every sent message is proven ours by the
 * rules, 1 when a bounce of one of them could be filed as backscatter:
 * its Message-ID matches no pattern and the sent index does not hold it
 * (an ID the world saw, from a reply, is never in the index), or it has
 * no Message-ID and no reply shows the one it left with.
 */
int
cmd_check_rules(int argc, char **argv)
{
	struct learn	 L;
	struct rules	*r;
	const char	*src, *file;
	char		 err[700], ex[LIM_MSGID + 1], msg[700];
	size_t		 i, j, np, matched = 0, unmatched = 0, *count;
	size_t		 nworld = 0, unproven;
	unsigned char	*hit;
	int		 line, sent, rc = EXIT_OK;
	struct opts	 o;

	if (opts_parse(&o, "check-rules", "r:", NULL, argc, argv, 0, -1) == -1)
		return o.rc;
	if ((rc = learn_open(&L, &r, &o, 0, argc, argv)) != 0)
		return rc;
	for (j = 0; j < L.n; j++)
		nworld += L.m[j].world;
	printf("rules: %s\n", rules_files(r));
	printf("sent messages: %zu in %zu folder%s, %zu with a Message-ID\n",
	    L.nmsgs, L.nfolders, L.nfolders == 1 ? "" : "s", L.n - nworld);
	for (i = 0; i < L.nfolders; i++)
		printf("  folder: %s\n", L.folders[i]);
	learn_world_print(&L);

	/* the rules' own compiled patterns and match limits: the counts
	 * are what deliver would decide */
	np = rules_count(r, RULES_EV_PATTERNS);
	count = xmalloc((np + 1) * sizeof(*count));
	for (i = 0; i < np; i++)
		count[i] = 0;
	hit = xmalloc(L.n ? L.n : 1);
	for (j = 0; j < L.n; j++) {
		hit[j] = rules_match_msgid(r, L.m[j].id, err, sizeof(err)) == 1;
		matched += hit[j];
		for (i = 0; i < np; i++)
			count[i] += rules_match_pattern(r, i, L.m[j].id) == 1;
	}
	unmatched = L.n - matched;
	printf("matched by an outbound pattern: %zu of %zu (%.1f%%)\n",
	    matched, L.n, L.n ? 100.0 * (double)matched / (double)L.n : 0.0);
	sent = evidence_refresh(NULL, r, msg, sizeof(msg));
	if (sent == 1)
		printf("sent index: %s\n", msg);
	else if (sent == -1)
		printf("sent index: not usable: %s\n", msg);
	if (unmatched > 0) {
		printf("not matched: %zu (%s)\n", unmatched, sent == 1 ?
		    "proven ours by the sent index while they stay in the "
		    "sent folders, but for those a reply shows" : "a bounce "
		    "of one of these would be filed as backscatter");
		for (j = 0; j < L.n; j++)
			if (!hit[j]) {
				sanitize(ex, sizeof(ex), L.m[j].id,
				    strlen(L.m[j].id));
				printf("  unmatched\t%s\t%s%s\n", ex,
				    L.m[j].path, L.m[j].world ?
				    "\t(as this reply quotes it)" : "");
				if (sent != 1 || L.m[j].world)
					rc = 1;
			}
	}
	for (i = 0; i < np; i++) {
		src = rules_item(r, RULES_EV_PATTERNS, i, &file, &line);
		printf("  pattern\t%s:%d\t%zu\t%s%s\n", file, line, count[i],
		    src, count[i] == 0 ? "\tmatches nothing sent" : "");
	}
	for (i = 0, j = 0; i < np; i++)
		j += count[i] == 0;
	if (j > 0)
		printf("patterns that match nothing sent: %zu\n", j);
	if (L.noid > 0) {
		unproven = learn_copies_unproven(&L);
		printf("sent messages without a Message-ID: %zu (it was added "
		    "on the way out: only a pattern for your server covers "
		    "them); %zu of them no reply shows the Message-ID of%s\n",
		    L.noid, unproven, unproven > 0 ? ", so nothing here "
		    "proves a bounce of them ours" : "");
		if (unproven > 0)
			rc = 1;
	}
	print_rcpt_count(r);
	free(count);
	free(hit);
	return learn_close(&L, r, rc);
}
