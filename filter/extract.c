/*
 * Extraction: is this message a report about another message (a bounce,
 * an auto-reply, a receipt), and which message does it quote?  The first
 * stage of classification and the only one that parses hostile input, so
 * it runs under the guard (guard.c) in deliver: it reads the message bytes
 * and nothing else, opens no file and keeps no state.  What it finds goes
 * out as a struct extract, plain data; judge.c weighs it against the rules.
 *
 * Design.  The message is first copied, up to the parse limit, with every
 * line end made LF (CRLF and lone CR alike), so that everything after this
 * point sees one kind of text; the delivered bytes are never touched.
 * libetpan then parses the MIME structure.  It recurses once per nested
 * part with no limit of its own, so the text handed to it is cut before
 * the LIM_COMPOSITE'th multipart or message header (deep nesting degrades
 * to "parsed up to there").  The returned original is looked for, in
 * order of trust:
 *   1. a message/rfc822, message/global, text/rfc822-headers or
 *      message/global-headers part of a multipart/report;
 *   2. such a part anywhere else in a bounce-like message;
 *   3. a header block pasted into a text part (decoded from base64 or
 *      quoted-printable), after the markers real MTAs write, quoted with
 *      "> " or not: the general mechanism is "find the returned header
 *      block, then read its Message-ID", not one parser per MTA;
 *   4. for auto-replies, In-Reply-To, else the last References entry;
 *      for MDNs, Original-Message-ID.
 * Only the top header block of a returned copy is read, never what it
 * contains, so a digest or forward inside the original cannot lend us
 * its Message-ID.  Whether the message is a bounce at all takes two
 * signals together (sender, subject, report types, X-Failed-Recipients,
 * bounce text, a returned copy), never one weak signal alone.
 *
 * Parsing and scoring are apart: read_message() and top_read() only
 * record what the message holds (struct cls, struct top); score() and
 * top_autoreply() weigh it into a kind; report_original() then names
 * the original and its counterparts.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "backstop.h"
#include "extract.h"
#include "hdr.h"
#include "util.h"

#define LIM_COMPOSITE	200	/* composite Content-Type lines handed over */
#define LIM_COMMENT	100	/* nested comments "(((" in one field */

enum trust {
	T_NONE = 0,
	T_AUTOREPLY,		/* In-Reply-To / References */
	T_INLINE_NOMARK,	/* header block in text, no marker before it */
	T_INLINE,		/* header block in text after a marker */
	T_ATTACHED,		/* message/rfc822 outside a report */
	T_MDN,			/* Original-Message-ID */
	T_REPORT		/* returned part of a multipart/report */
};

struct cls {
	struct trace	*t;
	int		 parts;
	int		 report;	/* multipart/report seen at the top */
	char		 report_type[40];
	int		 dsn_part;	/* message/(global-)delivery-status */
	int		 mdn_part;	/* message/disposition-notification */
	int		 copy_part;	/* a returned message/rfc822-like part */
	int		 marker;	/* bounce text seen in a text part */
	int		 challenge;	/* challenge-response text seen */
	int		 rcpt_lines;	/* failed recipients named in the text */
	int		 feedback;	/* a feedback report's machine part */
	int		 fbl_text;	/* a feedback report's wording seen */
	int		 complainant;	/* the reported copy names the
					 * complainant (X-HmXmrOriginalRecipient) */
	enum trust	 trust;
	char		 id[LIM_MSGID + 1];
	char		 where[160];
	const char	*orig_hdr;	/* header block of the returned copy */
	size_t		 orig_hdr_len;
	char		**decoded;	/* decoded parts, kept: orig_hdr may */
	int		 ndecoded;	/* point into one of them */
	int		 decap;
	int		 json;		/* a JSON bounce notification */
	int		 encoded;	/* the text being scanned was decoded */
	int		 nest;		/* bounce inside a bounce: depth */
	int		 env_null;
	char		 own[LIM_MSGID + 1];	/* the message's own Message-ID */
	struct cparts	*cp;		/* counterparts found meanwhile */
};

static void	 analyze(struct cls *, const char *, size_t);
static size_t	 prefix_len(const char *, size_t, int *);
static int	 daemon_from(const char *);
static const char *ctype_param(struct mailmime *, const char *);

/* Text that only a bounce carries, lower case. */
static const char *const bounce_text[] = {
	"below this line is a copy of the message",
	"this is a copy of the message",
	"original message headers",
	"returned message",
	"returned mail follows",
	"following mail has been returned",
	"original message follows",
	"the original message was received",
	"unsent message below",
	"message could not be delivered",
	"could not be delivered",
	"delivery has failed",
	"delivery to the following recipient",
	"permanent error",
	"permanent fatal error",
	"i'm afraid i wasn't able to deliver",
	"i was unable to deliver",
	"this is the mail system at host",
	"mail delivery failed",
	"delivery status notification",
	"was not delivered",
	"wasn't delivered",
	"failed to deliver",
	"unable to deliver",
	"undeliverable",
	"undelivered",
	"non-delivery",
	"delivery failure",
	"user unknown",
	"mailbox unavailable",
	"mailbox is full",
	"no such user",
	"recipient address rejected",
	"address rejected",
	"message rejected",
	"delivery failed",
	"following address",
	"header of the original message",
	"headers of the original message",
	"original message",
	"transcript of session",
	"message was not accepted",
	"was rejected",
	"could not deliver",
	"original mail as follows",
	"message text follows",
	"no valid recipients",
	"invalid user",
	"rejected your message",
	"returned to sender",
	"requested action not taken",
	/* what Exchange, Notes and gateways write in other languages */
	"n'a pas pu \xc3\xaatre remis", "n'a pas atteint",
	"impossible de joindre", "nicht zugestellt", "unzustellbar",
	"konnte nicht zugestellt", "no se pudo entregar",
	"no se ha podido entregar", "non \xc3\xa8 stato recapitato",
	"impossibile recapitare", "kan niet worden bezorgd",
	"n\xc3\xa3o foi poss\xc3\xadvel entregar",
	NULL
};

/* Subjects of bounces, lower case, matched anywhere in the Subject. */
static const char *const bounce_subject[] = {
	"undeliver", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "failure notice",
	"returned mail", "mail delivery failed", "non-delivery",
	"nondeliverable", "non remis", "unzustellbar", "could not be delivered",
	"delivery has failed", "mail system error", "returned to sender",
	"delivery notification", "not delivered", "delivery problem",
	"mail delivery system", "message rejected", "rejected:",
	"delivery report", "failed delivery", "warning: could not send",
	"delivery error", "mail failure", "permanent error",
	"returned message", "message not delivered",
	"error sending message", "mailbox full", "over quota",
	"unknown user", "user unknown", "no such user", "mail could not be",
	"nicht zustellbar", "error delivering", "delivery fail",
	"email address could not be found", "was not delivered",
	"undeliverable mail", "mail returned", "message blocked",
	"mail failed", "returning to sender",
	/* other languages' NDR subjects (Exchange, Notes, webmails) */
	"non recapitabile", "mancata consegna", "onbestelbaar",
	"no se puede entregar", "no entregado", "entrega fallida",
	"n\xc3\xa3o entregue", "nao entregue", "falha na entrega",
	"n\xc3\xa3o foi poss\xc3\xadvel entregar", "niet afgeleverd",
	"olevererbart", "kan ikke leveres", "ei voitu toimittaa",
	"nie mo\xc5\xbcna dostarczy\xc4\x87", "nedoru\xc4\x8diteln",
	"niedostarczalne", "nie uda\xc5\x82o si\xc4\x99 dostarczy\xc4\x87",
	"zwrot do nadawcy",			/* (pl) Exchange, webmails */
	"nedoru\xc4\x8dite\xc4\xben",		/* (sk) Exchange */
	"k\xc3\xa9zbes\xc3\xadthetetlen",		/* (hu) Exchange */
	"\xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",
						/* (ru) not delivered */
	"unzustellbar", "nicht zugestellt", "non distribu",
	"impossible de remettre", "\xc3\xa9" "chec de la remise",
	"loop alert", "mail loop", "loop detected",
	/* UTF-8, for raw and RFC 2047-decoded subjects */
	"\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x82\xa8\xe3\x83\xa9"
	"\xe3\x83\xbc",				/* (ja) mail error */
	"\xe4\xb8\x8d\xe9\x81\x94",		/* (ja) undelivered */
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",
						/* (ja) delivery error */
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",
						/* (ja) sending error */
	"\xe9\x80\x80\xe4\xbf\xa1",		/* (zh) returned letter */
	/* Exchange and groupware NDR subjects, as their servers word them */
	"message status - undeliverable",	/* GroupWise */
	"poss\xc3\xadvel entregar",		/* (pt) Exchange */
	"no se pudo entregar", "imposible entregar",
	"\xd1\x83\xd0\xb4\xd0\xb0\xd0\xb5\xd1\x82\xd1\x81\xd1\x8f "
	"\xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2\xd0\xb8\xd1\x82\xd1\x8c",
						/* (ru) Exchange: cannot deliver */
	"\xe9\x85\x8d\xe4\xbf\xa1\xe4\xb8\x8d\xe8\x83\xbd",	/* (ja) Exchange */
	"\xe6\x97\xa0\xe6\xb3\x95\xe4\xbc\xa0\xe9\x80\x92",	/* (zh-cn) Exchange */
	"\xe7\x84\xa1\xe6\xb3\x95\xe5\x82\xb3\xe9\x81\x9e",	/* (zh-tw) Exchange */
	"\xeb\xb0\xb0\xeb\x8b\xac\xeb\x90\x98\xec\xa7\x80 \xec\x95\x8a\xec\x9d\x8c",
						/* (ko) Exchange */
	NULL
};

/* Subjects of out-of-office replies, lower case, UTF-8. */
static const char *const autoreply_subject[] = {
	"automatic reply", "auto reply", "auto-reply", "autoreply",
	"out of office", "out of the office", "away from the office",
	"abwesenheitsnotiz", "automatische antwort", "r\xc3\xa9ponse automatique",
	"absence", "risposta automatica", "respuesta autom\xc3\xa1tica",
	"resposta autom\xc3\xa1tica", "automatisch antwoord",
	"vacation", "on holiday", "on leave",
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94",	/* (ja) */
	"\xe8\x87\xaa\xe5\x8a\xa8\xe5\x9b\x9e\xe5\xa4\x8d",	/* (zh) */
	NULL
};

/*
 * How auto-repliers begin their Subject (Exchange, Outlook, Notes,
 * GroupWise, webmails, in their languages), lower case, matched at the
 * start only: "Out of office party" is a person's subject,
 * "Out of Office: party" an auto-reply's.
 */
static const char *const autoreply_tag[] = {
	"automatic reply:", "auto:", "auto reply:", "auto-reply:",
	"autoreply:", "auto response:", "auto-response:", "autoresponse:",
	"out of office:", "out of office autoreply", "out of office reply",
	"out of the office:", "autosvar:", "automatisk svar:",
	"automatisch antwoord:", "automatische antwort:",
	"abwesenheitsnotiz", "r\xc3\xa9ponse automatique",
	"risposta automatica", "respuesta autom\xc3\xa1tica",
	"resposta autom\xc3\xa1tica", "odpowied\xc5\xba automatyczna",
	"automatick\xc3\xa1 odpov\xc4\x9b\xc4\x8f", "automaattinen vastaus",
	"automatikus v\xc3\xa1lasz",
	"\xd0\xb0\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x82\xd0\xb8\xd1\x87\xd0\xb5\xd1\x81\xd0\xba"
	"\xd0\xb8\xd0\xb9 \xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5\xd1\x82",	/* (ru) */
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94",	/* (ja) */
	"\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1",	/* (ja) */
	"\xe8\x87\xaa\xe5\x8a\xa8\xe5\x9b\x9e\xe5\xa4\x8d",	/* (zh) */
	"\xec\x9e\x90\xeb\x8f\x99 \xed\x9a\x8c\xec\x8b\xa0",	/* (ko) */
	/* Notes' out-of-office agent writes a sentence */
	"i am out of the office", "i will be out of the office",
	"i'm out of the office", "i am currently out of the office",
	NULL
};

/* Out-of-office sentences anywhere in a mail system's Subject. */
static const char *const oof_phrase[] = {
	"out of the office", "out of office", "abwesenheitsnotiz",
	"automatic reply", "automatische antwort", NULL
};

/* Challenge-response systems, lower case. */
static const char *const challenge_text[] = {
	"confirm that you are", "verify that you are", "prove that you are",
	"confirm you are a human", "confirm you are human", "not a robot",
	"challenge-response", "challenge/response", "please confirm your",
	"approve your message", "pending delivery", "spam arrest",
	"spamarrest", "boxbe", "mailblocks", "tmda",
	"verify your message", "confirm your message",
	"protected by bluebottle", "boxtrapper", "choicemail",
	NULL
};

/*
 * What the machine-written text of a feedback (abuse) report says, lower
 * case: RFC 5965 generators, AOL's pre-ARF scomp, X-ARF, DMARC failure
 * reports ("This is an authentication failure report for an email
 * message received from IP ...").
 */
static const char *const feedback_text[] = {
	"this is an email abuse report",
	"abuse report for an email message",
	"report for an email message received from",
	"autogenerated email abuse complaint",
	NULL
};

