/*
 * Rule files: YAML read with libyaml's document API.
 *
 * The system file (/etc/backstop/rules.yaml) is read first, then the
 * user's (~/.backstop.yaml, or -r FILE); lists add up, scalars of the
 * later file win.  Every error names FILE:LINE:COLUMN.  A file that group
 * or others may write, or that is owned by another user than the caller
 * or root, is refused as procmail refuses such an rc file.  The caller is
 * whoever runs backstop: for virtual users that is the mail system's own
 * account (vmail), whose files under /etc/backstop/users/ are then
 * accepted the way a user's file in a home is.
 *
 * Paths of a host's virtual users (no Unix account, no home): -r, -d and
 * outbound.sent_index may hold %u (local part), %d (domain), %h (home)
 * and %%, from the address given with -u (or $USER).  An expanded user
 * file that does not exist is not an error: the system rules alone apply.  Patterns are
 * compiled once per run and matched with match, depth and heap limits, so
 * that neither a hostile pattern nor a hostile Message-ID can hang us.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "addr.h"
#include "backstop.h"
#include "maildir.h"
#include "rules.h"
#include "sent.h"
#include "util.h"

/*
 * A rule file is a few lines; 64 KiB leaves room for hundreds of rules and
 * bounds what libyaml does before the walk can count a node: its loader
 * compares each anchor with every earlier one and its parser each %TAG
 * directive with every earlier one (a 1 MiB file of anchors took 27 s).
 */
#define RULES_MAX_BYTES		(64 * 1024)
#define RULES_MAX_NODES		20000
#define RULES_MAX_PATTERN	4096
/*
 * Patterns of all files together, and their compiled size: PCRE2 copies a
 * group once per bounded repeat ("(a(b)){3000}" compiles to 60 KB), and an
 * alias is compiled again at each use, so neither the file's size nor the
 * node limit bounds the memory held or the time spent compiling.
 */
#define RULES_MAX_PATTERNS	256
#define RULES_MAX_COMPILED	(4 * 1024 * 1024)

struct pattern {
	pcre2_code	*re;
	char		*src;
	const char	*file;
	int		 line;
};

struct relay {
	char		*host;
	const char	*file;
	int		 line;
};

struct rules {
	struct pattern	*pats;
	size_t		 npats;
	size_t		 compiled;		/* bytes of compiled patterns */
	struct relay	*relays;
	size_t		 nrelays;
	int		 sent;			/* outbound.sent: on */
	char		**sent_folders;		/* none: the default ones */
	size_t		 nsent_folders;
	char		*sent_index;		/* NULL: ~/.backstop-sent.idx */
	int		 record;		/* outbound.record: complete */
	int		 rcpt;			/* outbound.recipients: on */
	int		 rcpt_junk;		/* recipients_unmatched */
	int		 rcpt_domain;		/* recipients_domain */
	char		 rcpt_at[300];		/* FILE:LINE of the key */
	char		 index_at[300];		/* FILE:LINE of sent_index */
	char		 delim[ADDR_DELIM_MAX];	/* recipient_delimiter */
	char		*folder[V_COUNT];	/* NULL: default */
	char		*junk;
	long		 expire;
	long long	 junk_max_msgs;		/* junk.max_messages, 0: none */
	long long	 junk_max_bytes;	/* junk.max_size, 0: none */
	int		 junk_digest;		/* junk.digest: daily */
	int		 junk_quota_ignore;	/* junk.quota: ignore */
	size_t		 parse_bytes;
	unsigned	 timeout;
	char		*files[4];		/* files loaded, owned */
	size_t		 nfiles;
	char		 filelist[1024];
	char		*user;			/* -u or $USER: %u, %d; NULL: none */
	pcre2_match_context *mctx;
	pcre2_match_data *mdata;
};

struct ctx {
	struct rules	*r;
	yaml_document_t	*doc;
	const char	*file;
	char		*err;
	size_t		 errsz;
	int		 visits;
};

static int	 walk_top(struct ctx *, yaml_node_t *);
static int	 ensure_match(struct rules *);

/*
 * Rules for the recipient user (-u USER@DOMAIN, NULL: $USER), whose
 * local part and domain fill %u and %d of the paths the files name.
 */
struct rules *
rules_new(const char *user)
{
	struct rules *r = xmalloc(sizeof(*r));

	memset(r, 0, sizeof(*r));
	if (user == NULL || *user == '\0')
		user = getenv("USER");
	r->user = user != NULL && *user != '\0' ? xstrdup(user) : NULL;
	r->expire = 30L * 86400;
	r->junk_max_msgs = RULES_JUNK_MAX_MESSAGES;
	r->junk_max_bytes = RULES_JUNK_MAX_BYTES;
	r->parse_bytes = LIM_PARSE_BYTES;
	r->timeout = LIM_TIMEOUT;
	r->rcpt_junk = 1;
	snprintf(r->delim, sizeof(r->delim), "%s", ADDR_DELIM_DEFAULT);
	return r;
}