/* An ASCII lower-case copy of (p, n), for phrase_scan(). */
static char *
lower_copy(const char *p, size_t n)
{
	char	*lc = xmalloc(n + 1);
	size_t	 i;

	for (i = 0; i < n; i++)
		lc[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
	lc[n] = '\0';
	return lc;
}

/* Markers after which the returned copy follows. */
static const char *const copy_markers[] = {
	"below this line is a copy of the message",
	"this is a copy of the message",
	"original message headers",
	"returned message",
	"returned mail follows",
	"original message follows",
	"unsent message below",
	"header of the original message",
	"headers of the original message",
	"original message",
	"message headers follow",
	"the message that caused",
	"---- start of ",
	"included is a copy",
	"copy of the original",
	"copy of your message",
	"your message reads",
	"bounced e-mail",
	"the header of the message",
	"original mail as follows",
	"message text follows",
	"content of the original message",
	"returned mail",
	NULL
};

/*
 * The phrase lists of scan_text() searched in one pass over text already
 * folded to lower case.  A 4096-entry filter on the first four bytes of
 * each position says which lists have a phrase starting so; only there
 * are phrases compared (every phrase has at least four bytes).  A pass
 * costs a few instructions a byte, against a memmem over the whole text
 * for each of the 111 phrases.
 */
#define PL_BOUNCE	1
#define PL_CHALLENGE	2
#define PL_COPY		4
#define PL_FEEDBACK	8
#define PL_ALL		(PL_BOUNCE | PL_CHALLENGE | PL_COPY | PL_FEEDBACK)
#define PL_READY	0x80	/* in pl_filter[0]: the filter is built */

/* one page: the flag that it is built is in it, not on a page of its own */
static unsigned char	 pl_filter[4096] __attribute__((aligned(4096)));

static unsigned
pl_hash(const char *s)
{
	uint32_t k;

	memcpy(&k, s, 4);
	return (unsigned)((k * 2654435761u) >> 20);
}

static const char *const *
pl_list(unsigned bit)
{
	return bit == PL_BOUNCE ? bounce_text : bit == PL_CHALLENGE ?
	    challenge_text : bit == PL_COPY ? copy_markers : feedback_text;
}

static void
pl_init(void)
{
	const char *const *l;
	unsigned	 bit;
	size_t		 i;

	for (bit = PL_BOUNCE; bit <= PL_FEEDBACK; bit <<= 1)
		for (l = pl_list(bit), i = 0; l[i] != NULL; i++)
			if (strlen(l[i]) >= 4)
				pl_filter[pl_hash(l[i])] |= (unsigned char)bit;
	pl_filter[0] |= PL_READY;
}

/* Does a phrase of list start at s (n bytes left)? */
static int
pl_at(const char *s, size_t n, const char *const *list)
{
	size_t	 i, k;

	for (i = 0; list[i] != NULL; i++)
		if (list[i][0] == s[0] && list[i][1] == s[1] &&
		    list[i][2] == s[2] && list[i][3] == s[3] &&
		    (k = strlen(list[i])) <= n && memcmp(s, list[i], k) == 0)
			return 1;
	return 0;
}

/*
 * Which lists have a phrase in lc (PL_ bits); *copy_r: where the earliest
 * copy marker starts, or NULL.
 */
static unsigned
phrase_scan(const char *lc, size_t n, const char **copy_r)
{
	unsigned	 want = PL_ALL, f, bit;
	size_t		 i;

	*copy_r = NULL;
	if (!(pl_filter[0] & PL_READY))
		pl_init();
	for (i = 0; i + 3 < n && want != 0; i++) {
		if ((f = pl_filter[pl_hash(lc + i)] & want) == 0)
			continue;
		for (bit = PL_BOUNCE; f != 0 && bit <= PL_FEEDBACK; bit <<= 1)
			if ((f & bit) && pl_at(lc + i, n - i, pl_list(bit))) {
				want &= ~bit;
				f &= ~bit;
				if (bit == PL_COPY)
					*copy_r = lc + i;
			}
	}
	return PL_ALL & ~want;
}

/*
 * Copy (p, n) with CRLF and lone CR made LF.  The copy is at most n bytes.
 */
static char *
normalize(const char *p, size_t n, size_t *len_r)
{
	char		*out = xmalloc(n + 1);
	const char	*cr;
	size_t		 i = 0, o = 0, k;

	/* runs without a CR are copied whole (all of LF-only mail) */
	while (i < n) {
		cr = memchr(p + i, '\r', n - i);
		k = (cr ? (size_t)(cr - p) : n) - i;
		memcpy(out + o, p + i, k);
		o += k;
		i += k;
		if (cr == NULL)
			break;
		out[o++] = '\n';
		i++;
		if (i < n && p[i] == '\n')
			i++;
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

/*
 * Cut the text before the LIM_COMPOSITE'th header field announcing a
 * multipart or message part: libetpan recurses once per such part.  The
 * field may be folded ("Content-Type:\n multipart/mixed") or have blanks
 * before its colon; libetpan reads both.  libetpan also recurses once per
 * nested comment, "((((...": cut before a field nested LIM_COMMENT deep
 * (hostile input: 150000 '(' overflowed an 8 MB stack).
 */
static size_t
guard_nesting(const char *p, size_t n)
{
	const char *q = p, *end = p + n, *nl, *field = p, *s;
	int	 composite = 0, depth = 0;

	while (q < end) {
		nl = memchr(q, '\n', (size_t)(end - q));
		if (nl == NULL)
			nl = end;
		if (*q != ' ' && *q != '\t') {
			field = q;
			depth = 0;
		}
		/* nothing to count on a line without '(' and no comment open */
		if (depth > 0 || memchr(q, '(', (size_t)(nl - q)) != NULL) {
			for (s = q; s < nl; s++)
				if (*s == '(' && ++depth >= LIM_COMMENT)
					return (size_t)(field - p);
				else if (*s == ')' && depth > 0)
					depth--;
		}
		if (ascii_prefix(q, (size_t)(nl - q), "content-type")) {
			const char *v = q + 12, *fe = nl;
			size_t vn;

			while (v < nl && (*v == ' ' || *v == '\t'))
				v++;
			/* the value with its continuation lines */
			while (fe + 1 < end && (fe[1] == ' ' || fe[1] == '\t') &&
			    (s = memchr(fe + 1, '\n', (size_t)(end - fe - 1))) !=
			    NULL)
				fe = s;
			vn = (size_t)(fe - v);
			if (v < nl && *v == ':' &&
			    (ascii_memmem_ci(v, vn, "multipart") != NULL ||
			    ascii_memmem_ci(v, vn, "message/") != NULL))
				if (++composite >= LIM_COMPOSITE)
					return (size_t)(q - p);
		}
		q = nl + 1;
	}
	return n;
}

static void
set_id(struct cls *c, enum trust tr, const char *id, const char *where)
{
	if (tr <= c->trust || id[0] == '\0')
		return;
	c->trust = tr;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->where, sizeof(c->where), "%s", where);
	trace_add(c->t, "    candidate %s from %s\n", id, where);
}

/* Keep the header block of the best returned copy, for relays. */
static void
set_orig_hdr(struct cls *c, enum trust tr, const char *p, size_t n)
{
	if (tr == c->trust) {
		c->orig_hdr = p;
		c->orig_hdr_len = n;
	}
}

/* Keep a decoded text until the end of classification. */
static void
keep_decoded(struct cls *c, char *p)
{
	if (c->ndecoded == c->decap) {
		c->decap = c->decap ? c->decap * 2 : 16;
		c->decoded = xrealloc(c->decoded,
		    (size_t)c->decap * sizeof(*c->decoded));
	}
	c->decoded[c->ndecoded++] = p;
}

/*
 * Counterpart addresses.  One mechanism for every kind of report: an
 * address is whatever reads as local@domain.tld around an '@' (in <>,
 * bare, after "rfc822;", in a comment or a quoted local part, 8-bit
 * bytes kept), taken from the places a report names the failed
 * recipients: the DSN per-recipient fields, X-Failed-Recipients, the
 * recipient lines of the text before the returned copy (qmail's
 * "<addr>:", Exim's and Sendmail's address lines, Postfix's "<addr>:
 * host said", Exchange's "The following recipients"...), the returned
 * original's To/Cc; for an auto-reply, the replier.  The report's own
 * addresses (the user, the daemon) and the mail system's role addresses
 * are never counterparts.
 */
enum cp_list {
	CP_SELF,	/* the report's own addresses (at most CP_SELF_MAX) */
	CP_DSN,		/* DSN fields */
	CP_TEXT,	/* the report's text */
	CP_RET,		/* To/Cc after a copy marker, no Message-ID there */
	CP_NLISTS
};
#define CP_SELF_MAX	16

/*
 * The lists share one array, appended to as addresses are found, each
 * entry tagged with its list; each list is deduplicated and bounded on
 * its own.  The counts and the first entries share a page of these
 * 30 KiB: four arrays, each filled from its start, touched four pages,
 * and each page first written costs a fault (~10 us on a virtual
 * machine).
 */
struct cparts {
	size_t		 n[CP_NLISTS];
	size_t		 nall;
	struct cp_entry {
		unsigned char	 list;		/* enum cp_list */
		struct extract_addr a;
	} all[CP_SELF_MAX + 3 * EXTRACT_MAX_ADDRS];
};

#define TEXT_ADDR_SCAN	(64u * 1024)	/* text bytes read for addresses */

static int
alnum8(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch >= 0x80;
}

/* atext of RFC 5322 3.2.3, less what text puts around addresses (/?&|{}`) */
static int
local_char(unsigned char ch)
{
	return alnum8(ch) || (ch != '\0' && strchr("!#$%'*+-=^_~.", ch) !=
	    NULL);
}

static int
domain_char(unsigned char ch)
{
	return alnum8(ch) || ch == '-' || ch == '.';
}

/* A domain of at least two labels, the last one not all digits. */
static int
domain_ok(const char *d, size_t n)
{
	size_t	 i, lab = 0, last = 0;
	int	 dots = 0, alpha = 0;

	if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (d[i] == '.') {
			if (lab == 0)
				return 0;
			dots++;
			lab = 0;
			alpha = 0;
			last = i + 1;
			continue;
		}
		lab++;
		if (!(d[i] >= '0' && d[i] <= '9') && d[i] != '-')
			alpha = 1;
	}
	return dots > 0 && lab > 0 && n - last >= 2 && alpha;
}

/*
 * What servers write before an address to say its type: "smtp=bob@x",
 * "SMTP:bob@x", "rfc822;bob@x", "to=bob@x".  The first
 * ADDR_TYPES_COLON also before ':' or ';', the others only before '='
 * ("To:" and "Recipient:" are labels).
 */
static const char *const addr_types[] = {
	"smtp", "rfc822", "mailto", "x400", "utf-8",
	"email", "e-mail", "mail", "to", "rcpt", "recipient", "address",
	"addr", "user", "orcpt", NULL
};
#define ADDR_TYPES_COLON	5

/*
 * Past the prefix a server puts before an address with '=', which is
 * also a character of local parts: "smtp=bob@x", "rfc822=bob@x",
 * "to=bob@x" (":" and ";" end a local part already: "SMTP:bob@x",
 * "RFC822;bob@x").  l: the local part's start, at: its '@'.
 */
static const char *
addr_prefix(const char *l, const char *at)
{
	const char *const *pfx = addr_types;
	const char	*eq = memchr(l, '=', (size_t)(at - l));
	size_t		 i, k;

	if (eq == NULL || eq + 1 == at)
		return l;
	k = (size_t)(eq - l);
	for (i = 0; pfx[i] != NULL; i++)
		if (strlen(pfx[i]) == k && ascii_casecmp_n(l, pfx[i], k) == 0)
			return eq + 1;
	return l;
}

/*
 * The recipients a message's header names -- To, Cc, Bcc and their
 * Resent- forms, unfolded, RFC 2047 words decoded -- each given to fn as
 * extract_addrs() gives it.  What the sent index and record read of a
 * message the user sent.
 */
void
extract_header_rcpts(struct slice hb,
    int (*fn)(void *, const char *, size_t, size_t), void *arg)
{
	static const char *const fields[] = {
		"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"
	};
	struct slice	 cur = hb, nm, v;
	char		*val = xmalloc(LIM_FIELD_BYTES);
	size_t		 i;

	while (hdr_next(&cur, &nm, &v))
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (nm.n == strlen(fields[i]) &&
			    ascii_casecmp_n(nm.p, fields[i], nm.n) == 0) {
				hdr_unfold(v, val, LIM_FIELD_BYTES);
				hdr_decode_words(val, LIM_FIELD_BYTES);
				extract_addrs(val, strlen(val), fn, arg);
			}
	free(val);
}

/*
 * Call fn(arg, address, start, end) for every address in (p, n), the
 * address in lower case (ASCII letters; 8-bit bytes as they are), start
 * and end its bytes in p.  fn returning -1 stops.  Returns the number
 * of addresses found.
 */
int
extract_addrs(const char *p, size_t n,
    int (*fn)(void *, const char *, size_t, size_t), void *arg)
{
	const char	*at = p, *end = p + n, *l, *r;
	char		 addr[LIM_ADDR + 1];
	size_t		 k, i;
	int		 found = 0;

	while (at < end && (at = memchr(at, '@', (size_t)(end - at))) !=
	    NULL) {
		l = at;
		if (l > p && l[-1] == '"') {
			/* "quoted local part"@domain */
			for (l = at - 2; l >= p && *l != '"' && *l != '\n';
			    l--)
				;
			if (l < p || *l != '"') {
				at++;
				continue;
			}
		} else {
			while (l > p && local_char((unsigned char)l[-1]))
				l--;
			/* the text's punctuation: 'bob@x', .bob@x, =bob@x */
			while (l < at && !alnum8((unsigned char)*l) &&
			    *l != '_')
				l++;
			l = addr_prefix(l, at);
		}
		r = at + 1;
		while (r < end && domain_char((unsigned char)*r))
			r++;
		while (r > at + 1 && (r[-1] == '.' || r[-1] == '-'))
			r--;
		k = (size_t)(r - l);
		if (l == at || at[-1] == '.' || at - l > 64 ||
		    k > LIM_ADDR || !domain_ok(at + 1, (size_t)(r - at - 1))) {
			at++;
			continue;
		}
		for (i = 0; i < k; i++)
			addr[i] = (l[i] >= 'A' && l[i] <= 'Z') ?
			    (char)(l[i] + 32) : l[i];
		addr[k] = '\0';
		found++;
		if (fn(arg, addr, (size_t)(l - p), (size_t)(r - p)) == -1)
			break;
		at = r;
	}
	return found;
}

const char *
extract_addr_source(int src)
{
	switch (src) {
	case AS_ORIGINAL_RCPT:
		return "Original-Recipient";
	case AS_FINAL_RCPT:
		return "Final-Recipient";
	case AS_FAILED_RCPTS:
		return "X-Failed-Recipients";
	case AS_COMPLAINANT:
		return "the complainant named by a feedback report";
	case AS_NOTIFIED:
		return "a recipient field of a JSON notification";
	case AS_RETURNED:
		return "the returned original's To/Cc";
	case AS_REPLIER:
		return "the replier (From/Reply-To)";
	case AS_TEXT:
		return "a recipient line of the report's text";
	case AS_TEXT_MENTION:
		return "named in the report's text";
	default:
		return "?";
	}
}

/* Add addr to a bounded, duplicate-free list; the first source stays. */
static void
addr_add(struct extract_addr *list, size_t *n, const char *addr, int src)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (strcmp(list[i].addr, addr) == 0)
			return;
	if (*n == EXTRACT_MAX_ADDRS || strlen(addr) > LIM_ADDR)
		return;
	snprintf(list[*n].addr, sizeof(list[*n].addr), "%s", addr);
	list[(*n)++].src = (unsigned char)src;
}

/* The role addresses of mail systems: never a counterpart in text. */
static int
role_addr(const char *a)
{
	static const char *const roles[] = {
		"postmaster@", "mailer-daemon@", "mailer_daemon@",
		"maildaemon@", "mail-daemon@", "mdaemon@", "mailerdaemon@",
		"root@", "abuse@", "hostmaster@", "noreply@", "no-reply@",
		"donotreply@", "do-not-reply@", "nobody@", "bounce",
		"bounces@", "double-bounce@", "mailman-bounces@",
		NULL
	};
	size_t	 i;

	for (i = 0; roles[i] != NULL; i++)
		if (strncmp(a, roles[i], strlen(roles[i])) == 0)
			return 1;
	return 0;
}

/* Is a on list l of cp? */
static int
cp_has(const struct cparts *cp, int l, const char *a)
{
	size_t	 i;

	for (i = 0; i < cp->nall; i++)
		if (cp->all[i].list == l && strcmp(cp->all[i].a.addr, a) == 0)
			return 1;
	return 0;
}

/*
 * Add a to list l of cp, as addr_add() adds to an array; named again with
 * a more trusted source (a recipient line after a mention), it takes that.
 */
static void
cp_add(struct cparts *cp, int l, const char *a, int src)
{
	struct cp_entry *e;
	size_t		 n = strlen(a), i;

	for (i = 0; i < cp->nall; i++)
		if (cp->all[i].list == l && strcmp(cp->all[i].a.addr, a) == 0) {
			if (src < cp->all[i].a.src)
				cp->all[i].a.src = (unsigned char)src;
			return;
		}
	if (cp->n[l] == (l == CP_SELF ? CP_SELF_MAX : EXTRACT_MAX_ADDRS) ||
	    n > LIM_ADDR)
		return;
	e = &cp->all[cp->nall++];
	e->list = (unsigned char)l;
	memcpy(e->a.addr, a, n + 1);
	e->a.src = (unsigned char)src;
	cp->n[l]++;
}

static int
self_addr(const struct cparts *cp, const char *a)
{
	return cp_has(cp, CP_SELF, a);
}

/*
 * Is a the report's sender's own address, named in its From, Sender or
 * Return-Path (SELF_STRICT entries)?  The user's own address is never
 * taken from the report's text (self_addr()), but a machine field that
 * names it (Final-Recipient:, X-Failed-Recipients:, the returned To:) is
 * a bounce of the user's own mailbox or of mail to themselves; and the
 * report's Reply-To and X-Original-To are not that sure either (Exim's
 * errors_reply_to, DragonFly's mail agent copying the original's
 * X-Original-To, the failed recipient, into its bounce).
 */
#define SELF_STRICT	AS_NONE
#define SELF_LOOSE	1
static int
self_strict(const struct cparts *cp, const char *a)
{
	size_t	 i;

	for (i = 0; i < cp->nall; i++)
		if (cp->all[i].list == CP_SELF &&
		    cp->all[i].a.src == SELF_STRICT &&
		    strcmp(cp->all[i].a.addr, a) == 0)
			return 1;
	return 0;
}

/* An unfolded field value, its encoded words decoded, into buf. */
static void
field_text(struct slice v, char *buf, size_t bufsz)
{
	hdr_unfold(v, buf, bufsz);
	hdr_decode_words(buf, bufsz);
}

/* Where extract_addrs() puts what it finds: an array, or a cparts list. */
struct addr_sink {
	struct extract_addr *list;	/* list and n, or */
	size_t		*n;
	struct cparts	*to;		/* to's list tolist */
	int		 tolist;
	int		 src;
	struct cparts	*cp;		/* skip the report's own, or NULL */
};

static struct addr_sink
sink_list(struct extract_addr *list, size_t *n, int src)
{
	struct addr_sink k = { list, n, NULL, 0, src, NULL };

	return k;
}

static struct addr_sink
sink_cp(struct cparts *to, int tolist, int src)
{
	struct addr_sink k = { NULL, NULL, to, tolist, src, NULL };

	return k;
}

static int
sink_add(void *arg, const char *a, size_t s, size_t e)
{
	struct addr_sink *k = arg;

	(void)s;
	(void)e;
	if (k->cp != NULL && self_addr(k->cp, a))
		return 0;
	if (k->to != NULL)
		cp_add(k->to, k->tolist, a, k->src);
	else
		addr_add(k->list, k->n, a, k->src);
	return 0;
}

/* Lines that name the sender, an id or a path, never a recipient. */
static const char *const not_rcpt_line[] = {
	"message-id", "message id", "msgid", "in-reply-to", "references:",
	"mail from", "from:", "sender", "return-path", "reply-to",
	"envelope-from", "mailfrom", " id ", "id=", "id <", "helo",
	"received:", NULL
};

/*
 * Words of a clause that make the address in it an example, advice or
 * help, not a failed recipient: "if mike.fox@... fails, try ...",
 * "please contact helpdesk@...", "my mail to ... bounced" (a person).
 */
static const char *const prose_word[] = {
	"if", "try", "please", "contact", "help", "helpdesk", "support",
	"assistance", "question", "questions", "visit", "click", "call",
	"phone", "instead", "alternatively", "i", "i'm", "i've",
	"my", "me", "we", "our", "unsubscribe", "subscribe", NULL
};