void
rules_free(struct rules *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->npats; i++) {
		pcre2_code_free(r->pats[i].re);
		free(r->pats[i].src);
	}
	free(r->pats);
	for (i = 0; i < r->nrelays; i++)
		free(r->relays[i].host);
	free(r->relays);
	for (i = 0; i < r->nsent_folders; i++)
		free(r->sent_folders[i]);
	free(r->sent_folders);
	free(r->sent_index);
	for (i = 0; i < V_COUNT; i++)
		free(r->folder[i]);
	free(r->junk);
	free(r->user);
	for (i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	pcre2_match_data_free(r->mdata);
	pcre2_match_context_free(r->mctx);
	free(r);
}

static int
fail(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL)
		snprintf(c->err, c->errsz, "%s:%lu:%lu: %s", c->file,
		    (unsigned long)n->start_mark.line + 1,
		    (unsigned long)n->start_mark.column + 1, msg);
	else
		snprintf(c->err, c->errsz, "%s: %s", c->file, msg);
	return -1;
}

static yaml_node_t *
node(struct ctx *c, int id)
{
	if (++c->visits > RULES_MAX_NODES)
		return NULL;
	return yaml_document_get_node(c->doc, id);
}

static const char *
scalar(struct ctx *c, yaml_node_t *n, const char *what)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE) {
		fail(c, n, "%s: expected a string", what);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length) {
		fail(c, n, "%s: NUL byte in value", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* A Maildir++ folder: "inbox", "junk", or one name such as ".Junk". */
static int
set_folder(struct ctx *c, yaml_node_t *n, char **dst, int allow_special)
{
	const char *v = scalar(c, n, "folder");
	char	 buf[256];

	if (v == NULL)
		return -1;
	if (allow_special && (strcmp(v, "inbox") == 0 ||
	    strcmp(v, "junk") == 0)) {
		free(*dst);
		*dst = xstrdup(v);
		return 0;
	}
	if (*v == '\0' || strlen(v) > 200 || strchr(v, '/') != NULL ||
	    strstr(v, "..") != NULL || strcmp(v, ".") == 0)
		return fail(c, n, "invalid folder name '%s' (one Maildir++ "
		    "folder name such as .Junk, without '/' or '..')", v);
	snprintf(buf, sizeof(buf), "%s%s", v[0] == '.' ? "" : ".", v);
	free(*dst);
	*dst = xstrdup(buf);
	return 0;
}

static int
add_pattern(struct ctx *c, yaml_node_t *n)
{
	const char	*v = scalar(c, n, "outbound.message_id");
	pcre2_code	*re;
	int		 ec;
	PCRE2_SIZE	 eo;
	PCRE2_UCHAR	 emsg[256];
	struct pattern	*p;
	size_t		 size;

	if (v == NULL)
		return -1;
	if (strlen(v) > RULES_MAX_PATTERN)
		return fail(c, n, "pattern longer than %d bytes",
		    RULES_MAX_PATTERN);
	if (c->r->npats >= RULES_MAX_PATTERNS)
		return fail(c, n, "more than %d patterns", RULES_MAX_PATTERNS);
	re = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED, 0, &ec, &eo,
	    NULL);
	if (re == NULL) {
		pcre2_get_error_message(ec, emsg, sizeof(emsg));
		return fail(c, n, "bad pattern '%s': %s at offset %lu", v,
		    (char *)emsg, (unsigned long)eo);
	}
	if (pcre2_pattern_info(re, PCRE2_INFO_SIZE, &size) != 0 ||
	    size > RULES_MAX_COMPILED - c->r->compiled) {
		pcre2_code_free(re);
		return fail(c, n, "patterns compile to more than %d bytes "
		    "together", RULES_MAX_COMPILED);
	}
	c->r->compiled += size;
	c->r->pats = xrealloc(c->r->pats,
	    (c->r->npats + 1) * sizeof(*c->r->pats));
	p = &c->r->pats[c->r->npats++];
	p->re = re;
	p->src = xstrdup(v);
	p->file = c->file;
	p->line = (int)n->start_mark.line + 1;
	if (ensure_match(c->r) == -1)
		return fail(c, n, "out of memory");
	return 0;
}

static int
add_relay(struct ctx *c, yaml_node_t *n)
{
	const char	*v = scalar(c, n, "outbound.relays");
	struct relay	*rl;
	size_t		 i;

	if (v == NULL)
		return -1;
	if (*v == '\0' || strlen(v) > 255 || strchr(v, ' ') != NULL)
		return fail(c, n, "invalid relay host name '%s'", v);
	c->r->relays = xrealloc(c->r->relays,
	    (c->r->nrelays + 1) * sizeof(*c->r->relays));
	rl = &c->r->relays[c->r->nrelays++];
	rl->host = xstrdup(v);
	for (i = 0; rl->host[i] != '\0'; i++)	/* matched case-insensitively */
		if (rl->host[i] >= 'A' && rl->host[i] <= 'Z')
			rl->host[i] = (char)(rl->host[i] + 32);
	rl->file = c->file;
	rl->line = (int)n->start_mark.line + 1;
	return 0;
}

typedef int (*item_fn)(struct ctx *, yaml_node_t *);

static int
each_item(struct ctx *c, yaml_node_t *seq, const char *what, item_fn fn)
{
	yaml_node_item_t *it;
	yaml_node_t	 *n;

	if (seq->type == YAML_SCALAR_NODE && seq->data.scalar.length == 0)
		return 0;	/* "key:" with nothing: an empty list */
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(c, seq, "%s: expected a list", what);
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		if ((n = node(c, *it)) == NULL)
			return fail(c, seq, "too many nodes");
		if (fn(c, n) == -1)
			return -1;
	}
	return 0;
}