/* Labels ("Contact: x") of help and signature lines, not recipients. */
static const char *const help_label[] = {
	"contact", "phone", "tel", "fax", "web", "www", "url", "website",
	"help", "helpdesk", "support", "admin", "administrator", "postmaster",
	"abuse", "info", "information", "questions", "question", "email",
	"mail", "cc", "bcc", NULL
};

/* Words that name a recipient, at the end of what precedes an address. */
static const char *const rcpt_word[] = {
	"to", "for", "recipient", "recipients", "rcpt", "address", "addresses",
	"addressee", "user", "mailbox", "destination", "destinataire",
	"destinataires", "destinatario", "destinatari", "empf\xc3\xa4nger",
	"an", "failed", "undeliverable", "zugestellt", "remis", NULL
};

/*
 * What a clause that states a delivery failure says, lower case, matched
 * anywhere ("fail" in "failed", "failure"; not "full", which is in
 * "successfully").
 */
static const char *const fail_word[] = {
	"fail", "could not", "couldn't", "cannot", "can't", "unable",
	"undeliver", "not deliver", "n't deliver", "not be deliver",
	"reject", "refused", "denied", "unknown", "no such", "not exist",
	"n't exist", "invalid", "unavailable", "not found", "is full",
	"box full", "full mailbox", "quota", "error", "permanent", "bounce",
	"blocked", "disabled", "inactive", "expired", "timed out", "timeout",
	"not listed", "not reach", "no longer", "unreachable", "unroutable",
	"not recogni", "not accept", "delayed", "nicht", "impossible",
	"remis", "zustell", "recapit", "entreg", NULL
};

/*
 * An SMTP reply code, with or without an enhanced status code, is all
 * that stands before the address: Sendmail's "554 <addr>... Host
 * unknown", "550 5.1.1 <addr>... User unknown".
 */
static int
smtp_code(const char *p, size_t n)
{
	size_t	 i;

	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9')
		return 0;
	if (n == 3)
		return 1;
	if (p[3] != ' ' && p[3] != '-')
		return 0;
	/* " 5.1.1": a class digit, then dots and digits only */
	for (i = 4; i < n && p[i] == ' '; i++)
		;
	if (i == n)
		return 1;
	if (p[i] < '2' || p[i] > '5' || i + 1 >= n || p[i + 1] != '.')
		return 0;
	for (i += 2; i < n; i++)
		if ((p[i] < '0' || p[i] > '9') && p[i] != '.')
			return 0;
	return 1;
}

static int
word_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '\'' || ch >= 0x80;
}

/*
 * Is one of the words of list a whole word of lower-case (p, n)?  The
 * parts of an address or a host name ("example" in bob@example.org) are
 * not words.
 */
static int
has_word(const char *p, size_t n, const char *const *list)
{
	size_t	 i, j, k;

	for (i = 0; i < n; i = j + 1) {
		while (i < n && !word_char((unsigned char)p[i]))
			i++;
		for (j = i; j < n && word_char((unsigned char)p[j]); j++)
			;
		if (j == i)
			break;
		if ((i > 0 && (p[i - 1] == '@' || p[i - 1] == '.')) ||
		    (j < n && (p[j] == '@' || (p[j] == '.' && j + 1 < n &&
		    word_char((unsigned char)p[j + 1])))))
			continue;
		for (k = 0; list[k] != NULL; k++)
			if (strlen(list[k]) == j - i &&
			    memcmp(p + i, list[k], j - i) == 0)
				return 1;
	}
	return 0;
}

/* The last word of lower-case (p, n), in list? */
static int
last_word(const char *p, size_t n, const char *const *list)
{
	size_t	 i = n;

	while (i > 0 && !word_char((unsigned char)p[i - 1]))
		i--;
	n = i;
	while (i > 0 && word_char((unsigned char)p[i - 1]))
		i--;
	return n > i && has_word(p + i, n - i, list);
}

/*
 * Does lower-case (p, n) state a failure: a phrase of fail_word, or an
 * SMTP reply or enhanced status code ("550", "5.1.1")?
 */
static int
says_failure(const char *p, size_t n)
{
	size_t	 i, k;

	for (i = 0; fail_word[i] != NULL; i++)
		if ((k = strlen(fail_word[i])) <= n &&
		    memmem(p, n, fail_word[i], k) != NULL)
			return 1;
	for (i = 0; i + 3 <= n; i++)
		if ((p[i] == '4' || p[i] == '5') && (i == 0 ||
		    !word_char((unsigned char)p[i - 1])) &&
		    ((p[i + 1] >= '0' && p[i + 1] <= '9' && i + 2 < n &&
		    p[i + 2] >= '0' && p[i + 2] <= '9') || (p[i + 1] == '.' &&
		    p[i + 2] >= '0' && p[i + 2] <= '9')) && (i + 3 == n ||
		    !word_char((unsigned char)p[i + 3]) || p[i + 1] == '.'))
			return 1;
	return 0;
}

/* A lower-case copy of the line (p + ls, le - ls), at most sz - 1 bytes. */
static size_t
lower_line(const char *p, size_t ls, size_t le, char *lc, size_t sz)
{
	size_t	 i, k = le - ls < sz - 1 ? le - ls : sz - 1;

	for (i = 0; i < k; i++)
		lc[i] = (p[ls + i] >= 'A' && p[ls + i] <= 'Z') ?
		    (char)(p[ls + i] + 32) : p[ls + i];
	lc[k] = '\0';
	return k;
}

struct text_scan {
	struct cls	*c;
	const char	*p;
	size_t		 n;
	size_t		 prev_e;	/* end of the last address taken */
	int		 prev_src;	/* and how it was taken, or 0 */
};

/*
 * The line next to line (ls, le) in direction dir (-1, +1), skipping at
 * most one blank line: its bounds, 0 when there is none.
 */
static int
near_line(const struct text_scan *ts, size_t ls, size_t le, int dir,
    size_t *s_r, size_t *e_r)
{
	size_t	 s, e;
	int	 blank;

	for (blank = 0; blank < 2; blank++) {
		if (dir < 0) {
			if (ls == 0)
				return 0;
			e = ls - 1;
			for (s = e; s > 0 && ts->p[s - 1] != '\n'; s--)
				;
		} else {
			if (le >= ts->n)
				return 0;
			s = le + 1;
			for (e = s; e < ts->n && ts->p[e] != '\n'; e++)
				;
		}
		if (e > s) {
			*s_r = s;
			*e_r = e;
			return 1;
		}
		ls = le = s;
	}
	return 0;
}

/*
 * An address that starts its line is a failed recipient where the report
 * lists them: the line says why it failed ("<addr>: host said: 550 ...",
 * "<addr>... User unknown"), or the line before introduces the list ("The
 * following address(es) failed:", "was not delivered to:") or is one
 * of the list, or the line after it, indented, gives the reason (Exim,
 * Exchange).  Alone, it is a mention (a signature, a list of names).
 */
static int
listed(const struct text_scan *ts, size_t ls, size_t le, size_t e)
{
	char	 lc[256];
	size_t	 k, s2, e2, i;

	k = lower_line(ts->p, e, le, lc, sizeof(lc));
	for (i = 0; i < k && strchr(" \t>\"')]", lc[i]) != NULL; i++)
		;
	if ((i < k && (lc[i] == ':' || lc[i] == '.')) || says_failure(lc, k))
		return 1;
	if (near_line(ts, ls, le, -1, &s2, &e2)) {
		/* the list goes on: the line before named a recipient */
		if (ts->prev_src == AS_TEXT && ts->prev_e > s2 &&
		    ts->prev_e <= e2)
			return 1;
		k = lower_line(ts->p, s2, e2, lc, sizeof(lc));
		while (k > 0 && (lc[k - 1] == ' ' || lc[k - 1] == '\t'))
			k--;
		if (((k > 0 && lc[k - 1] == ':') || says_failure(lc, k)) &&
		    !has_word(lc, k, prose_word))
			return 1;
	}
	if (near_line(ts, ls, le, 1, &s2, &e2) && (ts->p[s2] == ' ' ||
	    ts->p[s2] == '\t')) {
		k = lower_line(ts->p, s2, e2, lc, sizeof(lc));
		if (says_failure(lc, k))
			return 1;
	}
	return 0;
}

/*
 * Is the address at s (on a line from ls) inside a link: a URL, a
 * "mailto:", a query ("?user=addr&...") before it in the same word?
 * Help pages and unsubscribe links, never a failed recipient.  Outlook's
 * "bob@x<mailto:bob@x>" names bob@x first, then in its link.
 */
static int
in_link(const char *p, size_t ls, size_t s)
{
	size_t	 ts = s;

	while (ts > ls && p[ts - 1] != ' ' && p[ts - 1] != '\t')
		ts--;
	return ascii_memmem_ci(p + ts, s - ts, "://") != NULL ||
	    ascii_memmem_ci(p + ts, s - ts, "mailto:") != NULL ||
	    ascii_memmem_ci(p + ts, s - ts, "www.") != NULL ||
	    memchr(p + ts, '?', s - ts) != NULL ||
	    memchr(p + ts, '&', s - ts) != NULL;
}

/*
 * The length of (p, n) less an address type right before the address:
 * "smtp=", "SMTP:", "RFC822;", "rfc822=" (addr_types), as in "Recipient:
 * SMTP:bob@x", and the blanks before it.
 */
static size_t
type_prefix(const char *p, size_t n)
{
	size_t	 i, k;

	if (n == 0 || (p[n - 1] != '=' && p[n - 1] != ':' && p[n - 1] != ';'))
		return n;
	for (i = n - 1; i > 0 && (word_char((unsigned char)p[i - 1]) ||
	    p[i - 1] == '-'); i--)
		;
	/* "To:", "Recipient:" are labels; "to=", "recipient=" prefixes */
	for (k = 0; addr_types[k] != NULL; k++)
		if (strlen(addr_types[k]) == n - 1 - i &&
		    memcmp(p + i, addr_types[k], n - 1 - i) == 0 &&
		    (p[n - 1] == '=' || k < ADDR_TYPES_COLON))
			break;
	if (addr_types[k] == NULL)
		return n;
	while (i > 0 && (p[i - 1] == ' ' || p[i - 1] == '\t'))
		i--;
	return i;
}

/*
 * How the report's text names the address at (s, e) of line (ls, le):
 * AS_TEXT where it names a failed recipient, AS_TEXT_MENTION where it
 * only mentions it, 0 where it is prose, help or a link.
 */
static int
text_context(struct text_scan *ts, size_t ls, size_t le, size_t s,
    size_t e)
{
	char		 lc[512];
	const char	*pre, *post, *q;
	size_t		 k, pn, qn, i;

	k = lower_line(ts->p, ls, le, lc, sizeof(lc));
	if (s - ls >= k)
		return AS_TEXT_MENTION;	/* past a long line's start */
	for (i = 0; not_rcpt_line[i] != NULL; i++)
		if (memmem(lc, k, not_rcpt_line[i], strlen(not_rcpt_line[i])) !=
		    NULL)
			return 0;
	if (in_link(ts->p, ls, s))
		return 0;
	/* a list on one line: "Recipients: a@x, b@y" as its first one */
	if (ts->prev_src != 0 && ts->prev_e >= ls && ts->prev_e <= s) {
		for (i = ts->prev_e; i < s && strchr(" \t,;<>\"'", ts->p[i]);
		    i++)
			;
		if (i == s)
			return ts->prev_src;
	}
	/* the sentence before the address, and its last clause */
	pre = lc;
	for (q = lc; q + 1 < lc + (s - ls); q++)
		if ((*q == '.' || *q == '?' || *q == '!') && q[1] == ' ')
			pre = q + 2;
	pn = (size_t)(lc + (s - ls) - pre);
	for (q = pre + pn; q > pre && !(q[-1] == ' ' && q - 1 > pre &&
	    q[-2] == ','); q--)
		;
	qn = (size_t)(pre + pn - q);
	/* what follows, to the end of its clause */
	post = lc + (e - ls < k ? e - ls : k);
	for (i = 0; post + i < lc + k && post[i] != ',' && !((post[i] == '.' ||
	    post[i] == '?' || post[i] == '!') && (post + i + 1 == lc + k ||
	    post[i + 1] == ' ')); i++)
		;
	if (has_word(q, qn, prose_word) || has_word(post, i, prose_word))
		return 0;
	/* strip quoting, bullets, the brackets around the address and its
	 * type ("smtp=", "SMTP:": type_prefix()) */
	while (pn > 0 && strchr(" \t<\"'([", pre[pn - 1]) != NULL)
		pn--;
	pn = type_prefix(pre, pn);
	while (pn > 0 && strchr(" \t>|-*", *pre) != NULL) {
		pre++;
		pn--;
	}
	if (pn == 0)
		return listed(ts, ls, le, e) ? AS_TEXT : AS_TEXT_MENTION;
	if (smtp_code(pre, pn))
		return AS_TEXT;
	if (pre[pn - 1] == ':' || pre[pn - 1] == ';') {
		/* "Recipient: a@x", "was not delivered to: a@x"; not
		 * "Contact: help@x"; "Assistant: a@x" a mention */
		if (has_word(pre, pn, rcpt_word) || says_failure(pre, pn))
			return AS_TEXT;
		return has_word(pre, pn, help_label) ? 0 : AS_TEXT_MENTION;
	}
	/* "Delivery to a@x failed": the sentence says it failed */
	if (last_word(pre, pn, rcpt_word) && (says_failure(pre, pn) ||
	    says_failure(post, (size_t)(lc + k - post))))
		return AS_TEXT;
	return AS_TEXT_MENTION;
}

static int
text_addr(void *arg, const char *a, size_t s, size_t e)
{
	struct text_scan *ts = arg;
	struct cparts	*cp = ts->c->cp;
	size_t		 ls = s, le = e;
	int		 src;

	if (self_addr(cp, a) || role_addr(a))
		return 0;
	if (cp->n[CP_TEXT] == EXTRACT_MAX_ADDRS)
		return -1;
	while (ls > 0 && ts->p[ls - 1] != '\n')
		ls--;
	while (le < ts->n && ts->p[le] != '\n')
		le++;
	if ((src = text_context(ts, ls, le, s, e)) == 0) {
		ts->prev_src = 0;
		return 0;
	}
	ts->prev_src = src;
	ts->prev_e = e;
	if (src == AS_TEXT)
		ts->c->rcpt_lines++;
	cp_add(cp, CP_TEXT, a, src);
	return 0;
}

/*
 * The addresses of a report's text, up to the returned copy and before a
 * signature ("-- " on its own line).
 */
static void
text_counterparts(struct cls *c, const char *p, size_t n)
{
	struct text_scan ts;
	const char	*sig;

	if (n > TEXT_ADDR_SCAN)
		n = TEXT_ADDR_SCAN;
	if ((sig = memmem(p, n, "\n-- \n", 5)) != NULL ||
	    (sig = memmem(p, n, "\n--\n", 4)) != NULL)
		n = (size_t)(sig - p);
	memset(&ts, 0, sizeof(ts));
	ts.c = c;
	ts.p = p;
	ts.n = n;
	extract_addrs(p, n, text_addr, &ts);
}

/*
 * The To: and Cc: lines of a returned header pasted after a copy marker
 * ("Original Message:", quoted or indented), read even when that header
 * has no Message-ID (a Verizon or Notes report returns just From, To,
 * Subject): the first run of field lines, at most 100 lines.
 */
static void
marker_counterparts(struct cls *c, const char *p, size_t n)
{
	const char	*q = p, *end = p + n, *nl, *f;
	size_t		 pl, fn;
	int		 quotes, lines = 0, fields = 0;
	struct addr_sink sk;

	if (c->cp == NULL)
		return;
	sk = sink_cp(c->cp, CP_RET, AS_RETURNED);
	for (; q < end && lines < 100; q = nl + 1, lines++) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		pl = prefix_len(q, (size_t)(nl - q), &quotes);
		f = q + pl;
		fn = (size_t)(nl - f);
		if (fn == 0) {
			if (fields > 0)
				break;
			continue;
		}
		if (!hdr_is_field_line(f, fn)) {
			if (fields > 0 && pl == 0)
				break;
			continue;
		}
		fields++;
		if (ascii_prefix(f, fn, "to:") || ascii_prefix(f, fn, "cc:"))
			extract_addrs(f + 3, fn - 3, sink_add, &sk);
		if (nl == end)
			break;
	}
}

/* Fields of a report part that name its recipients, and their source. */
struct rcpt_field {
	const char	*name;		/* lower case */
	int		 src;
};
static const struct rcpt_field dsn_fields[] = {
	{ "final-recipient", AS_FINAL_RCPT },
	{ "original-recipient", AS_ORIGINAL_RCPT },
	{ "x-actual-recipient", AS_FINAL_RCPT },
	{ NULL, 0 }
};
/* RFC 5965 3.2, RFC 6650 (opt-out reports) */
static const struct rcpt_field feedback_fields[] = {
	{ "original-rcpt-to", AS_COMPLAINANT },
	{ "removal-recipient", AS_COMPLAINANT },
	{ NULL, 0 }
};

/*
 * The per-recipient fields of a delivery-status, disposition or feedback
 * part: "Final-Recipient: rfc822; addr", "Original-Recipient: rfc822;addr",
 * "Original-Rcpt-To: addr", any address type, folded or not.
 */
static void
dsn_counterparts(struct cls *c, const char *p, size_t n,
    const struct rcpt_field *fields)
{
	const char	*q = p, *end = p + n, *nl, *v, *semi;
	char		 val[1024];
	size_t		 vl, k, i;
	struct addr_sink sk;

	if (c->cp == NULL)
		return;
	for (; q < end; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		for (i = 0; fields[i].name != NULL; i++)
			if (ascii_prefix(q, (size_t)(nl - q), fields[i].name))
				break;
		if (fields[i].name == NULL)
			continue;
		sk.src = fields[i].src;
		if ((v = memchr(q, ':', (size_t)(nl - q))) == NULL)
			continue;
		v++;
		vl = 0;
		/* the value and its continuation lines */
		for (;;) {
			/* room for k bytes, a blank and the NUL: a field
			 * folded past the buffer is cut (found by fuzzing:
			 * the old bound went negative once val was full) */
			k = (size_t)(nl - v);
			if (k > sizeof(val) - 2 - vl)
				k = sizeof(val) - 2 - vl;
			memcpy(val + vl, v, k);
			vl += k;
			val[vl++] = ' ';
			if (vl + 2 > sizeof(val) || nl + 1 >= end ||
			    (nl[1] != ' ' && nl[1] != '\t'))
				break;
			v = nl + 1;
			if ((nl = memchr(v, '\n', (size_t)(end - v))) == NULL)
				nl = end;
		}
		val[vl] = '\0';
		/* "rfc822;" (or utf-8, x400...): the address follows */
		semi = memchr(val, ';', vl);
		sk = sink_cp(c->cp, CP_DSN, sk.src);
		if (semi != NULL)
			extract_addrs(semi + 1, vl - (size_t)(semi + 1 - val),
			    sink_add, &sk);
		else
			extract_addrs(val, vl, sink_add, &sk);
		if (nl == end)
			break;
	}
}

/* Addresses of the named fields of a header block into list. */
static void
field_addrs(struct slice hb, const char *const *names, size_t nn,
    struct addr_sink sk)
{
	struct slice	 cur, nm, v;
	char		 buf[4096];
	size_t		 i;

	cur = hb;
	while (hdr_next(&cur, &nm, &v))
		for (i = 0; i < nn; i++)
			if (nm.n == strlen(names[i]) &&
			    ascii_casecmp_n(nm.p, names[i], nm.n) == 0) {
				field_text(v, buf, sizeof(buf));
				extract_addrs(buf, strlen(buf), sink_add, &sk);
			}
}

/*
 * "HH:MM" or "HH:MM:SS" of a Date: as sscanf("%ld:%ld:%ld") reads it (a
 * sign, digits): how many fields were read.  Numbers past 6 digits stay
 * at 999999, which no check lets through.  Not sscanf(): its 35 KiB of
 * scanner would be code every bounce faults in.
 */
static int
clock_fields(const char *t, long *hh, long *mm, long *ss)
{
	long	*f[3] = { hh, mm, ss }, v;
	int	 i, neg, digits;

	for (i = 0; i < 3; i++) {
		if (i > 0 && *t++ != ':')
			return i;
		neg = *t == '-';
		if (*t == '-' || *t == '+')
			t++;
		for (v = 0, digits = 0; *t >= '0' && *t <= '9'; t++, digits++)
			if (v < 999999)
				v = v * 10 + (*t - '0');
		if (digits == 0)
			return i;
		*f[i] = neg ? -v : v;
	}
	return 3;
}

/*
 * A date of RFC 5322 3.3, leniently: "[Day,] 1 Jan 2024 10:00[:00]
 * +0100", obsolete zone names, two-digit years.  Seconds since the
 * epoch, or 0 when it cannot be read.
 */
int64_t
extract_date(const char *s, size_t n)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const struct { const char *n; int off; } zones[] = {
		{ "ut", 0 }, { "gmt", 0 }, { "utc", 0 }, { "z", 0 },
		{ "est", -300 }, { "edt", -240 }, { "cst", -360 },
		{ "cdt", -300 }, { "mst", -420 }, { "mdt", -360 },
		{ "pst", -480 }, { "pdt", -420 }, { NULL, 0 }
	};
	const char	*p = s, *end = s + n, *w;
	char		 tok[16];
	long		 day = -1, mon = -1, year = -1, hh = -1, mm = 0, ss = 0;
	long		 off = 0, y, m, era, yoe, doy, doe, days;
	size_t		 k, i;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ',' ||
		    *p == '\n' || *p == '\r'))
			p++;
		w = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != ',' &&
		    *p != '\n' && *p != '\r')
			p++;
		k = (size_t)(p - w);
		if (k == 0)
			break;
		if (*w == '(')
			break;			/* a comment: the end */
		if (k >= sizeof(tok))
			k = sizeof(tok) - 1;
		for (i = 0; i < k; i++)
			tok[i] = (w[i] >= 'A' && w[i] <= 'Z') ?
			    (char)(w[i] + 32) : w[i];
		tok[k] = '\0';
		if (hh < 0 && strchr(tok, ':') != NULL) {
			if (clock_fields(tok, &hh, &mm, &ss) < 2)
				return 0;
		} else if (hh >= 0 && (tok[0] == '+' || tok[0] == '-') &&
		    k == 5) {
			long z = strtol(tok + 1, NULL, 10);

			off = (z / 100) * 60 + z % 100;
			if (tok[0] == '-')
				off = -off;
		} else if (hh >= 0) {
			for (i = 0; zones[i].n != NULL; i++)
				if (strcmp(tok, zones[i].n) == 0)
					off = zones[i].off;
		} else if (tok[0] >= '0' && tok[0] <= '9') {
			if (day < 0 && mon < 0)
				day = strtol(tok, NULL, 10);
			else if (year < 0)
				year = strtol(tok, NULL, 10);
		} else if (mon < 0 && k >= 3) {
			for (i = 0; i < 12; i++)
				if (memcmp(tok, months + 3 * i, 3) == 0)
					mon = (long)i + 1;
		}
	}
	if (day < 1 || day > 31 || mon < 1 || year < 0 || hh < 0 || hh > 23 ||
	    mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return 0;
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	if (year < 1970 || year > 9999)
		return 0;
	/* days from civil (H. Hinnant's algorithm) */
	y = mon <= 2 ? year - 1 : year;
	m = mon;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return (int64_t)days * 86400 + hh * 3600 + mm * 60 + ss -
	    (int64_t)off * 60;
}

/* Message-ID of a header block at the start of (p, n). */
static int
block_msgid(const char *p, size_t n, char *id, size_t idsz, size_t *hlen_r)
{
	struct slice	 blk, v;
	size_t		 hl;

	/* some NDRs leave blank lines before the returned header */
	while (n > 0 && (*p == '\n' || *p == ' ' || *p == '\t')) {
		const char *nl = memchr(p, '\n', n);

		if (nl == NULL)
			break;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	hl = hdr_block_len(p, n);
	blk.p = p;
	blk.n = hl;
	*hlen_r = hl;
	if (!hdr_find(blk, "Message-ID", &v))
		return 0;
	return hdr_msgid(v, id, idsz);
}

/* Field names that a returned header block is made of. */
static int
core_field(const char *p, size_t n)
{
#define F(s)	{ s, sizeof(s) - 1 }
	static const struct {
		const char	*name;
		size_t		 len;
	} names[] = {
		F("from"), F("to"), F("subject"), F("date"), F("received"),
		F("return-path"), F("mime-version"), F("content-type"),
		F("reply-to"), F("cc"), F("sender"), F("x-mailer"),
		F("in-reply-to"), F("references"), F("delivered-to"),
		F("user-agent"), F("dkim-signature"),
		F("content-transfer-encoding"), F("x-original-to"),
		F("list-unsubscribe"), F("authentication-results")
	};
#undef F
	size_t	 i;

	/* called for every field line of every pasted block: no strlen */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n == names[i].len &&
		    ascii_casecmp_n(p, names[i].name, n) == 0)
			return 1;
	return 0;
}

/* Skip the quote and indent prefix of a line: "> ", ">>", "| ", blanks. */
static size_t
prefix_len(const char *p, size_t n, int *quotes_r)
{
	size_t	 i = 0;
	int	 q = 0;

	while (i < n && (p[i] == '>' || p[i] == ' ' || p[i] == '\t' ||
	    p[i] == '|')) {
		if (p[i] == '>' || p[i] == '|')
			q++;
		i++;
	}
	*quotes_r = q;
	return i;
}

/*
 * The general mechanism for inline originals: find the first run of
 * header-like lines (quoted, indented or not) that holds a Message-ID and
 * at least one other field a message header is made of, and return that
 * Message-ID.  A lone "Message-ID:" line is taken only right after a
 * marker (some MTAs return just that line).
 */
static int
inline_block(const char *p, size_t n, int after_marker, char *id,
    size_t idsz, const char **blk_r, size_t *blkn_r)
{
	const char *q = p, *end = p + n, *nl, *c;
	const char *bstart = NULL;
	char	 val[LIM_MSGID * 2 + 2], got[LIM_MSGID + 1];
	size_t	 vl = 0, cn, pl;
	int	 core = 0, have_id = 0, inid = 0, bq = -1, quotes;
	int	 lines = 0, nonblank = 0;

	got[0] = '\0';
	for (; q <= end; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(end - q));
		if (nl == NULL)
			nl = end;
		pl = prefix_len(q, (size_t)(nl - q), &quotes);
		c = q + pl;
		cn = (size_t)(nl - c);
		if (bq >= 0 && quotes == bq && pl > 0 && cn > 0 &&
		    (q[pl - 1] == ' ' || q[pl - 1] == '\t') &&
		    !hdr_is_field_line(c, cn)) {
			/* continuation of the current field */
			if (inid && vl + cn + 1 < sizeof(val)) {
				val[vl++] = ' ';
				memcpy(val + vl, c, cn);
				vl += cn;
			}
		} else if (cn > 0 && hdr_is_field_line(c, cn) &&
		    (bq < 0 || quotes == bq)) {
			size_t k = (size_t)((const char *)memchr(c, ':', cn) -
			    c);

			if (bq < 0) {
				bq = quotes;
				bstart = q;
				core = have_id = 0;
			}
			if (inid) {
				struct slice s = { val, vl };

				have_id = hdr_msgid(s, got, sizeof(got));
				inid = 0;
			}
			if (k == 10 && ascii_casecmp_n(c, "message-id", 10) ==
			    0 && !have_id) {
				vl = cn - k - 1;
				if (vl >= sizeof(val))
					vl = sizeof(val) - 1;
				memcpy(val, c + k + 1, vl);
				inid = 1;
			} else if (core_field(c, k))
				core++;
		} else {
			/* the run ends here */
			if (inid) {
				struct slice s = { val, vl };

				have_id = hdr_msgid(s, got, sizeof(got));
				inid = 0;
			}
			if (have_id && (core >= 1 ||
			    (after_marker && nonblank <= 3))) {
				snprintf(id, idsz, "%s", got);
				*blk_r = bstart;
				*blkn_r = (size_t)(q - bstart);
				return 1;
			}
			bq = -1;
			have_id = core = 0;
			if (++lines > 200000)
				break;
		}
		if (bq < 0 && cn > 0)
			nonblank++;
		if (nl == end)
			break;
	}
	if (inid) {
		struct slice s = { val, vl };

		have_id = hdr_msgid(s, got, sizeof(got));
	}
	if (have_id && (core >= 1 || (after_marker && nonblank <= 3))) {
		snprintf(id, idsz, "%s", got);
		*blk_r = bstart;
		*blkn_r = (size_t)(end - bstart);
		return 1;
	}
	return 0;
}

/* Is (p, n) a message whose header is a bounce's (daemon, report)? */
static int
bounce_header(const char *p, size_t n)
{
	struct slice	 blk, v;
	char		 from[256], ct[256];
	int		 bounce = 0;

	blk.p = p;
	blk.n = hdr_block_len(p, n);
	if (hdr_find(blk, "From", &v)) {
		hdr_unfold(v, from, sizeof(from));
		bounce = daemon_from(from);
	}
	if (hdr_find(blk, "Content-Type", &v)) {
		hdr_unfold(v, ct, sizeof(ct));
		if (ascii_memmem_ci(ct, strlen(ct), "multipart/report"))
			bounce = 1;
	}
	return bounce;
}

/*
 * A pasted header block that is itself a bounce's (a report returned
 * inside a report, as some ISPs forward them): the original is the one
 * that inner bounce returns, so read it as a message of its own.
 */
static int
nested_bounce(struct cls *c, const char *p, size_t n, const char *where)
{
	struct cls	 in;
	char		 w[160];
	int		 i;

	if (c->nest >= 2 || !bounce_header(p, n))
		return 0;
	memset(&in, 0, sizeof(in));
	in.t = c->t;
	in.nest = c->nest + 1;
	in.cp = c->cp;
	memcpy(in.own, c->own, sizeof(in.own));
	trace_add(c->t, "    a bounce is pasted in %s: reading it\n", where);
	analyze(&in, p, n);
	if (in.trust > T_AUTOREPLY) {
		snprintf(w, sizeof(w), "bounce pasted in %s: %.100s", where,
		    in.where);
		set_id(c, in.trust > T_INLINE ? T_INLINE : in.trust, in.id, w);
		set_orig_hdr(c, in.trust > T_INLINE ? T_INLINE : in.trust,
		    in.orig_hdr, in.orig_hdr_len);
	}
	/*
	 * The inner decoded texts may hold orig_hdr: the outer list takes
	 * them all over, freed with it (a fixed-size list once had to free
	 * some early, and a NUL-led one was used after free).
	 */
	for (i = 0; i < in.ndecoded; i++)
		keep_decoded(c, in.decoded[i]);
	free(in.decoded);
	return in.trust > T_AUTOREPLY;
}

/*
 * A whole report after the closing boundary of a multipart: two reports
 * in one file, the second one in the first one's epilogue, where the
 * MIME parser does not look (rfc3464-28 of the Sisimai set: two Postfix
 * reports, the second after its mbox "From " line).  Its recipients are
 * counterparts too: every delivery-status part of the file, not only
 * those of the first report.  Its Message-ID is not taken: the first
 * report's structure is what this message is.
 */