/* Call fn(key, value) for each pair of a mapping. */
typedef int (*pair_fn)(struct ctx *, const char *, yaml_node_t *,
    yaml_node_t *);

static int
each_pair(struct ctx *c, yaml_node_t *map, const char *what, pair_fn fn)
{
	yaml_node_pair_t *pr;
	yaml_node_t	 *k, *v;
	const char	 *key;

	if (map->type == YAML_SCALAR_NODE && map->data.scalar.length == 0)
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, "%s: expected a mapping", what);
	for (pr = map->data.mapping.pairs.start;
	    pr < map->data.mapping.pairs.top; pr++) {
		if ((k = node(c, pr->key)) == NULL ||
		    (v = node(c, pr->value)) == NULL)
			return fail(c, map, "too many nodes");
		if ((key = scalar(c, k, "key")) == NULL)
			return -1;
		if (fn(c, key, k, v) == -1)
			return -1;
	}
	return 0;
}

/* A yes/no value, as YAML 1.1 spells it; -1 when it is neither. */
static int
yes_no(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 ||
	    strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 ||
	    strcmp(s, "off") == 0)
		return 0;
	return -1;
}

static int
out_message_id(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	(void)k;
	return each_item(c, v, "outbound.message_id", add_pattern);
}

static int
out_relays(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	(void)k;
	return each_item(c, v, "outbound.relays", add_relay);
}

static int
add_sent_folder(struct ctx *c, yaml_node_t *n)
{
	const char	*s;
	char		 e[300];

	if ((s = scalar(c, n, "outbound.sent")) == NULL)
		return -1;
	if (sent_folder_valid(s, e, sizeof(e)) == -1)
		return fail(c, n, "outbound.sent: %s", e);
	c->r->sent_folders = xrealloc(c->r->sent_folders,
	    (c->r->nsent_folders + 1) * sizeof(*c->r->sent_folders));
	c->r->sent_folders[c->r->nsent_folders++] = xstrdup(s);
	return 0;
}

/* outbound.sent: true, false, or a list of folders (lists add up) */
static int
out_sent(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	const char	*s;
	int		 on;

	(void)k;
	if (v->type == YAML_SEQUENCE_NODE) {
		if (each_item(c, v, "outbound.sent", add_sent_folder) == -1)
			return -1;
		c->r->sent = c->r->nsent_folders > 0;
		return 0;
	}
	if ((s = scalar(c, v, "outbound.sent")) == NULL)
		return -1;
	if ((on = yes_no(s)) == -1)
		return fail(c, v, "outbound.sent: '%s' is neither true, false "
		    "nor a list of folders", s);
	c->r->sent = on;
	return 0;
}

static int
out_sent_index(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	const char	*s = scalar(c, v, "outbound.sent_index");
	char		 path[1100], e[300];

	(void)k;
	if (s == NULL)
		return -1;
	if (*s == '\0' || strlen(s) > 1000 || (s[0] != '/' &&
	    strncmp(s, "~/", 2) != 0 && strncmp(s, "%h/", 3) != 0))
		return fail(c, v, "outbound.sent_index: '%s' is not an "
		    "absolute path or ~/PATH", s);
	if (rules_expand(c->r->user, s, path, sizeof(path), e,
	    sizeof(e)) == -1)
		return fail(c, v, "outbound.sent_index: %s", e);
	free(c->r->sent_index);
	c->r->sent_index = xstrdup(path);
	snprintf(c->r->index_at, sizeof(c->r->index_at), "%s:%lu", c->file,
	    (unsigned long)v->start_mark.line + 1);
	return 0;
}