static void
epilogue_report(struct cls *c, const char *p, size_t n, const char *path)
{
	const char	*nl;
	struct cls	 in;
	int		 i;

	if (c->cp == NULL || c->nest >= 2)
		return;
	while (n > 0 && (*p == '\n' || *p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n > 5 && memcmp(p, "From ", 5) == 0) {
		if ((nl = memchr(p, '\n', n)) == NULL)
			return;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	if (n == 0 || !hdr_is_field_line(p, n) || !bounce_header(p, n))
		return;
	memset(&in, 0, sizeof(in));
	in.t = c->t;
	in.nest = c->nest + 1;
	in.cp = c->cp;
	memcpy(in.own, c->own, sizeof(in.own));
	trace_add(c->t, "    a report follows the closing boundary of %s%s: "
	    "reading its recipients, not its Message-ID\n",
	    *path ? "part " : "the top multipart", path);
	analyze(&in, p, n);
	for (i = 0; i < in.ndecoded; i++)
		keep_decoded(c, in.decoded[i]);
	free(in.decoded);
}

/*
 * The epilogue of multipart m, whose last part is last: what follows the
 * closing boundary line, up to the end of m.  libetpan keeps no
 * epilogue, so it is found from the parts' spans.
 */
static void
epilogue(struct cls *c, struct mailmime *m, struct mailmime *last,
    const char *path)
{
	const char	*p, *end, *b, *nl;
	size_t		 bl;

	if (c->cp == NULL || c->nest >= 2 || m->mm_mime_start == NULL ||
	    last->mm_mime_start == NULL ||
	    (b = ctype_param(m, "boundary")) == NULL || (bl = strlen(b)) == 0)
		return;
	p = last->mm_mime_start + last->mm_length;
	end = m->mm_mime_start + m->mm_length;
	if (p < m->mm_mime_start || p >= end)
		return;
	/* the closing boundary: "--" boundary "--" at a line start */
	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return;
		p = nl + 1;
		if ((size_t)(end - p) >= bl + 4 && p[0] == '-' &&
		    p[1] == '-' && memcmp(p + 2, b, bl) == 0 &&
		    p[bl + 2] == '-' && p[bl + 3] == '-')
			break;
	}
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return;
	epilogue_report(c, nl + 1, (size_t)(end - nl - 1), path);
}

/*
 * The recipients of a JSON notification: the addresses in the arrays
 * "bouncedRecipients", "complainedRecipients" (their "emailAddress") and
 * a delivery's "recipients", never "source", "destination" or the
 * headers (the sender, everyone the message went to).
 */
static void
json_recipients(struct cls *c, const char *p, size_t n)
{
	static const char *const keys[] = {
		"bouncedrecipients", "complainedrecipients", "\"recipients",
		"\\\"recipients", NULL
	};
	const char	*q, *end = p + n, *a;
	struct addr_sink sk = sink_cp(c->cp, CP_DSN, AS_NOTIFIED);
	size_t		 i;
	int		 depth;

	if (c->cp == NULL)
		return;
	for (i = 0; keys[i] != NULL; i++)
		for (q = p; (q = ascii_memmem_ci(q, (size_t)(end - q),
		    keys[i])) != NULL; ) {
			q += strlen(keys[i]);
			/* the array after the key, to its closing bracket */
			while (q < end && *q != '[' && *q != '{' && *q != ',')
				q++;
			if (q >= end || *q != '[')
				continue;
			for (a = q, depth = 0; q < end; q++)
				if (*q == '[' || *q == '{')
					depth++;
				else if ((*q == ']' || *q == '}') &&
				    --depth == 0)
					break;
			extract_addrs(a, (size_t)(q - a), sink_add, &sk);
		}
}

/*
 * Amazon SES bounce and complaint notifications (sent by SNS as mail) are
 * JSON: {"notificationType":"Bounce", ..., "mail":{..., "messageId":"..."}}.
 * The original's id is mail.messageId (SES's own id, without brackets).
 * 1 when (p, n) is one.
 */
static int
json_notification(struct cls *c, const char *p, size_t n)
{
	const char	*q, *end = p + n, *v;
	char		 id[LIM_MSGID + 1];
	size_t		 k;

	/* plain JSON, or JSON escaped inside an SNS envelope's "Message" */
	if ((q = ascii_memmem_ci(p, n, "notificationtype")) == NULL &&
	    (q = ascii_memmem_ci(p, n, "eventtype")) == NULL)
		return 0;
	if (ascii_memmem_ci(q, (size_t)(end - q), "bounce") == NULL &&
	    ascii_memmem_ci(q, (size_t)(end - q), "complaint") == NULL &&
	    ascii_memmem_ci(q, (size_t)(end - q), "delivery") == NULL)
		return 0;
	if ((q = ascii_memmem_ci(q, (size_t)(end - q), "\"mail\\\"")) ==
	    NULL && (q = ascii_memmem_ci(p, n, "\"mail\"")) == NULL)
		return 0;
	c->json = 1;
	json_recipients(c, p, n);
	if ((q = ascii_memmem_ci(q, (size_t)(end - q), "messageid")) == NULL)
		return 1;
	for (q += 9; q < end && (*q == ' ' || *q == ':' || *q == '"' ||
	    *q == '\\'); q++)
		;
	v = q;
	while (q < end && *q != '"' && *q != '\\' && *q > ' ' && *q < 0x7f)
		q++;
	k = (size_t)(q - v);
	if (k == 0 || k >= sizeof(id))
		return 1;
	memcpy(id, v, k);
	id[k] = '\0';
	set_id(c, T_INLINE, id, "mail.messageId of a JSON notification");
	return 1;
}

/*
 * The first copy marker of the lower-case text lc that begins its line
 * (after blanks and rules such as "-----"), from the marker m on: a marker
 * phrase inside a sentence ("The MTS-ID of the original message is:" in an
 * Exchange report, between two failed recipients) does not end the
 * report's text for the recipient scan.  NULL: none.
 */
static const char *
line_marker(const char *lc, size_t n, const char *m)
{
	const char	*ls, *q, *nl, *end = lc + n;

	while (m != NULL) {
		for (ls = m; ls > lc && ls[-1] != '\n'; ls--)
			;
		for (q = ls; q < m && strchr(" \t-=*_>[(", *q) != NULL; q++)
			;
		if (q == m)
			return m;
		if ((nl = memchr(m, '\n', (size_t)(end - m))) == NULL)
			return NULL;
		m = NULL;
		(void)phrase_scan(nl + 1, (size_t)(end - nl - 1), &m);
	}
	return NULL;
}

/* Look for a pasted original in decoded text. */
static void
scan_text(struct cls *c, const char *p, size_t n, const char *where)
{
	const char	*m = NULL, *blk, *nl0;
	char		 id[LIM_MSGID + 1], w[160], *lc;
	size_t		 i, blkn;
	unsigned	 found;
	int		 json;

	lc = lower_copy(p, n);
	found = phrase_scan(lc, n, &m);
	if (found & PL_BOUNCE)
		c->marker = 1;
	if (found & PL_CHALLENGE)
		c->challenge = 1;
	if (found & PL_FEEDBACK)
		c->fbl_text = 1;
	/* the earliest copy marker, at the same offset in p as in lc */
	if (m != NULL)
		m = p + (m - lc);
	/* raw text only: extract_maybe_bounce() looks at the raw bytes */
	json = c->trust < T_INLINE && !c->encoded &&
	    (memmem(lc, n, "notificationtype", 16) != NULL ||
	    memmem(lc, n, "eventtype", 9) != NULL) && json_notification(c, p, n);
	/* the recipients the text names, before the copy; the whole body
	 * read as text only when no part named any; a JSON notification
	 * names them in its fields, its sender too */
	if (!json && c->cp != NULL && (strcmp(where, "body") != 0 ||
	    c->cp->n[CP_TEXT] == 0)) {
		const char *lm = line_marker(lc, n, m ? lc + (m - p) : NULL);

		text_counterparts(c, p, lm != NULL ? (size_t)(lm - lc) : n);
	}
	if (m != NULL && (nl0 = memchr(m, '\n', n - (size_t)(m - p))) != NULL)
		marker_counterparts(c, nl0 + 1, n - (size_t)(nl0 + 1 - p));
	free(lc);
	if (c->trust >= T_INLINE)
		return;
	if (m != NULL) {
		const char *nl = memchr(m, '\n', n - (size_t)(m - p));
		const char *s = nl ? nl + 1 : p + n;

		if (inline_block(s, n - (size_t)(s - p), 1, id, sizeof(id),
		    &blk, &blkn)) {
			if (nested_bounce(c, blk, (size_t)(p + n - blk), where))
				return;
			snprintf(w, sizeof(w), "%s, after \"%.40s\"", where,
			    m);
			for (i = 0; w[i]; i++)
				if (w[i] == '\n')
					w[i] = ' ';
			set_id(c, T_INLINE, id, w);
			set_orig_hdr(c, T_INLINE, blk, blkn);
			return;
		}
	}
	if (c->trust < T_INLINE_NOMARK &&
	    inline_block(p, n, 0, id, sizeof(id), &blk, &blkn)) {
		if (nested_bounce(c, blk, (size_t)(p + n - blk), where))
			return;
		/*
		 * A header block with no marker before it that holds the
		 * message's own Message-ID is the message's own header read
		 * as text (a line that is no field, an mbox From_ line in the
		 * middle, ends the header for the parser): not an original.
		 */
		if (c->own[0] != '\0' && strcmp(id, c->own) == 0) {
			trace_add(c->t, "    %s: a header block with the "
			    "message's own Message-ID: not the original\n",
			    where);
			return;
		}
		snprintf(w, sizeof(w), "%s, header block in text", where);
		set_id(c, T_INLINE_NOMARK, id, w);
		set_orig_hdr(c, T_INLINE_NOMARK, blk, blkn);
	}
}

static void
ctype_of(struct mailmime *m, char *out, size_t outsz)
{
	struct mailmime_content *ct = m->mm_content_type;
	const char	*t = "text", *s = "plain";
	size_t		 i;

	if (ct == NULL) {
		/* RFC 2046 5.1.5: a digest's parts default to message/rfc822 */
		if (m->mm_parent != NULL && m->mm_parent->mm_content_type &&
		    m->mm_parent->mm_content_type->ct_subtype &&
		    strcasecmp(m->mm_parent->mm_content_type->ct_subtype,
		    "digest") == 0)
			t = "message", s = "rfc822";
		if (m->mm_type == MAILMIME_MULTIPLE)
			t = "multipart", s = "mixed";
		snprintf(out, outsz, "%s/%s", t, s);
		return;
	}
	if (ct->ct_type != NULL) {
		if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
			struct mailmime_discrete_type *d =
			    ct->ct_type->tp_data.tp_discrete_type;

			switch (d->dt_type) {
			case MAILMIME_DISCRETE_TYPE_TEXT:
				t = "text"; break;
			case MAILMIME_DISCRETE_TYPE_IMAGE:
				t = "image"; break;
			case MAILMIME_DISCRETE_TYPE_AUDIO:
				t = "audio"; break;
			case MAILMIME_DISCRETE_TYPE_VIDEO:
				t = "video"; break;
			case MAILMIME_DISCRETE_TYPE_APPLICATION:
				t = "application"; break;
			default:
				t = d->dt_extension ? d->dt_extension : "x";
			}
		} else {
			struct mailmime_composite_type *cp =
			    ct->ct_type->tp_data.tp_composite_type;

			switch (cp->ct_type) {
			case MAILMIME_COMPOSITE_TYPE_MESSAGE:
				t = "message"; break;
			case MAILMIME_COMPOSITE_TYPE_MULTIPART:
				t = "multipart"; break;
			default:
				t = cp->ct_token ? cp->ct_token : "x";
			}
		}
	}
	s = ct->ct_subtype ? ct->ct_subtype : "";
	snprintf(out, outsz, "%s/%s", t, s);
	for (i = 0; out[i]; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] + 32);
}

static const char *
ctype_param(struct mailmime *m, const char *name)
{
	clistiter *it;

	if (m->mm_content_type == NULL)
		return NULL;
	for (it = clist_begin(m->mm_content_type->ct_parameters); it;
	    it = clist_next(it)) {
		struct mailmime_parameter *pa = clist_content(it);

		if (pa->pa_name && strcasecmp(pa->pa_name, name) == 0)
			return pa->pa_value;
	}
	return NULL;
}

static int
encoding_of(struct mailmime *m)
{
	clistiter *it;

	if (m->mm_mime_fields == NULL)
		return MAILMIME_MECHANISM_8BIT;
	for (it = clist_begin(m->mm_mime_fields->fld_list); it;
	    it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING &&
		    f->fld_data.fld_encoding != NULL)
			return f->fld_data.fld_encoding->enc_type;
	}
	return MAILMIME_MECHANISM_8BIT;
}

/*
 * Decoded body of a single part, or NULL.  The text is kept until the end
 * of classification (the original's header may point into it).
 */
static const char *
decoded_body(struct cls *c, struct mailmime *m, struct mailmime_data *d,
    size_t *len_r)
{
	int	 enc = encoding_of(m);
	size_t	 idx = 0, dl = 0;
	char	*dec = NULL, *copy;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return NULL;
	if (enc != MAILMIME_MECHANISM_BASE64 &&
	    enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		*len_r = d->dt_data.dt_text.dt_length;
		return d->dt_data.dt_text.dt_data;
	}
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, enc, &dec, &dl) !=
	    MAILIMF_NO_ERROR || dec == NULL)
		return NULL;
	/* decoded text may carry CRLF again: normalise it too */
	copy = normalize(dec, dl, len_r);
	mmap_string_unref(dec);
	keep_decoded(c, copy);
	return copy;
}

static int
is_returned_type(const char *ct)
{
	return strcmp(ct, "message/rfc822") == 0 ||
	    strcmp(ct, "message/global") == 0 ||
	    strcmp(ct, "text/rfc822-headers") == 0 ||
	    strcmp(ct, "message/global-headers") == 0 ||
	    strcmp(ct, "message/rfc822-headers") == 0 ||
	    strcmp(ct, "message/partial") == 0;
}

/*
 * An original attached as a file, "name.eml" (Outlook and webmails attach
 * returned messages so, as application/octet-stream).
 */
static int
eml_attachment(struct mailmime *m)
{
	const char	*name = ctype_param(m, "name");
	clistiter	*it, *jt;
	size_t		 k;

	if (name == NULL && m->mm_mime_fields != NULL)
		for (it = clist_begin(m->mm_mime_fields->fld_list); it;
		    it = clist_next(it)) {
			struct mailmime_field *f = clist_content(it);

			if (f->fld_type != MAILMIME_FIELD_DISPOSITION ||
			    f->fld_data.fld_disposition == NULL)
				continue;
			for (jt = clist_begin(f->fld_data.fld_disposition->
			    dsp_parms); jt; jt = clist_next(jt)) {
				struct mailmime_disposition_parm *dp =
				    clist_content(jt);

				if (dp->pa_type ==
				    MAILMIME_DISPOSITION_PARM_FILENAME)
					name = dp->pa_data.pa_filename;
			}
		}
	if (name == NULL || (k = strlen(name)) < 4)
		return 0;
	return strcasecmp(name + k - 4, ".eml") == 0;
}

static void
returned_part(struct cls *c, struct mailmime *m, const char *ct,
    int in_report, const char *path)
{
	struct mailmime_data *d = m->mm_body;
	const char	*p;
	char		 id[LIM_MSGID + 1], w[160];
	size_t		 n = 0, hl;
	enum trust	 tr = in_report ? T_REPORT : T_ATTACHED;

	c->copy_part = 1;
	if (m->mm_type == MAILMIME_MESSAGE && d == NULL) {
		/* libetpan keeps the raw bytes of the embedded message */
		p = m->mm_mime_start;
		n = m->mm_length;
	} else if ((p = decoded_body(c, m, d, &n)) == NULL)
		return;
	snprintf(w, sizeof(w), "%s part %s", ct, path);
	/*
	 * An attached copy that is itself a bounce (a gateway that wrapped
	 * the report whole, someone forwarding one): its own header carries
	 * the report's Message-ID, the original is inside it.  Not within a
	 * report: there the returned message is what bounced, even when it
	 * was a bounce.
	 */
	if (tr == T_ATTACHED && nested_bounce(c, p, n, w))
		return;
	if (block_msgid(p, n, id, sizeof(id), &hl)) {
		set_id(c, tr, id, w);
		set_orig_hdr(c, tr, p, hl);
	} else
		trace_add(c->t, "    %s part %s has no Message-ID\n", ct,
		    path);
}

static void
mdn_part(struct cls *c, struct mailmime *m, const char *path)
{
	const char	*p;
	size_t		 n = 0;
	struct slice	 blk, v;
	char		 id[LIM_MSGID + 1], w[160];

	if ((p = decoded_body(c, m, m->mm_body, &n)) == NULL)
		return;
	dsn_counterparts(c, p, n, dsn_fields);
	blk.p = p;
	blk.n = hdr_block_len(p, n);
	if (hdr_find(blk, "Original-Message-ID", &v) &&
	    hdr_msgid(v, id, sizeof(id))) {
		snprintf(w, sizeof(w), "Original-Message-ID in part %s", path);
		set_id(c, T_MDN, id, w);
	}
}

/*
 * Does (p, n) start with the machine part of a feedback report, sent as
 * text/plain by some generators: Feedback-Type: with User-Agent: or
 * Version: in the header block at its start (RFC 5965 3.1)?
 */
static int
feedback_fields_at(const char *p, size_t n)
{
	static const char *const names[] = {
		"Feedback-Type", "User-Agent", "Version"
	};
	struct slice	 blk, v[3];
	uint64_t	 has;

	while (n > 0 && *p == '\n') {
		p++;
		n--;
	}
	if (!hdr_is_field_line(p, n))
		return 0;
	blk.p = p;
	blk.n = hdr_block_len(p, n);
	has = hdr_find_many(blk, names, 3, v);
	return (has & 1) && (has & 6);
}

/*
 * A returned header pasted right after a MIME boundary, with no part
 * header of its own: libetpan reads it as the part's header.  A part
 * header never carries a Message-ID, so one with a Message-ID and fields
 * of a message header is the returned original's.
 */
static void
part_header(struct cls *c, struct mailmime *m, const char *path)
{
	const char	*blk;
	char		 id[LIM_MSGID + 1], w[160];
	size_t		 blkn, hl;

	/* a part whose parent is a message: its header is that message's */
	if (m->mm_mime_start == NULL || c->trust >= T_INLINE ||
	    m->mm_parent_type != MAILMIME_MULTIPLE)
		return;
	hl = hdr_block_len(m->mm_mime_start, m->mm_length);
	if (inline_block(m->mm_mime_start, hl, 0, id, sizeof(id), &blk,
	    &blkn)) {
		snprintf(w, sizeof(w), "header of part %s", path);
		set_id(c, T_INLINE, id, w);
		set_orig_hdr(c, T_INLINE, blk, blkn);
	}
}

static void
walk(struct cls *c, struct mailmime *m, int depth, int in_report,
    const char *path)
{
	char		 ct[96], sub[256];	/* 32 levels of "2000." */
	struct mailmime	*last = NULL;
	clistiter	*it;
	int		 i = 0;
	size_t		 n;
	const char	*p;

	if (m == NULL || depth > LIM_MIME_DEPTH || ++c->parts > LIM_MIME_PARTS)
		return;
	ctype_of(m, ct, sizeof(ct));
	if (depth == 0)
		snprintf(ct, sizeof(ct), "message");
	trace_add(c->t, "  %*s%s %s\n", depth * 2, "", path, ct);

	switch (m->mm_type) {
	case MAILMIME_MULTIPLE:
		if (strcmp(ct, "multipart/report") == 0) {
			const char *rt = ctype_param(m, "report-type");

			in_report = 1;
			if (depth <= 1 && !c->report) {
				c->report = 1;
				snprintf(c->report_type,
				    sizeof(c->report_type), "%s",
				    rt ? rt : "");
			}
		}
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
		    it = clist_next(it)) {
			if ((size_t)snprintf(sub, sizeof(sub), "%s%s%d", path,
			    *path ? "." : "", ++i) >= sizeof(sub))
				return;
			walk(c, last = clist_content(it), depth + 1,
			    in_report, sub);
		}
		if (last != NULL)
			epilogue(c, m, last, path);
		return;
	case MAILMIME_MESSAGE:
		if (depth == 0) {
			/* the message itself */
			walk(c, m->mm_data.mm_message.mm_msg_mime, depth + 1,
			    0, path);
			return;
		}
		returned_part(c, m, ct, in_report, path);
		return;
	default:
		break;
	}
	if (strcmp(ct, "message/delivery-status") == 0 ||
	    strcmp(ct, "message/global-delivery-status") == 0) {
		c->dsn_part = 1;
		if ((p = decoded_body(c, m, m->mm_body, &n)) != NULL)
			dsn_counterparts(c, p, n, dsn_fields);
		return;
	}
	if (strcmp(ct, "message/disposition-notification") == 0 ||
	    strcmp(ct, "message/global-disposition-notification") == 0) {
		c->mdn_part = 1;
		mdn_part(c, m, path);
		return;
	}
	if (is_returned_type(ct) || eml_attachment(m)) {
		returned_part(c, m, ct, in_report, path);
		return;
	}
	part_header(c, m, path);
	if (strncmp(ct, "text/", 5) != 0 && strcmp(ct, "message/feedback-report"))
		return;
	if ((p = decoded_body(c, m, m->mm_body, &n)) != NULL) {
		char w[160];

		if (strcmp(ct, "message/feedback-report") == 0 ||
		    feedback_fields_at(p, n)) {
			trace_add(c->t, "    part %s: a feedback report's "
			    "machine part\n", *path ? path : "1");
			c->feedback = 1;
			dsn_counterparts(c, p, n, feedback_fields);
		}
		snprintf(w, sizeof(w), "%s part %s", ct, *path ? path : "1");
		c->encoded = encoding_of(m) == MAILMIME_MECHANISM_BASE64 ||
		    encoding_of(m) == MAILMIME_MECHANISM_QUOTED_PRINTABLE;
		scan_text(c, p, n, w);
		c->encoded = 0;
	}
}

/* Signals from the top header block. */
struct top {
	int	 null_sender;
	int	 daemon;
	int	 subject;
	int	 failed_rcpt;
	int	 autoreply;
	int	 fwd;		/* Subject: Fwd:/Re: ... a person's message */
	int	 in_reply_to;
	int	 references;
	int	 bulk;
	int	 daemon_addr;	/* From's address is a mail system's */
	int	 weak_ar;	/* auto-reply by Precedence/Auto-Submitted and
				 * subject alone: never backscatter */
	int	 lead;		/* the Subject starts with a bounce phrase */
	int	 mua;		/* a person's mail client wrote it */
	int	 feedback;	/* a feedback report's header: "X-ARF: yes",
				 * "complaint about message from 192.0.2.1" */
	char	 subj[200];
	char	 alt[200];	/* subj decoded the sloppy way, or "" */
	char	 from[200];
};

/*
 * Is the address in From (the one in <>, else the whole field) a mail
 * system's?  Unlike daemon_from(), a display name does not count: a
 * person called "Mail Delivery" still writes from a person's address.
 */
static int
daemon_addr(const char *from)
{
	static const char *const locals[] = {
		"mailer-daemon", "mailer_daemon", "maildaemon", "mail-daemon",
		"mailerdaemon", "mailer-deamon", "mdaemon", "postmaster",
		"post_master", "microsoftexchange", NULL
	};
	const char	*a = from, *lt, *gt, *at;
	size_t		 i, n;

	if ((lt = strrchr(from, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL) {
		a = lt + 1;
		n = (size_t)(gt - a);
	} else
		n = strlen(from);
	while (n > 0 && (*a == ' ' || *a == '\t' || *a == '"')) {
		a++;
		n--;
	}
	if ((at = memchr(a, '@', n)) != NULL)
		n = (size_t)(at - a);
	for (i = 0; locals[i] != NULL; i++)
		if (ascii_prefix(a, n, locals[i]))
			return 1;
	return 0;
}

/*
 * How many "Re:", "AW:", "SV:", "Fwd:" ... (any case, "[2]" counters,
 * spaces) begin s; *rest_r: what follows them.
 */
static int
reply_prefixes(const char *s, const char **rest_r)
{
	static const char *const pfx[] = {
		"re", "aw", "sv", "vs", "fw", "fwd", "wg", "tr", "antw",
		"rif", "ref", "res", "enc", "odp", "vb", "r", "rv", "atb",
		NULL
	};
	const char	*p = s, *q;
	size_t		 i, k;
	int		 count = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		for (i = 0; pfx[i] != NULL; i++) {
			k = strlen(pfx[i]);
			if (!ascii_prefix(p, strlen(p), pfx[i]))
				continue;
			q = p + k;
			if (*q == '[')		/* "Re[2]:" */
				while (*q != '\0' && *q != ']')
					q++;
			if (*q == ']')
				q++;
			while (*q == ' ')
				q++;
			if (*q == ':' || (unsigned char)*q == 0xef) {
				/* ':' or a full-width colon (U+FF1A) */
				if (*q == ':')
					q++;
				else if ((unsigned char)q[1] == 0xbc &&
				    (unsigned char)q[2] == 0x9a)
					q += 3;
				else
					continue;
				break;
			}
		}
		if (pfx[i] == NULL)
			break;
		p = q;
		count++;
	}
	*rest_r = p;
	return count;
}

/*
 * The byte of "=XX" in a Q-encoded word, as sscanf("%2x") read it: two hex
 * digits, or one; -1 when none.
 */
static int
hex_pair(const char *x)
{
	int	 v = 0, i;

	for (i = 0; i < 2; i++) {
		if (x[i] >= '0' && x[i] <= '9')
			v = v * 16 + (x[i] - '0');
		else if ((x[i] | 0x20) >= 'a' && (x[i] | 0x20) <= 'f')
			v = v * 16 + ((x[i] | 0x20) - 'a' + 10);
		else
			break;
	}
	return i == 0 ? -1 : v;
}

/*
 * The Subject decoded the sloppy way, for what the strict decoder left
 * alone: every encoded word's bytes whatever its charset says (an unknown
 * or wrong charset, a word split inside a character), and text that is
 * not UTF-8 read as Latin-1 or, where its bytes say so, Windows-1250
 * (hdr_8bit_utf8()).  "" when that gives nothing new.
 */
static void
sloppy_subject(const char *in, char *out, size_t outsz)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char	 raw[200];
	const char	*p, *q, *e, *c;
	size_t		 r = 0, o = 0, i;
	unsigned	 acc = 0, bits = 0;
	int		 utf8 = 1, changed = 0, hi;

	out[0] = '\0';
	for (p = in; *p != '\0' && r < sizeof(raw); ) {
		if (p[0] == '=' && p[1] == '?' &&
		    (q = strchr(p + 2, '?')) != NULL &&
		    (q[1] == 'q' || q[1] == 'Q' || q[1] == 'b' || q[1] == 'B') &&
		    q[2] == '?' && (e = strstr(q + 3, "?=")) != NULL) {
			changed = 1;
			acc = bits = 0;
			for (c = q + 3; c < e && r < sizeof(raw); c++) {
				if (q[1] == 'b' || q[1] == 'B') {
					const char *v = strchr(b64, *c);

					if (*c == '\0' || v == NULL)
						continue;
					acc = (acc << 6) | (unsigned)(v - b64);
					if ((bits += 6) >= 8) {
						bits -= 8;
						raw[r++] = (unsigned char)(acc >>
						    bits);
						acc &= (1u << bits) - 1;
					}
				} else if (*c == '_')
					raw[r++] = ' ';
				else if (*c == '=' && c + 2 < e &&
				    (hi = hex_pair(c + 1)) >= 0) {
					raw[r++] = (unsigned char)hi;
					c += 2;
				} else
					raw[r++] = (unsigned char)*c;
			}
			p = e + 2;
			/* blanks between two encoded words are not text */
			for (q = p; *q == ' ' || *q == '\t'; q++)
				;
			if (q[0] == '=' && q[1] == '?')
				p = q;
			continue;
		}
		raw[r++] = (unsigned char)*p++;
	}
	/* valid UTF-8? */
	for (o = 0; o < r; ) {
		size_t	 k = raw[o] < 0x80 ? 1 : (raw[o] & 0xe0) == 0xc0 ? 2 :
		    (raw[o] & 0xf0) == 0xe0 ? 3 : (raw[o] & 0xf8) == 0xf0 ? 4 :
		    0;
		size_t	 j;

		if (k == 0 || o + k > r) {
			utf8 = 0;
			break;
		}
		for (j = 1; j < k; j++)
			if ((raw[o + j] & 0xc0) != 0x80)
				utf8 = 0;
		if (!utf8)
			break;
		o += k;
	}
	if (utf8 && !changed)
		return;
	if (!utf8) {
		/* Latin-1, or Windows-1250 where its bytes say so */
		hdr_8bit_utf8(raw, r, out, outsz);
		return;
	}
	for (o = 0, i = 0; i < r && o + 1 < outsz; i++)
		out[o++] = raw[i] == '\0' ? ' ' : (char)raw[i];
	out[o] = '\0';
}

/*
 * The phrase of list in p (n bytes) folded to lower case, as the subject
 * is (hdr_fold_case()) and every subject phrase is written (structure.t
 * checks): byte for byte, not a case-insensitive loop per phrase, which
 * cost ordinary mail 66 k instructions over the 120 subject phrases.
 */
static const char *
match_folded(const char *p, size_t n, const char *const *list)
{
	const char	*q, *end = p + n, *x;
	size_t		 i, k;

	for (i = 0; (x = list[i]) != NULL; i++) {
		/* a subject is short: memchr for the first byte beats
		 * memmem's set-up */
		k = strlen(x);
		for (q = p; k > 0 && k <= (size_t)(end - q); q++) {
			if ((q = memchr(q, x[0], (size_t)(end - q) - k + 1)) ==
			    NULL)
				break;
			if (memcmp(q + 1, x + 1, k - 1) == 0)
				return x;
		}
	}
	return NULL;
}

/* Does the list name the subject s, or the sloppy decoding of it? */
static const char *
subj_match(const struct top *t, const char *s, const char *const *list)
{
	const char	*m;

	if ((m = match_folded(s, strlen(s), list)) != NULL)
		return m;
	return t->alt[0] ? match_folded(t->alt, strlen(t->alt), list) : NULL;
}

/* Does the Subject (or its sloppy decoding) begin with a phrase of list? */
static int
subj_starts(const struct top *t, const char *const *list)
{
	const char	*s;
	size_t		 i, k;
	int		 pass;

	for (pass = 0; pass < 2; pass++) {
		s = pass ? t->alt : t->subj;
		while (*s == ' ' || *s == '\t')
			s++;
		for (i = 0; list[i] != NULL; i++)
			if (strncmp(s, list[i], k = strlen(list[i])) == 0 &&
			    k > 0)
				return 1;
	}
	return 0;
}

/*
 * Is a message's client a person's: a User-Agent field (Thunderbird,
 * Mutt, Roundcube, K-9 ...), or an X-Mailer naming a mail client?
 */
static int
mua_header(const struct slice *xm, int has_ua, int has_xm)
{
	static const char *const clients[] = {
		"outlook", "thunderbird", "apple mail", "iphone mail",
		"ipad mail", "evolution", "kmail", "claws", "mutt", "sylpheed",
		"the bat", "eudora", "pegasus", "mailmate", "airmail", "windows mail", "windows live mail",
		"em client", NULL
	};
	char	 buf[256];
	size_t	 i, n;

	if (has_ua)
		return 1;
	if (!has_xm)
		return 0;
	n = hdr_unfold(*xm, buf, sizeof(buf));
	for (i = 0; clients[i] != NULL; i++)
		if (ascii_memmem_ci(buf, n, clients[i]) != NULL)
			return 1;
	return 0;
}

/* Does s, past its reply prefixes, begin with an auto-reply tag? */
static int
autoreply_start(const char *s)
{
	const char	*rest;
	size_t		 i, n;

	reply_prefixes(s, &rest);
	n = strlen(rest);
	for (i = 0; autoreply_tag[i] != NULL; i++)
		if (ascii_prefix(rest, n, autoreply_tag[i]))
			return 1;
	return 0;
}

static int
daemon_from(const char *from)
{
	static const char *const locals[] = {
		"mailer-daemon", "mailer_daemon", "maildaemon", "mail-daemon",
		"postmaster", "mdaemon", "mail.daemon", "mailerdaemon",
		"smtp-gateway", "mail delivery", "mailadmin",
		"returned-mail", "mailer daemon", "mail administrator",
		"mail system", "nobody@", "bounce-notification",
		"post_master", "mailer-deamon",
		NULL
	};
	size_t	 i;

	for (i = 0; locals[i] != NULL; i++)
		if (ascii_memmem_ci(from, strlen(from), locals[i]) != NULL)
			return 1;
	return 0;
}

/* The fields top_signals() reads, found in one pass over the header. */
enum {
	F_RETURN_PATH, F_FROM, F_SUBJECT, F_FAILED_RCPT, F_IN_REPLY_TO,
	F_AUTO_SUBMITTED, F_X_AUTOREPLY, F_X_AUTORESPOND, F_X_AUTORESPONDER,
	F_X_VACATION, F_X_APPLE_ACTION, F_PRECEDENCE, F_X_SPAM_ARREST,
	F_X_BOXBE_ID, F_X_TMDA_CONFIRM, F_X_CHALLENGE, F_REFERENCES,
	F_X_BOXTRAPPER, F_X_BLUEBOTTLE, F_X_CHOICEMAIL, F_X_ARF, F_USER_AGENT,
	F_X_MAILER, F_COUNT
};
static const char *const top_fields[F_COUNT] = {
	"Return-Path", "From", "Subject", "X-Failed-Recipients",
	"In-Reply-To", "Auto-Submitted", "X-Autoreply", "X-Autorespond",
	"X-Autoresponder", "X-Vacation", "X-Apple-Action", "Precedence",
	"X-Spam-Arrest", "X-Boxbe-Id", "X-TMDA-Confirm", "X-Challenge",
	"References", "X-Boxtrapper", "X-Bluebottle-Request",
	"X-ChoiceMail-Registration-Request", "X-ARF", "User-Agent", "X-Mailer"
};
#define HAS(f)	((has >> (f)) & 1)

/*
 * The Subject v into t: decoded (strictly, and the sloppy way), folded to
 * lower case, and what it says.  Returns 1 when it has a bounce phrase.
 */
static int
top_subject(struct slice v, struct top *t, int full)
{
	const char	*rest;

	hdr_unfold(v, t->subj, sizeof(t->subj));
	/* what the strict decoder leaves: any charset, 8-bit Latin-1 */
	sloppy_subject(t->subj, t->alt, sizeof(t->alt));
	/*
	 * For extract_maybe_bounce (!full), which runs in the delivering
	 * process itself, no libetpan code: an encoded subject then counts
	 * as a maybe, and extract() decides.
	 */
	if (!full && strstr(t->subj, "=?") != NULL)
		t->subject = 1;
	else
		hdr_decode_words(t->subj, sizeof(t->subj));
	/* the phrases are lower case, and so are "NEDORU\xc4\x8c" and a
	 * capitalised Cyrillic or Greek word once folded */
	hdr_fold_case(t->subj);
	hdr_fold_case(t->alt);
	/* a person forwarding or replying to a bounce */
	t->fwd = reply_prefixes(t->subj, &rest) > 0;
	/* Hotmail's and Amazon SES's complaints: an IP address */
	if ((rest = strstr(t->subj, "complaint about message from ")) !=
	    NULL && rest[29] >= '0' && rest[29] <= '9')
		t->feedback = 1;
	t->lead = subj_starts(t, bounce_subject);
	return subj_match(t, t->subj, bounce_subject) != NULL;
}

/*
 * Read the top header's fields into t (parsing; top_autoreply() weighs
 * what they say about an auto-reply).
 */