/* a yes/no key into *dst, its FILE:LINE into at (NULL: not kept) */
static int
out_flag(struct ctx *c, yaml_node_t *k, yaml_node_t *v, const char *key,
    int *dst, char *at, size_t atsz)
{
	const char	*s = scalar(c, v, key);
	int		 on;

	if (s == NULL)
		return -1;
	if ((on = yes_no(s)) == -1)
		return fail(c, v, "outbound.%s: '%s' is neither true nor false",
		    key, s);
	*dst = on;
	if (at != NULL)
		snprintf(at, atsz, "%s:%lu", c->file,
		    (unsigned long)k->start_mark.line + 1);
	return 0;
}

static int
out_recipients(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	return out_flag(c, k, v, "recipients", &c->r->rcpt, c->r->rcpt_at,
	    sizeof(c->r->rcpt_at));
}

/* outbound.record: backstop record sees every message the user sends */
static int
out_record(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	return out_flag(c, k, v, "record", &c->r->record, NULL, 0);
}

static int
out_recipients_domain(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	return out_flag(c, k, v, "recipients_domain", &c->r->rcpt_domain,
	    NULL, 0);
}

static int
out_recipients_unmatched(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	const char *s = scalar(c, v, "outbound.recipients_unmatched");

	(void)k;
	if (s == NULL)
		return -1;
	if (strcmp(s, "backscatter") == 0)
		c->r->rcpt_junk = 1;
	else if (strcmp(s, "unknown") == 0)
		c->r->rcpt_junk = 0;
	else
		return fail(c, v, "outbound.recipients_unmatched: '%s' is "
		    "neither backscatter nor unknown", s);
	return 0;
}

/*
 * outbound.recipient_delimiter: the characters that start a subaddress
 * (Postfix's recipient_delimiter; "" for none).
 */
static int
out_recipient_delimiter(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	const char	*s = scalar(c, v, "outbound.recipient_delimiter"), *p;

	(void)k;
	if (s == NULL)
		return -1;
	if (strlen(s) > ADDR_DELIM_MAX - 1)
		return fail(c, v, "outbound.recipient_delimiter: '%s' is more "
		    "than %d characters", s, ADDR_DELIM_MAX - 1);
	for (p = s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '@' || *p == '"' ||
		    (*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' &&
		    (*p | 0x20) <= 'z'))
			return fail(c, v, "outbound.recipient_delimiter: '%c' "
			    "cannot start a subaddress (a character such as + "
			    "or -)", *p);
	snprintf(c->r->delim, sizeof(c->r->delim), "%s", s);
	return 0;
}

/* The keys of outbound:, each with the function that reads its value. */
static const struct {
	const char	*key;
	int		(*fn)(struct ctx *, yaml_node_t *, yaml_node_t *);
} outbound_keys[] = {
	{ "message_id", out_message_id },
	{ "relays", out_relays },
	{ "sent", out_sent },
	{ "sent_index", out_sent_index },
	{ "record", out_record },
	{ "recipients", out_recipients },
	{ "recipients_unmatched", out_recipients_unmatched },
	{ "recipients_domain", out_recipients_domain },
	{ "recipient_delimiter", out_recipient_delimiter },
};

static int
on_outbound(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	char	 known[300];
	size_t	 i, o = 0;

	for (i = 0; i < sizeof(outbound_keys) / sizeof(outbound_keys[0]); i++)
		if (strcmp(key, outbound_keys[i].key) == 0)
			return outbound_keys[i].fn(c, k, v);
	for (i = 0; i < sizeof(outbound_keys) / sizeof(outbound_keys[0]) &&
	    o < sizeof(known); i++)
		o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s",
		    i ? ", " : "", outbound_keys[i].key);
	return fail(c, k, "unknown key 'outbound.%s' (known: %s)", key, known);
}

/*
 * A count or a size of the junk section: digits, for a size with k, M or
 * G (1024-based); 0 is "no bound".  At most 2^40, so that no sum of them
 * can overflow.
 */
static int
junk_number(const char *s, int size, long long *n_r)
{
	unsigned long long	 n = 0, mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (unsigned long long)(*s - '0');
		if (n > (1ULL << 40))
			return -1;
	}
	if (size && (*s == 'k' || *s == 'K'))
		mul = 1024, s++;
	else if (size && *s == 'M')
		mul = 1024 * 1024, s++;
	else if (size && *s == 'G')
		mul = 1024 * 1024 * 1024, s++;
	if (*s != '\0' || n > (1ULL << 40) / mul)
		return -1;
	*n_r = (long long)(n * mul);
	return 0;
}