static void
top_read(struct slice hb, int env_null, struct top *t, int full)
{
	struct slice	 f[F_COUNT];
	char		 buf[512];
	size_t		 n;
	uint64_t	 has;
	int		 subj = 0;

	memset(t, 0, sizeof(*t));
	t->null_sender = env_null;
	has = hdr_find_many(hb, top_fields, F_COUNT, f);
	if (HAS(F_RETURN_PATH)) {
		n = hdr_unfold(f[F_RETURN_PATH], buf, sizeof(buf));
		if ((n == 2 && memcmp(buf, "<>", 2) == 0) ||
		    ascii_prefix(buf, n, "<mailer-daemon") ||
		    ascii_prefix(buf, n, "mailer-daemon"))
			t->null_sender = 1;
	}
	if (HAS(F_FROM)) {
		hdr_unfold(f[F_FROM], t->from, sizeof(t->from));
		t->daemon = daemon_from(t->from);
		t->daemon_addr = daemon_addr(t->from);
	}
	if (HAS(F_SUBJECT))
		subj = top_subject(f[F_SUBJECT], t, full);
	if (HAS(F_FAILED_RCPT))
		t->failed_rcpt = 1;
	t->mua = mua_header(&f[F_X_MAILER], HAS(F_USER_AGENT), HAS(F_X_MAILER));
	if (HAS(F_X_ARF)) {
		n = hdr_unfold(f[F_X_ARF], buf, sizeof(buf));
		if (ascii_prefix(buf, n, "yes"))
			t->feedback = 1;
	}
	/*
	 * "RE: Undeliverable: ..." counts only from a mail system: a null
	 * sender, a daemon's address, X-Failed-Recipients.  Some gateways
	 * answer so; a person replying to a bounce has none of them.
	 */
	if (subj && (!t->fwd || t->null_sender || t->daemon_addr ||
	    t->failed_rcpt))
		t->subject = 1;
	if (HAS(F_IN_REPLY_TO))
		t->in_reply_to = 1;
	if (HAS(F_REFERENCES))
		t->references = 1;
	if (HAS(F_AUTO_SUBMITTED)) {
		n = hdr_unfold(f[F_AUTO_SUBMITTED], buf, sizeof(buf));
		if (ascii_prefix(buf, n, "auto-replied"))
			t->autoreply = 1;
		if (ascii_prefix(buf, n, "auto-"))
			t->bulk = 1;
	}
	/* vacation responders' own markers (not X-Auto-Response-Suppress,
	 * which is a request to others, not a marker) */
	if (HAS(F_X_AUTOREPLY) || HAS(F_X_AUTORESPOND) ||
	    HAS(F_X_AUTORESPONDER) || HAS(F_X_VACATION))
		t->autoreply = 1;
	if (HAS(F_X_APPLE_ACTION)) {
		n = hdr_unfold(f[F_X_APPLE_ACTION], buf, sizeof(buf));
		if (ascii_memmem_ci(buf, n, "vacation") != NULL)
			t->autoreply = 1;
	}
	if (HAS(F_PRECEDENCE)) {
		n = hdr_unfold(f[F_PRECEDENCE], buf, sizeof(buf));
		if (ascii_prefix(buf, n, "auto_reply") ||
		    ascii_prefix(buf, n, "auto-reply"))
			t->autoreply = 1;
		if (ascii_prefix(buf, n, "bulk") ||
		    ascii_prefix(buf, n, "junk"))
			t->bulk = 1;
	}
	/*
	 * Challenge-response systems' own fields (SpamArrest, Boxbe, TMDA's
	 * confirmation, cPanel BoxTrapper, Bluebottle, ChoiceMail).  Not
	 * TMDA's X-Delivery-Agent: tmda-sendmail puts it on its users'
	 * ordinary mail too.
	 */
	if (HAS(F_X_SPAM_ARREST) || HAS(F_X_BOXBE_ID) ||
	    HAS(F_X_TMDA_CONFIRM) || HAS(F_X_CHALLENGE) ||
	    HAS(F_X_BOXTRAPPER) || HAS(F_X_BLUEBOTTLE) || HAS(F_X_CHOICEMAIL))
		t->bulk = 1;
}

/*
 * Auto-replies told by their subject and sender rather than by a field of
 * their own (scoring on what top_read() read).
 */
static void
top_autoreply(struct top *t)
{
	/*
	 * Exchange and Outlook out-of-office replies say "Auto-Submitted:
	 * auto-generated" (or nothing but a null sender) and "Automatic
	 * reply:" in the Subject: machine-made, with an auto-reply subject,
	 * in reply to one message.
	 */
	if (!t->autoreply && (t->bulk || t->null_sender) && t->in_reply_to &&
	    subj_match(t, t->subj, autoreply_subject) != NULL)
		t->autoreply = 1;
	/*
	 * Out-of-office notices of Notes, GroupWise, Exchange and webmails
	 * that name no message and carry no RFC 3834 field: a mail system's
	 * sender (null, or a daemon's address) and an auto-reply's subject
	 * ("Automatic reply:", "Out of Office:", "Autosvar:", Notes' "I will
	 * be out of the office ...", "... is out of the office"); or
	 * Precedence: bulk/junk (Auto-Submitted) with such a subject tag,
	 * which a newsletter may also have: that alone is weak.
	 */
	if (!t->autoreply && (t->null_sender || t->daemon_addr) && (t->subj[0]
	    != '\0') && (autoreply_start(t->subj) || (t->alt[0] &&
	    autoreply_start(t->alt)) || subj_match(t, t->subj, oof_phrase)))
		t->autoreply = 1;
	if (!t->autoreply && t->bulk && !t->fwd && (autoreply_start(t->subj) ||
	    (t->alt[0] && autoreply_start(t->alt)))) {
		t->autoreply = 1;
		t->weak_ar = 1;
	}
}

/* The signals of the top header block: read, then weighed. */
static void
top_signals(struct slice hb, int env_null, struct top *t,
    struct trace *tr, int full)
{
	top_read(hb, env_null, t, full);
	top_autoreply(t);
	trace_add(tr, "signals: null-sender=%d daemon-from=%d bounce-subject=%d "
	    "x-failed-recipients=%d auto-reply=%d\n", t->null_sender,
	    t->daemon, t->subject, t->failed_rcpt, t->autoreply);
}
#undef HAS

static void
free_decoded(struct cls *c)
{
	int	 i;

	for (i = 0; i < c->ndecoded; i++)
		free(c->decoded[i]);
	free(c->decoded);
	c->decoded = NULL;
	c->ndecoded = c->decap = 0;
}

/*
 * Past this size a copy costs more (page faults) than the parse of the
 * top header it saves.
 */
#define MIME_VIEW_MAX	(64u * 1024)

/*
 * The message as libetpan needs it for the MIME structure: the top
 * header's MIME fields (MIME-Version, Content-*), the blank line, the
 * body (p is normalized: LF line ends).  hl: length of the top header
 * block.  NULL when the header is not plain fields up to a blank line
 * (cut at its limit, a line that is no field, no body): libetpan ends a
 * header at such a line, so it gets the message as it is.
 */
static char *
mime_view(const char *p, size_t n, size_t hl, size_t *len_r)
{
	struct slice	 blk, nm, v;
	const char	*at = p;
	char		*out;
	size_t		 o = 0, k;

	if (hl >= n || p[hl] != '\n')
		return NULL;
	out = xmalloc(n + 1);
	blk.p = p;
	blk.n = hl;
	while (hdr_next(&blk, &nm, &v)) {
		if (nm.p != at)
			break;
		at = v.p + v.n;
		if (ascii_prefix(nm.p, nm.n, "content-") ||
		    (nm.n == 12 && ascii_casecmp_n(nm.p, "mime-version",
		    12) == 0)) {
			k = (size_t)(at - nm.p);
			memcpy(out + o, nm.p, k);
			o += k;
		}
	}
	if (at != p + hl) {
		free(out);
		return NULL;
	}
	memcpy(out + o, p + hl, n - hl);
	*len_r = o + n - hl;
	return out;
}

/* A boundary declared in the text, and what its delimiter lines say. */
struct boundary {
	const char	*b;
	size_t		 n;
	const char	*last;		/* its last delimiter line, or NULL */
	int		 closed;	/* a close delimiter after it */
};

/* The boundaries declared in (p, n): boundary=value, quoted or not. */
static int
boundaries(const char *p, size_t n, struct boundary *bd, int max)
{
	const char	*q = p, *end = p + n, *v, *ve;
	int		 nb = 0, i;

	/* memmem, not a case-folding loop: "oundary", then its 'b' */
	while (nb < max && (q = memmem(q, (size_t)(end - q), "oundary", 7)) !=
	    NULL) {
		for (v = q += 7; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		if (q - 8 < p || (q[-8] != 'b' && q[-8] != 'B'))
			continue;
		if (v >= end || *v++ != '=')
			continue;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v < end && *v == '"')
			for (ve = ++v; ve < end && *ve != '"' && *ve != '\n';
			    ve++)
				;
		else
			for (ve = v; ve < end && *ve != ';' && *ve > ' ' &&
			    *ve != '"'; ve++)
				;
		if (ve == v || ve - v > 200)
			continue;
		for (i = 0; i < nb; i++)
			if (bd[i].n == (size_t)(ve - v) &&
			    memcmp(bd[i].b, v, bd[i].n) == 0)
				break;
		if (i == nb) {
			bd[nb].b = v;
			bd[nb].n = (size_t)(ve - v);
			bd[nb].last = NULL;
			bd[nb++].closed = 0;
		}
	}
	return nb;
}

/*
 * A message cut short (a size-limited bounce, a return truncated on the
 * way, a file cut off) ends inside its multiparts, with no close
 * delimiter.  libetpan keeps an unclosed multipart, but drops the last
 * part of one nested in another unclosed one: the returned original,
 * often.  So the close delimiters that never came are added at the end,
 * the innermost (the latest delimiter) first, and the parts that are
 * there keep their structure.  Returns the text so completed, or NULL
 * when every multipart is closed.
 */
static char *
close_multiparts(const char *p, size_t n, size_t *len_r, int *nopen_r)
{
	struct boundary	 bd[LIM_MIME_DEPTH], tmp;
	const char	*q, *end = p + n, *nl;
	char		*out;
	size_t		 ln, o, need;
	int		 nb, i, j, nopen = 0;

	if ((nb = boundaries(p, n, bd, LIM_MIME_DEPTH)) == 0)
		return NULL;
	for (q = p; q < end; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		if (nl - q >= 3 && q[0] == '-' && q[1] == '-') {
			for (ln = (size_t)(nl - q); q[ln - 1] == ' ' ||
			    q[ln - 1] == '\t'; ln--)
				;
			for (i = 0; i < nb; i++) {
				if (ln < bd[i].n + 2 ||
				    memcmp(q + 2, bd[i].b, bd[i].n) != 0)
					continue;
				if (ln == bd[i].n + 2) {
					bd[i].last = q;
					bd[i].closed = 0;
				} else if (ln == bd[i].n + 4 &&
				    q[ln - 2] == '-' && q[ln - 1] == '-')
					bd[i].closed = 1;
			}
		}
		if (nl == end)
			break;
	}
	/* the open ones first, latest delimiter first */
	need = n + 1;
	for (i = 0; i < nb; i++)
		if (bd[i].last != NULL && !bd[i].closed) {
			tmp = bd[i];
			for (j = nopen++; j > 0 && bd[j - 1].last < tmp.last;
			    j--)
				bd[j] = bd[j - 1];
			bd[j] = tmp;
			need += tmp.n + 5;
		}
	if (nopen == 0)
		return NULL;
	out = xmalloc(need + 1);
	memcpy(out, p, n);
	o = n;
	if (n > 0 && p[n - 1] != '\n')
		out[o++] = '\n';
	for (i = 0; i < nopen; i++) {
		out[o++] = '-';
		out[o++] = '-';
		memcpy(out + o, bd[i].b, bd[i].n);
		o += bd[i].n;
		memcpy(out + o, "--\n", 3);
		o += 3;
	}
	out[o] = '\0';
	*len_r = o;
	*nopen_r = nopen;
	return out;
}

/*
 * Parse (p, n), LF text, as a message: walk its MIME structure and look
 * for the returned original everywhere it may be.
 */
static void
analyze(struct cls *c, const char *p, size_t n)
{
	struct mailmime	*mm = NULL;
	size_t		 hl = hdr_block_len(p, n), plen, idx = 0, mn;
	const char	*src;
	char		*mime, *closed;
	int		 rc, nopen;

	/*
	 * libetpan parses every field of the top header (addresses, dates),
	 * and walk() reads none of them: it gets the MIME fields only, then
	 * the body.  A third of the parse, for a copy of the body.
	 */
	if (n > MIME_VIEW_MAX || (mime = mime_view(p, n, hl, &mn)) == NULL) {
		mime = NULL;
		mn = n;
	}
	src = mime ? mime : p;
	plen = guard_nesting(src, mn);
	if (plen < mn)
		trace_add(c->t, "nesting limit: parsing the first %zu bytes\n",
		    plen);
	if ((closed = close_multiparts(src, plen, &plen, &nopen)) != NULL) {
		trace_add(c->t, "cut short: %d multipart%s never closed, "
		    "closed at the end\n", nopen, nopen > 1 ? "s" : "");
		keep_decoded(c, closed);
		src = closed;
	}
	trace_add(c->t, "MIME structure:\n");
	rc = mailmime_parse(src, plen, &idx, &mm);
	if (rc == MAILIMF_NO_ERROR && mm != NULL)
		walk(c, mm, 0, 0, "");
	else
		trace_add(c->t, "  (libetpan could not parse it)\n");
	if (c->parts >= LIM_MIME_PARTS)
		trace_add(c->t, "part limit reached: %d parts walked\n",
		    LIM_MIME_PARTS);
	/*
	 * Nothing found in the structure (a boundary that does not match its
	 * declaration, a part libetpan could not read): the body as text.
	 */
	/*
	 * A header block longer than LIM_HEADER_BYTES was cut: what follows
	 * is still header, and the report's own Message-ID would be read as
	 * a returned one.  No fallback then.
	 */
	if (hl < n && p[hl] != '\n') {
		trace_add(c->t, "  header longer than %u bytes: body not read "
		    "as text\n", LIM_HEADER_BYTES);
		hl = n;
	}
	if (c->trust < T_INLINE_NOMARK && hl < n) {
		trace_add(c->t, "  reading the whole body as text\n");
		scan_text(c, p + hl, n - hl, "body");
	}
	if (mm != NULL)
		mailmime_free(mm);
	/* orig_hdr may point into it: freed with the decoded parts */
	if (mime != NULL)
		keep_decoded(c, mime);
}

/* Does a Content-Type field name a report or a report's part? */
static int
report_ctype(const char *v, size_t n)
{
	return ascii_memmem_ci(v, n, "report") != NULL ||
	    ascii_memmem_ci(v, n, "delivery-status") != NULL ||
	    ascii_memmem_ci(v, n, "disposition-notification") != NULL;
}

/*
 * Can this message be a bounce at all?  0 only when extract() would
 * surely say "none": no header signal (null or daemon sender, bounce
 * subject, X-Failed-Recipients, auto-reply or machine markers), no
 * Content-Type field anywhere naming a report or a report's part, and no
 * JSON notification in the raw text.  Every kind extract() gives needs
 * one of these, so ordinary mail is delivered without the parser, and
 * without the guard.  tests/unit/test_classify.c checks that
 * on every fixture and the whole corpus.
 */
int
extract_maybe_bounce(const char *msg, size_t len, size_t limit, int env_null)
{
	struct top	 t;
	struct slice	 hb;
	const char	*q, *end, *nl, *v;
	size_t		 k;

	if (len > limit)
		len = limit;
	end = msg + len;
	/* lone CRs as line ends: leave it to extract(), which normalises */
	if (memchr(msg, '\n', len) == NULL)
		return 1;
	k = len < 65536 ? len : 65536;
	for (q = msg; (q = memchr(q, '\r', k - (size_t)(q - msg))) != NULL; q++)
		if (q + 1 >= msg + k || q[1] != '\n')
			return 1;
	/* as extract() reads it: the header after blank lines before it */
	k = hdr_start(msg, len);
	msg += k;
	len -= k;
	hb.p = msg;
	hb.n = hdr_block_len(msg, len);
	top_signals(hb, env_null, &t, NULL, 0);
	if (t.null_sender || t.daemon || t.subject || t.failed_rcpt ||
	    t.autoreply || t.bulk || t.feedback)
		return 1;
	/* JSON notifications; feedback reports' machine part and wording */
	if (memmem(msg, len, "otification", 11) != NULL ||
	    memmem(msg, len, "ventType", 8) != NULL ||
	    memmem(msg, len, "venttype", 8) != NULL ||
	    memmem(msg, len, "eedback-Type", 12) != NULL ||
	    memmem(msg, len, "for an email message", 20) != NULL ||
	    memmem(msg, len, "email abuse complaint", 21) != NULL)
		return 1;
	for (q = msg; q < end; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		if (*q != 'c' && *q != 'C')
			continue;
		if (!ascii_prefix(q, (size_t)(nl - q), "content-type"))
			continue;
		for (v = q + 12; v < nl && (*v == ' ' || *v == '\t'); v++)
			;
		if (v >= nl || *v != ':')
			continue;
		k = (size_t)(nl - v);
		/* the value may be folded onto the next lines */
		while (nl < end && nl + 1 < end && (nl[1] == ' ' ||
		    nl[1] == '\t')) {
			const char *n2 = memchr(nl + 1, '\n',
			    (size_t)(end - nl - 1));

			nl = n2 ? n2 : end;
			k = (size_t)(nl - v);
		}
		if (report_ctype(v, k))
			return 1;
		if (nl == end)
			break;
	}
	return 0;
}

/*
 * Copy the Received: fields of the returned original's header into ex, one
 * unfolded value a line, for the relay evidence (judge.c).  What does not
 * fit is left out: relays are checked on what was kept.
 */