static int
on_junk(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	const char *s;
	char	    what[64];

	if (strcmp(key, "folder") == 0)
		return set_folder(c, v, &c->r->junk, 0);
	snprintf(what, sizeof(what), "junk.%.40s", key);
	if ((s = scalar(c, v, what)) == NULL)
		return -1;
	if (strcmp(key, "expire_after") == 0) {
		if (parse_age(s, &c->r->expire) == -1)
			return fail(c, v, "junk.expire_after: '%s' is not an "
			    "age such as 30d, 12h or 2w", s);
		return 0;
	}
	if (strcmp(key, "max_messages") == 0) {
		if (junk_number(s, 0, &c->r->junk_max_msgs) == -1)
			return fail(c, v, "junk.max_messages: '%s' is not a "
			    "number (0: no bound)", s);
		return 0;
	}
	if (strcmp(key, "max_size") == 0) {
		if (junk_number(s, 1, &c->r->junk_max_bytes) == -1)
			return fail(c, v, "junk.max_size: '%s' is not a size "
			    "such as 100M, 512k or 1G (0: no bound)", s);
		return 0;
	}
	if (strcmp(key, "digest") == 0 || strcmp(key, "quota") == 0) {
		if (strcmp(key, "digest") == 0 && (strcmp(s, "daily") == 0 ||
		    strcmp(s, "off") == 0))
			c->r->junk_digest = strcmp(s, "daily") == 0;
		else if (strcmp(key, "quota") == 0 && (strcmp(s, "count") ==
		    0 || strcmp(s, "ignore") == 0))
			c->r->junk_quota_ignore = strcmp(s, "ignore") == 0;
		else
			return fail(c, v, "junk.%s: '%s' is neither %s", key,
			    s, strcmp(key, "digest") == 0 ? "daily nor off" :
			    "count nor ignore");
		return 0;
	}
	return fail(c, k, "unknown key 'junk.%s' (known: folder, "
	    "expire_after, max_messages, max_size, digest, quota)", key);
}

static int
on_verdicts(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	int	 i;

	for (i = 0; i < V_COUNT; i++)
		if (strcmp(key, verdict_name((enum verdict)i)) == 0)
			return set_folder(c, v, &c->r->folder[i], 1);
	return fail(c, k, "unknown verdict '%s' (known: not-bounce, ours, "
	    "backscatter, unknown)", key);
}

static int
on_limits(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	const char	*s;
	char		*end;
	unsigned long	 n, mul = 1;
	long		 secs;

	if ((s = scalar(c, v, key)) == NULL)
		return -1;
	if (strcmp(key, "parse_bytes") == 0) {
		/* digits only: strtoul() takes "-4096" and blanks; and the
		 * unit must not wrap the number round into the range */
		errno = 0;
		n = strtoul(s, &end, 10);
		if (*end == 'k' || *end == 'K')
			mul = 1024, end++;
		else if (*end == 'M')
			mul = 1024 * 1024, end++;
		if (errno || *s < '0' || *s > '9' || *end != '\0' ||
		    n > (64UL << 20) / mul || n * mul < 4096)
			return fail(c, v, "limits.parse_bytes: '%s' is not a "
			    "size from 4096 to 64M", s);
		c->r->parse_bytes = n * mul;
		return 0;
	}
	if (strcmp(key, "timeout") == 0) {
		if (parse_age(s, &secs) == -1 || secs < 1 || secs > 300)
			return fail(c, v, "limits.timeout: '%s' is not a time "
			    "from 1s to 300s", s);
		c->r->timeout = (unsigned)secs;
		return 0;
	}
	return fail(c, k, "unknown key 'limits.%s' (known: parse_bytes, "
	    "timeout)", key);
}

static int
on_top(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v)
{
	if (strcmp(key, "outbound") == 0)
		return each_pair(c, v, "outbound", on_outbound);
	if (strcmp(key, "junk") == 0)
		return each_pair(c, v, "junk", on_junk);
	if (strcmp(key, "verdicts") == 0)
		return each_pair(c, v, "verdicts", on_verdicts);
	if (strcmp(key, "limits") == 0)
		return each_pair(c, v, "limits", on_limits);
	return fail(c, k, "unknown key '%s' (known: outbound, junk, "
	    "verdicts, limits)", key);
}

static int
walk_top(struct ctx *c, yaml_node_t *root)
{
	if (root == NULL)
		return 0;	/* an empty file is a valid, empty rule set */
	if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
		return 0;
	return each_pair(c, root, "top level", on_top);
}

/* Refuse what procmail refuses: writable by others, or not ours. */
static int
check_file(int fd, const char *path, char *err, size_t errsz)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsz, "%s: writable by group or others "
		    "(chmod go-w), refused", path);
		return -1;
	}
	if (st.st_uid != getuid() && st.st_uid != geteuid() &&
	    st.st_uid != 0) {
		snprintf(err, errsz, "%s: owned by uid %lu, not by you or root, "
		    "refused", path, (unsigned long)st.st_uid);
		return -1;
	}
	if (st.st_size > RULES_MAX_BYTES) {
		snprintf(err, errsz, "%s: larger than %d bytes, refused", path,
		    RULES_MAX_BYTES);
		return -1;
	}
	return 0;
}