static void
keep_received(struct extract *ex, const struct cls *c)
{
	struct slice	 cur, nm, v;
	size_t		 k;

	if (c->orig_hdr == NULL)
		return;
	cur.p = c->orig_hdr;
	cur.n = c->orig_hdr_len;
	while (hdr_next(&cur, &nm, &v)) {
		if (nm.n != 8 || ascii_casecmp_n(nm.p, "received", 8) != 0)
			continue;
		if (ex->received_len + 2 >= sizeof(ex->received))
			break;
		k = hdr_unfold(v, ex->received + ex->received_len,
		    sizeof(ex->received) - ex->received_len - 1);
		ex->received_len += k;
		ex->received[ex->received_len++] = '\n';
		ex->received[ex->received_len] = '\0';
	}
}

/* Is address a the Message-ID id, brackets aside? */
static int
same_id(const char *a, const char *id)
{
	size_t	 n = strlen(id);

	if (n > 2 && id[0] == '<' && id[n - 1] == '>') {
		id++;
		n -= 2;
	}
	return n > 0 && strlen(a) == n && ascii_casecmp_n(a, id, n) == 0;
}

/*
 * Why a is never a counterpart of a report of kind, or NULL: a delivery
 * report's own sender is never a failed recipient, nor is a Message-ID
 * read as an address ("with the message-id of 1234@host").  The sender
 * of an auto-reply or a receipt is what the user wrote to.
 */
static const char *
not_counterpart(const struct cls *c, enum kind kind,
    const struct extract_addr *a)
{
	if ((kind == K_DSN || kind == K_NDR) && self_strict(c->cp, a->addr))
		return "the report's own sender";
	if (same_id(a->addr, c->id) || same_id(a->addr, c->own))
		return "a Message-ID";
	return NULL;
}

/*
 * The counterparts, most trusted first: the DSN fields and
 * X-Failed-Recipients; the recipient lines of the text only when those
 * name none; the returned original's To/Cc always (a bounce of an
 * expanded alias names bob@other, the original says team@); for an
 * auto-reply, the replier (From and Reply-To, Sender when From is a
 * mail system's role address), which is what the user wrote to.
 */
static void
counterparts(struct extract *ex, const struct cls *c, struct slice hb,
    struct trace *t)
{
	static const char *const failed[] = { "X-Failed-Recipients" };
	static const char *const rcpt[] = { "To", "Cc" };
	static const char *const replier[] = { "From", "Reply-To", "Sender" };
	struct extract_addr tmp[EXTRACT_MAX_ADDRS];
	struct cparts	*cp = c->cp;
	struct slice	 oh;
	const char	*why;
	size_t		 i, j, ntmp = 0;
	int		 pass;

	if (ex->kind == K_AUTOREPLY) {
		field_addrs(hb, replier, 3, sink_list(tmp, &ntmp, AS_REPLIER));
		for (i = 0; i < ntmp; i++)
			if (!role_addr(tmp[i].addr))
				addr_add(ex->addrs, &ex->naddrs, tmp[i].addr,
				    AS_REPLIER);
	} else {
		for (i = 0; i < cp->nall; i++)
			if (cp->all[i].list == CP_DSN)
				addr_add(ex->addrs, &ex->naddrs,
				    cp->all[i].a.addr, cp->all[i].a.src);
		field_addrs(hb, failed, 1, sink_list(ex->addrs, &ex->naddrs,
		    AS_FAILED_RCPTS));
		for (pass = 0; ex->naddrs == 0 && pass < 2; pass++)
			for (i = 0; i < cp->nall; i++)
				if (cp->all[i].list == CP_TEXT &&
				    cp->all[i].a.src == (pass ?
				    AS_TEXT_MENTION : AS_TEXT))
					addr_add(ex->addrs, &ex->naddrs,
					    cp->all[i].a.addr,
					    cp->all[i].a.src);
	}
	if (c->orig_hdr != NULL) {
		oh.p = c->orig_hdr;
		oh.n = hdr_block_len(c->orig_hdr, c->orig_hdr_len);
		field_addrs(oh, rcpt, 2, sink_list(ex->addrs, &ex->naddrs,
		    AS_RETURNED));
	} else
		for (i = 0; i < cp->nall; i++)
			if (cp->all[i].list == CP_RET)
				addr_add(ex->addrs, &ex->naddrs,
				    cp->all[i].a.addr, AS_RETURNED);
	for (i = j = 0; i < ex->naddrs; i++) {
		if ((why = not_counterpart(c, ex->kind, &ex->addrs[i])) !=
		    NULL) {
			trace_add(t, "not a counterpart: %s (%s)\n",
			    ex->addrs[i].addr, why);
			continue;
		}
		trace_add(t, "counterpart: %s (%s)\n", ex->addrs[i].addr,
		    extract_addr_source(ex->addrs[i].src));
		if (i != j)
			ex->addrs[j] = ex->addrs[i];
		j++;
	}
	ex->naddrs = j;
}

/*
 * What the judge needs besides the original's Message-ID and who wrote
 * the report (score()): the returned original's Date: (when did it
 * leave?), and the ids the report's In-Reply-To and References name
 * (any of them sent by the user vouches for the report).
 */
static void
judge_inputs(struct extract *ex, const struct cls *c, struct slice hb)
{
	static const char *const reffields[] = { "In-Reply-To", "References" };
	char		 date[200], *val;
	struct slice	 oh, v;
	const char	*p, *e, *end;
	size_t		 i, k, n;

	if (c->orig_hdr != NULL) {
		oh.p = c->orig_hdr;
		oh.n = hdr_block_len(c->orig_hdr, c->orig_hdr_len);
		if (hdr_find(oh, "Date", &v)) {
			hdr_unfold(v, date, sizeof(date));
			ex->orig_date = extract_date(date, strlen(date));
		}
	}
	val = xmalloc(LIM_FIELD_BYTES);
	for (i = 0; i < 2; i++) {
		if (!hdr_find(hb, reffields[i], &v))
			continue;
		n = hdr_unfold(v, val, LIM_FIELD_BYTES);
		/* References: the newest last; keep the newest first */
		for (end = val + n; end > val && ex->nrefs < EXTRACT_MAX_REFS;
		    end = p) {
			if ((p = memrchr(val, '<', (size_t)(end - val))) == NULL)
				break;
			if ((e = memchr(p, '>', (size_t)(end - p))) == NULL)
				continue;
			k = (size_t)(e - p) + 1;
			if (k < 5 || k > EXTRACT_REF_LEN ||
			    memchr(p, '@', k) == NULL)
				continue;
			memcpy(ex->refs[ex->nrefs], p, k);
			ex->refs[ex->nrefs++][k] = '\0';
		}
	}
	free(val);
}

/*
 * May the message be a gateway's NDR (score())?  No mail system's sender
 * (null, daemon, X-Failed-Recipients: those are bounces the usual way), a
 * Subject that starts with a bounce phrase ("Undeliverable:", "DELIVERY
 * FAILURE:", "Non remis :", not "[Ticket#1] mail delivery failed", not a
 * reply or a forward), and no person's mail client.
 */
static int
gateway_subject(const struct top *top)
{
	return !top->null_sender && !top->daemon && !top->failed_rcpt &&
	    top->subject && top->lead && !top->fwd && !top->mua;
}

/*
 * Hotmail's complaints (JMRP, before ARF) name the complainant in a field
 * the provider adds to the reported copy, X-HmXmrOriginalRecipient.
 */
static void
complainant(struct cls *c)
{
	static const char *const names[] = { "X-HmXmrOriginalRecipient" };
	struct slice	 oh, v;

	if (c->orig_hdr == NULL)
		return;
	oh.p = c->orig_hdr;
	oh.n = hdr_block_len(c->orig_hdr, c->orig_hdr_len);
	if (!hdr_find(oh, names[0], &v))
		return;
	c->complainant = 1;
	if (c->cp != NULL)
		field_addrs(oh, names, 1, sink_cp(c->cp, CP_DSN,
		    AS_COMPLAINANT));
}

/*
 * Parsing: the top header's signals, the message's own Message-ID, with
 * EXTRACT_ADDRS its Date and own addresses, then the MIME structure and
 * text (analyze()).  What is found goes into c, top and ex->date; nothing
 * is weighed here.
 */
static void
read_message(struct cls *c, struct top *top, struct slice hb,
    const char *text, size_t nlen, unsigned flags, struct extract *ex)
{
	static const char *const own_fields[] = {
		"From", "Sender", "Return-Path", "To", "Cc", "Reply-To",
		"Delivered-To", "X-Original-To", "Envelope-To", "Resent-From",
		"Resent-To"
	};	/* the first three: SELF_STRICT */
	static struct cparts cp;	/* 30 KiB: not on the stack */
	char		 date[200];
	struct slice	 v;

	top_signals(hb, c->env_null, top, c->t, 1);
	if (hdr_find(hb, "Message-ID", &v))
		hdr_msgid(v, c->own, sizeof(c->own));
	/* the date, for recipient evidence: only when asked (scan and
	 * explain show it; deliver needs it only when the rules judge by
	 * recipients) */
	if ((flags & EXTRACT_ADDRS) && hdr_find(hb, "Date", &v)) {
		hdr_unfold(v, date, sizeof(date));
		ex->date = extract_date(date, strlen(date));
	}
	/*
	 * The counterparts, when asked, or when the message may be a
	 * gateway's NDR (score()): whether its text names a failed recipient
	 * says what it is, and deliver and scan must read it alike.  The
	 * report's own addresses (the user's, the daemon's) are never one.
	 */
	if ((flags & EXTRACT_ADDRS) || gateway_subject(top)) {
		memset(cp.n, 0, sizeof(cp.n));
		cp.nall = 0;
		field_addrs(hb, own_fields, 3, sink_cp(&cp, CP_SELF,
		    SELF_STRICT));
		field_addrs(hb, own_fields + 3, sizeof(own_fields) /
		    sizeof(own_fields[0]) - 3, sink_cp(&cp, CP_SELF,
		    SELF_LOOSE));
		c->cp = &cp;
	}
	analyze(c, text, nlen);
	complainant(c);
}

/*
 * Scoring: what the signals read make of the message, its kind and
 * whether it may be backscatter (ex->strong).  Reads top and c only.
 */
static void
score(const struct top *top, const struct cls *c, struct extract *ex,
    struct trace *t)
{
	int	 hdr_sig, body_sig, ndr, fbl;

	/*
	 * Is it a bounce?  Header signals (null sender, daemon sender, bounce
	 * subject, X-Failed-Recipients) and body signals (a returned copy,
	 * bounce text) add up; one weak signal alone never makes a bounce.
	 * Without a strong signal (null or daemon sender, X-Failed-Recipients)
	 * a bounce may be "ours" or "unknown", never "backscatter".
	 */
	hdr_sig = 2 * top->null_sender + 2 * top->daemon + 2 * top->subject +
	    3 * top->failed_rcpt;
	body_sig = (c->copy_part || c->trust >= T_INLINE_NOMARK) + c->marker;
	ex->strong = top->null_sender || top->daemon || top->failed_rcpt ||
	    c->json;
	/*
	 * Without a strong signal, only a bounce subject together with a
	 * returned copy (attached, or pasted after a marker) makes a bounce:
	 * a bug tracker's "delivery fails" mail is not one.
	 */
	ndr = (ex->strong && hdr_sig + body_sig >= 3) || c->json ||
	    (top->subject && (c->copy_part || c->trust >= T_INLINE));
	/*
	 * Antivirus and content gateways, Exchange, Notes and GroupWise
	 * connectors send their NDRs as a product or "System Administrator",
	 * not as MAILER-DAEMON: what they are says it -- their Subject
	 * (gateway_subject()), a delivery-failure statement, and a returned
	 * copy or a failed recipient named as a report lists it.
	 */
	if (!ndr && gateway_subject(top) && c->marker &&
	    (c->copy_part || c->trust >= T_INLINE_NOMARK ||
	    c->rcpt_lines > 0)) {
		trace_add(t, "a gateway's report: a bounce subject, its "
		    "statement and %s\n", c->rcpt_lines > 0 ? "a failed "
		    "recipient" : "a returned copy");
		ndr = 1;
	}
	/*
	 * A feedback (abuse) report: RFC 5965's report type or machine part,
	 * or the older forms that return the reported message with the
	 * provider's own mark (its wording, "X-ARF: yes", the complainant
	 * named in the copy, Hotmail's subject) -- never a person
	 * forwarding one (Fwd:) or complaining with the spam attached.
	 */
	fbl = (c->report && strcasecmp(c->report_type, "feedback-report") ==
	    0) || (!top->fwd && (c->feedback || ((c->fbl_text ||
	    top->feedback || c->complainant) && (c->copy_part ||
	    c->trust >= T_INLINE))));
	trace_add(t, "bounce score: header %d + body %d%s%s\n", hdr_sig,
	    body_sig, ex->strong ? " (strong)" : "", fbl ?
	    ", a feedback report" : "");
	if (c->report && strcasecmp(c->report_type,
	    "disposition-notification") == 0)
		ex->kind = K_MDN;
	else if (c->report || c->dsn_part || (fbl && c->feedback))
		ex->kind = K_DSN;
	else if (c->mdn_part)
		ex->kind = K_MDN;
	else if (ndr || fbl)
		ex->kind = K_NDR;
	else if (top->autoreply || (c->challenge && (top->bulk ||
	    top->null_sender || top->daemon) && (top->in_reply_to ||
	    c->trust >= T_INLINE)))
		/* a challenge is about one message: it names or returns it */
		ex->kind = K_AUTOREPLY;
	else
		ex->kind = K_NONE;
	/*
	 * A report type or an explicit auto-reply is strong; an auto-reply
	 * told by Precedence and its subject alone only with a strong
	 * sender.
	 */
	if ((ex->kind != K_NDR && !(ex->kind == K_AUTOREPLY && top->weak_ar)) ||
	    fbl)
		ex->strong = 1;
	/* who wrote it (extract.h): an NDR is one by what its body says */
	if (fbl)
		ex->report = EXTRACT_REPORT_FEEDBACK;
	else if (ex->kind == K_NDR || (ex->kind == K_DSN && (c->dsn_part ||
	    strcasecmp(c->report_type, "delivery-status") == 0 ||
	    top->null_sender || top->daemon || top->failed_rcpt)))
		ex->report = EXTRACT_REPORT_DELIVERY;
	if (ex->report != EXTRACT_REPORT_NONE)
		trace_add(t, "written by: a mail system (%s report)\n",
		    ex->report == EXTRACT_REPORT_FEEDBACK ? "a feedback" :
		    "a delivery");
}

/*
 * The original's Message-ID, Received: fields and counterparts into ex:
 * a report or auto-reply without a returned copy names its original by
 * In-Reply-To, else the last References entry.
 */
static void
report_original(struct cls *c, struct slice hb, unsigned flags,
    struct extract *ex, struct trace *t)
{
	char		 id[LIM_MSGID + 1];
	struct slice	 v;

	if (ex->kind == K_NONE)
		return;
	if (c->trust < T_INLINE_NOMARK) {
		if (hdr_find(hb, "In-Reply-To", &v) &&
		    hdr_msgid(v, id, sizeof(id)))
			set_id(c, T_AUTOREPLY, id, "In-Reply-To");
		else if (hdr_find(hb, "References", &v) &&
		    hdr_last_msgid(v, id, sizeof(id)))
			set_id(c, T_AUTOREPLY, id, "References");
	}
	if (c->trust != T_NONE) {
		snprintf(ex->msgid, sizeof(ex->msgid), "%s", c->id);
		snprintf(ex->where, sizeof(ex->where), "%s", c->where);
		keep_received(ex, c);
	}
	if (flags & EXTRACT_ADDRS)
		counterparts(ex, c, hb, t);
}

/*
 * What a message is and what it quotes: parse (read_message()), weigh
 * (score()), then name the original (report_original()).
 */
void
extract(const char *msg, size_t len, size_t limit, unsigned flags,
    struct extract *ex, struct trace *t)
{
	struct cls	 c;
	struct top	 top;
	struct slice	 hb;
	char		*norm = NULL;
	const char	*text;
	size_t		 nlen, off;

	extended_charconv = hdr_ascii_charconv;
	/* not the whole 26 KiB: the small members (received_len too); the
	 * arrays are read up to their counts */
	memset(ex, 0, offsetof(struct extract, addrs));
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.env_null = (flags & EXTRACT_NULL_SENDER) != 0;

	if (len > limit) {
		trace_add(t, "message of %zu bytes: classifying the first %zu\n",
		    len, limit);
		len = limit;
	}
	/* LF-only mail (nearly all, once the MTA has it) is read in place */
	if (memchr(msg, '\r', len) != NULL)
		text = norm = normalize(msg, len, &nlen);
	else {
		text = msg;
		nlen = len;
	}
	/* blank lines before the header: the header after them */
	if ((off = hdr_start(text, nlen)) > 0) {
		trace_add(t, "%zu bytes of blank lines before the header: "
		    "reading the header after them\n", off);
		text += off;
		nlen -= off;
	}
	hb.p = text;
	hb.n = hdr_block_len(text, nlen);
	read_message(&c, &top, hb, text, nlen, flags, ex);
	score(&top, &c, ex, t);
	report_original(&c, hb, flags, ex, t);
	if (ex->kind != K_NONE)
		judge_inputs(ex, &c, hb);
	free_decoded(&c);
	free(norm);
}