static void
yaml_fail(yaml_parser_t *parser, const char *path, char *err, size_t errsz)
{
	snprintf(err, errsz, "%s:%lu:%lu: %s%s%s", path,
	    (unsigned long)parser->problem_mark.line + 1,
	    (unsigned long)parser->problem_mark.column + 1,
	    parser->problem ? parser->problem : "YAML error",
	    parser->context ? " " : "",
	    parser->context ? parser->context : "");
}

/*
 * Load one rule file into r.  required: a missing file is an error (else
 * it is silently skipped).  Returns 0, or -1 with err filled in.
 */
int
rules_load(struct rules *r, const char *path, int required, char *err,
    size_t errsz)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	struct ctx	 c;
	char		*buf;
	size_t		 len;
	int		 fd, rc;

	err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT && !required)
			return 0;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (check_file(fd, path, err, errsz) == -1 ||
	    read_all_fd(fd, &buf, &len, RULES_MAX_BYTES) == -1) {
		if (errno != 0 && err[0] == '\0')
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (r->nfiles == sizeof(r->files) / sizeof(r->files[0])) {
		free(buf);
		snprintf(err, errsz, "%s: too many rule files", path);
		return -1;
	}
	r->files[r->nfiles++] = xstrdup(path);
	snprintf(r->filelist + strlen(r->filelist),
	    sizeof(r->filelist) - strlen(r->filelist), "%s%s",
	    r->nfiles > 1 ? " " : "", path);

	if (!yaml_parser_initialize(&parser)) {
		free(buf);
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&parser, path, err, errsz);
		yaml_parser_delete(&parser);
		free(buf);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.doc = &doc;
	c.file = r->files[r->nfiles - 1];
	c.err = err;
	c.errsz = errsz;
	rc = walk_top(&c, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	/* a "---" would start a document that nothing reads: its rules
	 * would be silently unused, its errors never reported */
	if (rc == 0 && !yaml_parser_load(&parser, &doc)) {
		yaml_fail(&parser, c.file, err, errsz);
		rc = -1;
	} else if (rc == 0) {
		if (yaml_document_get_root_node(&doc) != NULL)
			rc = fail(&c, yaml_document_get_root_node(&doc),
			    "a second YAML document: a rule file is one");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(buf);
	/* the recipients are looked up in the sent index: no index, no
	 * evidence, and a key that silently does nothing is a trap */
	if (rc == 0 && r->rcpt && !r->sent && !r->record) {
		snprintf(err, errsz, "%s: outbound.recipients needs "
		    "outbound.sent or outbound.record (the sent index holds the "
		    "recipients)", r->rcpt_at);
		rc = -1;
	}
	return rc;
}

/*
 * One part of the address for a path: it comes from the envelope, so it
 * must stay one path component, and never "." or "..".
 */
static int
safe_part(const char *p, size_t n, const char *what, const char *user,
    char *err, size_t errsz)
{
	size_t	 i;

	if (n == 0 || p[0] == '.') {
		snprintf(err, errsz, "%s of '%s' is empty or starts with '.'",
		    what, user);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (p[i] == '/' || (unsigned char)p[i] < 0x20 ||
		    p[i] == 0x7f) {
			snprintf(err, errsz, "%s of '%s' holds '/' or a control "
			    "character", what, user);
			return -1;
		}
	return 0;
}

/*
 * Expand %u (local part), %d (domain), %h (home) and %% in tmpl, the way
 * Dovecot and Postfix name a virtual user's files, for user (-u, NULL:
 * $USER).  0, or -1 with err.
 */
int
rules_expand(const char *user, const char *tmpl, char *out, size_t outsz,
    char *err, size_t errsz)
{
	const char	*at, *p, *v;
	size_t		 o = 0, n;

	if (user == NULL || *user == '\0')
		user = getenv("USER");
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			v = p;
			n = 1;
		} else if (p[1] == '%') {
			v = p++;
			n = 1;
		} else if (p[1] == 'u' || p[1] == 'd') {
			if (user == NULL || *user == '\0') {
				snprintf(err, errsz, "%s: %%%c without a user: "
				    "give -u USER@DOMAIN", tmpl, p[1]);
				return -1;
			}
			at = strrchr(user, '@');
			if (p[1] == 'u') {
				v = user;
				n = at ? (size_t)(at - user) : strlen(user);
			} else if (at == NULL) {
				snprintf(err, errsz, "%s: %%d, but '%s' has no "
				    "domain", tmpl, user);
				return -1;
			} else {
				v = at + 1;
				n = strlen(v);
			}
			if (safe_part(v, n, p[1] == 'u' ? "the local part" :
			    "the domain", user, err, errsz) == -1)
				return -1;
			p++;
		} else if (p[1] == 'h') {
			if ((v = maildir_home()) == NULL) {
				snprintf(err, errsz, "%s: %%h, but no home "
				    "directory", tmpl);
				return -1;
			}
			n = strlen(v);
			p++;
		} else {
			snprintf(err, errsz, "%s: unknown '%%%c' (known: %%u "
			    "%%d %%h %%%%)", tmpl, p[1] ? p[1] : ' ');
			return -1;
		}
		if (n >= outsz - o) {
			snprintf(err, errsz, "%s: expands too long", tmpl);
			return -1;
		}
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* The system file: BACKSTOP_SYSTEM_RULES (empty: none), else /etc's. */
const char *
rules_system_path(void)
{
	const char *sys = getenv("BACKSTOP_SYSTEM_RULES");

	if (sys == NULL)
		sys = SYSCONFDIR "/backstop/rules.yaml";
	return *sys != '\0' ? sys : NULL;
}

/*
 * The user's file: -r as given (it must exist), -r with %u/%d/%h expanded
 * (it may be missing), else ~/.backstop.yaml (it may be missing).
 * Returns 1 with out and *required_r set, 0 when there is none (no home),
 * -1 with err.
 */
int
rules_user_path(const struct rules *r, const char *user_file, char *out,
    size_t outsz, int *required_r, char *err, size_t errsz)
{
	const char	*home;

	*required_r = 0;
	if (user_file != NULL && strchr(user_file, '%') != NULL)
		return rules_expand(r->user, user_file, out, outsz, err,
		    errsz) == -1 ? -1 : 1;
	if (user_file != NULL) {
		*required_r = 1;
		if ((size_t)snprintf(out, outsz, "%s", user_file) >= outsz) {
			snprintf(err, errsz, "rule file path too long");
			return -1;
		}
		return 1;
	}
	if ((home = maildir_home()) == NULL)
		return 0;
	if ((size_t)snprintf(out, outsz, "%s/.backstop.yaml", home) >= outsz) {
		snprintf(err, errsz, "$HOME too long");
		return -1;
	}
	return 1;
}

/*
 * The usual pair: the system file (BACKSTOP_SYSTEM_RULES overrides its
 * path, for tests and unusual layouts; empty means none), then the user's
 * file or the one given with -r.
 */
int
rules_load_default(struct rules *r, const char *user_file, char *err,
    size_t errsz)
{
	const char	*sys = rules_system_path();
	char		 path[4096];
	int		 rc, required;

	err[0] = '\0';
	if (sys != NULL && rules_load(r, sys, 0, err, errsz) == -1)
		return -1;
	if ((rc = rules_user_path(r, user_file, path, sizeof(path), &required,
	    err, errsz)) <= 0)
		return rc;
	return rules_load(r, path, required, err, errsz);
}

/* Limits for every match: a hostile pattern or id cannot hang us. */
static int
ensure_match(struct rules *r)
{
	if (r->mctx == NULL) {
		if ((r->mctx = pcre2_match_context_create(NULL)) == NULL)
			return -1;
		pcre2_set_match_limit(r->mctx, 200000);
		pcre2_set_depth_limit(r->mctx, 2000);
		pcre2_set_heap_limit(r->mctx, 8192);	/* KiB */
	}
	if (r->mdata == NULL &&
	    (r->mdata = pcre2_match_data_create(4, NULL)) == NULL)
		return -1;
	return 0;
}

/*
 * Match an original Message-ID (with or without brackets) against the
 * outbound patterns, always in its "<id>" form.  Returns 1 and the rule's
 * FILE:LINE on a match, 0 for none, -1 when a match hit a limit (then the
 * caller cannot say "not ours").
 */
int
rules_match_msgid(const struct rules *r, const char *id, char *rule,
    size_t rulesz)
{
	size_t	 i;
	int	 rc, hit_limit = 0;

	for (i = 0; i < r->npats; i++) {
		if ((rc = rules_match_pattern(r, i, id)) == 1) {
			snprintf(rule, rulesz, "%s:%d", r->pats[i].file,
			    r->pats[i].line);
			return 1;
		}
		if (rc == -1)
			hit_limit = 1;
	}
	return hit_limit ? -1 : 0;
}

/*
 * Does pattern i match id, in its "<id>" form, within the match limits?
 * 1, 0, or -1 when the match hit a limit (or cannot be run).  The one
 * matcher of deliver, scan and check-rules.
 */
int
rules_match_pattern(const struct rules *r, size_t i, const char *id)
{
	char	 buf[LIM_MSGID + 3];
	int	 rc;

	if (i >= r->npats || r->mdata == NULL)
		return -1;
	snprintf(buf, sizeof(buf), id[0] == '<' ? "%s" : "<%s>", id);
	rc = pcre2_match(r->pats[i].re, (PCRE2_SPTR)buf, strlen(buf), 0, 0,
	    r->mdata, r->mctx);
	return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/*
 * Does a Received: value name one of our relays as a whole host name
 * ("by smtp.example.org", "from smtp.example.org (...)")?
 */
int
rules_relay_match(const struct rules *r, const char *v, size_t n,
    char *rule, size_t rulesz)
{
	size_t		 i, k;
	const char	*p, *q, *end = v + n;

	for (i = 0; i < r->nrelays; i++) {
		k = strlen(r->relays[i].host);
		for (p = v; p < end &&
		    (q = ascii_memmem_ci(p, (size_t)(end - p),
		    r->relays[i].host)) != NULL; p = q + 1) {
			if ((q > v && host_char(q[-1])) ||
			    (q + k < end && host_char(q[k]) && q[k] != '.'))
				continue;
			if (q + k < end && q[k] == '.' && q + k + 1 < end &&
			    host_char(q[k + 1]))
				continue;
			snprintf(rule, rulesz, "%s:%d", r->relays[i].file,
			    r->relays[i].line);
			return 1;
		}
	}
	return 0;
}

/* RULES_RCPT_* bits: is recipient evidence on, and how. */
int
rules_recipients(const struct rules *r)
{
	if (r == NULL || !r->rcpt || (!r->sent && !r->record))
		return 0;
	return RULES_RCPT_ON | (r->rcpt_junk ? RULES_RCPT_JUNK : 0) |
	    (r->rcpt_domain ? RULES_RCPT_DOMAIN : 0);
}

int
rules_has_evidence(const struct rules *r)
{
	return (r->npats > 0 ? RULES_EV_PATTERNS : 0) |
	    (r->nrelays > 0 ? RULES_EV_RELAYS : 0) |
	    (r->sent ? RULES_EV_SENT : 0) | (r->record ? RULES_EV_RECORD : 0);
}

/* NULL means the inbox. */
const char *
rules_folder(const struct rules *r, enum verdict v)
{
	const char *f = r->folder[v];

	if (f == NULL)
		f = (v == V_BACKSCATTER) ? "junk" : "inbox";
	if (strcmp(f, "inbox") == 0)
		return NULL;
	if (strcmp(f, "junk") == 0)
		return rules_junk_folder(r);
	return f;
}

const char *
rules_junk_folder(const struct rules *r)
{
	return r->junk ? r->junk : ".Junk";
}

long
rules_expire_secs(const struct rules *r)
{
	return r->expire;
}

/* The junk section's bounds, digest and quota (see struct rules_junk). */
void
rules_junk(const struct rules *r, struct rules_junk *j)
{
	j->max_messages = r->junk_max_msgs;
	j->max_bytes = r->junk_max_bytes;
	j->digest = r->junk_digest;
	j->quota_ignore = r->junk_quota_ignore;
}

size_t
rules_parse_bytes(const struct rules *r)
{
	return r->parse_bytes;
}

unsigned
rules_timeout(const struct rules *r)
{
	return r->timeout;
}

/* How many outbound patterns (RULES_EV_PATTERNS) or relays (_RELAYS). */
size_t
rules_count(const struct rules *r, int which)
{
	return which == RULES_EV_RELAYS ? r->nrelays : r->npats;
}

/*
 * The i-th outbound pattern or relay as written, with its file and line;
 * NULL past the last.
 */
const char *
rules_item(const struct rules *r, int which, size_t i, const char **file_r,
    int *line_r)
{
	if (i >= rules_count(r, which))
		return NULL;
	if (which == RULES_EV_RELAYS) {
		*file_r = r->relays[i].file;
		*line_r = r->relays[i].line;
		return r->relays[i].host;
	}
	*file_r = r->pats[i].file;
	*line_r = r->pats[i].line;
	return r->pats[i].src;
}

/* outbound.sent_index as configured (expanded), NULL: the default. */
const char *
rules_sent_index(const struct rules *r)
{
	return r->sent_index;
}

/* Where outbound.sent_index was set (FILE:LINE), "" for the default. */
const char *
rules_sent_index_at(const struct rules *r)
{
	return r->index_at;
}

/* outbound.recipient_delimiter: "+" unless the rules say otherwise. */
const char *
rules_recipient_delimiter(const struct rules *r)
{
	return r->delim;
}

const char *const *
rules_sent_folders(const struct rules *r, size_t *n_r)
{
	*n_r = r->nsent_folders;
	return (const char *const *)r->sent_folders;
}

const char *
rules_files(const struct rules *r)
{
	return r->nfiles ? r->filelist : "(none)";
}
