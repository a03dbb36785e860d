/*
 * backstop deliver and backstop filter: one message on stdin.
 *
 * deliver: read stdin to EOF once, classify under the guard (guard.c: a
 * crash or hang in classification stores the message unclassified), pick
 * the folder by the rules, write by the Maildir protocol, exit 0 only when
 * the message is safely there.  Every failure that leaves the message
 * undelivered is exit 75 with one line on stderr, never starting with a
 * status code (Postfix would read "4.x.x"/"5.x.x" as its own).  Under
 * --qmail the RPLINE and DTLINE of qmail-local are prepended as its own
 * maildir delivery does, and success is 99 so later .qmail lines do not
 * deliver the message twice.  Only under --qmail: procmail and maildrop
 * run from a .qmail inherit both variables, and read 99 as a failure.
 *
 * A deadline (SIGALRM), SIGTERM, SIGHUP or SIGINT before the message is
 * stored removes its tmp/ file and exits 75; once it is stored (in new/,
 * synced: maildir_abort_inflight() says so) they change nothing, and
 * nothing after that blocks (the syslog line is sent without waiting,
 * util.c).
 *
 * filter: the same classification, the message written to stdout with the
 * X-Backstop: field added to bounces (procmail ":0 fw", maildrop xfilter,
 * Pigeonhole vnd.dovecot.filter); exit 75 on any failure.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "commands.h"
#include "evidence.h"
#include "extract.h"
#include "guard.h"
#include "judge.h"
#include "junk.h"
#include "maildir.h"
#include "opts.h"
#include "rules.h"
#include "util.h"

#define DELIVER_DEADLINE	600	/* seconds; Postfix allows 1000 */
#define HEADER_HOLD	(64u << 20)	/* top header block held */

/*
 * The deadline, or the MTA or an operator stopping the delivery: before
 * the message is stored, remove its tmp/ file (a half-written message
 * that nothing would ever remove) and exit 75, the MTA keeps it; after,
 * carry on to exit 0 (or 99): a 75 or a death by signal then would have
 * the MTA deliver it again.
 */
static void
on_cancel(int sig)
{
	static const char dl[] = "backstop: delivery deadline reached, "
	    "temporary failure\n";
	static const char st[] = "backstop: stopped by a signal before the "
	    "message was stored, temporary failure\n";

	if (maildir_abort_inflight())
		return;
	if (sig == SIGALRM)
		(void)!write(2, dl, sizeof(dl) - 1);
	else
		(void)!write(2, st, sizeof(st) - 1);
	_exit(EXIT_TEMPFAIL);
}

/*
 * Out of memory outside classification (xmalloc() ends the process with
 * 75): before the message is stored its tmp/ file goes too; after, the
 * exit is the success code, as for a signal (a 75 then would have the
 * MTA deliver it again).
 */
static volatile int	 oom_exit;

static void
on_oom(void)
{
	if (maildir_abort_inflight())
		_exit(oom_exit);
}

/*
 * on_cancel() for the deadline and, for deliver, SIGTERM, SIGHUP and
 * SIGINT, except where the caller left them ignored (as a shell leaves
 * SIGINT for a background job).
 */
static void
catch_cancel(int all)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT };
	struct sigaction sa, old;
	size_t		 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cancel;
	sigfillset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; all && i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			sigaction(sigs[i], &old, NULL);
}

/* Was the envelope sender null?  Postfix and qmail say so in $SENDER. */
static int
env_null_sender(void)
{
	const char *s = getenv("SENDER");

	return s != NULL && (*s == '\0' || strcmp(s, "<>") == 0 ||
	    strcasecmp(s, "MAILER-DAEMON") == 0);
}

struct msgctx {
	char		*buf;		/* guard_alloc()'d, read-only once armed */
	size_t		 len, cap;
	size_t		 skip;		/* From_ line */
	struct rules	*rules;
	int		 rules_ok;
	char		 rules_err[512];
	struct result	 res;
	int		 crlf;
	int		 more;		/* stdin not read to its end yet */
	int		 maybe;		/* may be a bounce: classify */
	char		 rules_why[512];	/* rules_err, printable */
	char		*own[2];	/* qmail lines, newline added */
	/* the folder of each verdict (NULL: inbox) and, last, the Junk
	 * folder, read from the rules before classification runs, kept by
	 * the guard; so is the junk section's policy */
	const char	*folder[V_COUNT + 1];
	struct junk_policy junk;
	int		 digest;	/* junk.digest: daily */
};

/*
 * Where the top header block of (p, n) ends: the offset of the empty line
 * (LF or CRLF) that ends it, or n when there is none.  The scan starts at
 * from, which must be 0 or inside a line whose start was scanned before.
 */
static size_t
header_end(const char *p, size_t n, size_t from)
{
	const char	*nl;
	size_t		 i = from;

	if (from == 0 && ((n > 0 && p[0] == '\n') ||
	    (n > 1 && p[0] == '\r' && p[1] == '\n')))
		return 0;
	while ((nl = memchr(p + i, '\n', n - i)) != NULL) {
		i = (size_t)(nl - p) + 1;
		if (i < n && p[i] == '\n')
			return i;
		if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n')
			return i;
	}
	return n;
}

/*
 * prepare() reads what classification needs; neutralize() needs the
 * whole top header block, so that a field past that point (a header of
 * hundreds of KiB, a Received: flood) cannot reach the mailbox from the
 * unread rest of stdin.  Read on to the end of the block, up to
 * HEADER_HOLD (MTAs cut headers far below: Postfix header_size_limit
 * 100 KiB, Exim 1 MiB).  0, or -1 with errno.
 */
static int
read_header_rest(struct msgctx *m)
{
	size_t	 from = 0, have, ncap;
	char	*nbuf;
	ssize_t	 r;

	for (;;) {
		have = m->len - m->skip;
		if (header_end(m->buf + m->skip, have, from) < have ||
		    !m->more || have >= HEADER_HOLD)
			return 0;
		from = have >= 2 ? have - 2 : 0;
		if (m->len == m->cap) {
			ncap = m->cap * 2;
			if ((nbuf = guard_realloc(m->buf, m->cap, ncap)) ==
			    NULL)
				return -1;
			m->buf = nbuf;
			m->cap = ncap;
		}
		r = read(0, m->buf + m->len, m->cap - m->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			m->more = 0;
		m->len += (size_t)r;
	}
}

/*
 * Is the line (p, n) an X-Backstop field as a mail client or Sieve reads
 * it: the name in any case, and whitespace before the colon (the obsolete
 * syntax of RFC 5322 4.5, which parsers accept)?
 */
static int
is_xbackstop(const char *p, size_t n)
{
	static const char name[] = "X-Backstop";
	size_t		 i = sizeof(name) - 1;

	if (n < i || ascii_casecmp_n(p, name, i) != 0)
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

/*
 * An X-Backstop: field that arrives with the message is someone else's
 * claim, and recipes file on it (procmail "^X-Backstop: backscatter",
 * Sieve): rename every one in the top header block, however long (see
 * read_header_rest), to X-Backstop-Incoming before anything reads or
 * stores the message.  Messages without one (nearly all) are not copied.
 */
static int
neutralize(struct msgctx *m)
{
	static const char from[] = "X-Backstop", to[] = "X-Backstop-Incoming";
	const char	*body = m->buf + m->skip, *nl;
	size_t		 n = m->len - m->skip, hlen, hits = 0, o, last;
	size_t		 ncap, off, next;
	char		*out;

	hlen = header_end(body, n, 0);
	for (off = 0; off < hlen; off = next) {
		nl = memchr(body + off, '\n', hlen - off);
		next = nl != NULL ? (size_t)(nl - body) + 1 : hlen;
		hits += is_xbackstop(body + off, next - off);
	}
	if (hits == 0)
		return 0;
	ncap = m->len + hits * (sizeof(to) - sizeof(from));
	if ((out = guard_alloc(ncap)) == NULL)
		return -1;
	memcpy(out, m->buf, m->skip);
	o = m->skip;
	last = 0;
	for (off = 0; off < hlen; off = next) {
		nl = memchr(body + off, '\n', hlen - off);
		next = nl != NULL ? (size_t)(nl - body) + 1 : hlen;
		if (!is_xbackstop(body + off, next - off))
			continue;
		memcpy(out + o, body + last, off - last);
		o += off - last;
		memcpy(out + o, to, sizeof(to) - 1);
		o += sizeof(to) - 1;
		last = off + sizeof(from) - 1;
	}
	memcpy(out + o, body + last, n - last);
	o += n - last;
	guard_free(m->buf, m->cap);
	m->buf = out;
	m->len = o;
	m->cap = ncap;
	return 0;
}

/*
 * A broken rule file never costs a message: the inbox, and where it
 * cannot go unnoticed, also without a syslog: one line on stderr
 * (procmail and maildrop log it; Postfix ignores it on success) and
 * X-Backstop: error in every message delivered meanwhile (make_header).
 * The same when the rules turn out unusable while judging (a sent index
 * path that names a file of another kind).
 */
static void
rules_broken(struct msgctx *m)
{
	m->rules_ok = 0;
	sanitize(m->rules_why, sizeof(m->rules_why), m->rules_err,
	    strlen(m->rules_err));
	warnx_("rules not used: %s", m->rules_why);
	log_msg(LOG_ERR, "rules not used: %s", m->rules_err);
	m->res.verdict = V_NOT_BOUNCE;
	m->res.failed = 1;
	snprintf(m->res.reason, sizeof(m->res.reason), "rules not used");
}

/*
 * Read, load the rules, and decide whether the message needs classifying
 * (m->maybe); ordinary mail is settled here.
 */
static int
prepare(struct msgctx *m, const char *rulesfile, const char *user)
{
	struct rules_junk j;
	size_t	 want;
	int	 v;

	memset(m, 0, sizeof(*m));
	m->rules = rules_new(user);
	m->rules_ok = rules_load_default(m->rules, rulesfile, m->rules_err,
	    sizeof(m->rules_err)) == 0;
	/* what classification reads, the whole top header block (neutralize
	 * rewrites it) and a From_ line; the rest of a big message is not
	 * held in memory but copied from stdin straight into the delivery
	 * file (or to stdout) after the part read here */
	want = m->rules_ok ? rules_parse_bytes(m->rules) : LIM_PARSE_BYTES;
	if (want < LIM_HEADER_BYTES)
		want = LIM_HEADER_BYTES;
	want += 4096;
	if (guard_read_fd(0, &m->buf, &m->len, &m->cap, want, &m->more) == -1) {
		warnx_("cannot read the message: %s", strerror(errno));
		return -1;
	}
	m->skip = msg_from_line_len(m->buf, m->len);
	if (m->more && read_header_rest(m) == -1) {
		warnx_("cannot read the message: %s", strerror(errno));
		return -1;
	}
	if (neutralize(m) == -1) {
		warnx_("out of memory");
		return -1;
	}
	m->crlf = m->skip < m->len && memchr(m->buf + m->skip, '\r',
	    m->len - m->skip) != NULL &&
	    ((const char *)memchr(m->buf + m->skip, '\n', m->len - m->skip) >
	    (const char *)memchr(m->buf + m->skip, '\r', m->len - m->skip));
	if (!m->rules_ok) {
		rules_broken(m);
		return 0;
	}
	for (v = 0; v < V_COUNT; v++)
		m->folder[v] = rules_folder(m->rules, (enum verdict)v);
	m->folder[V_COUNT] = rules_junk_folder(m->rules);
	rules_junk(m->rules, &j);
	m->junk.max_messages = j.max_messages;
	m->junk.max_bytes = j.max_bytes;
	m->junk.quota_ignore = j.quota_ignore;
	m->digest = j.digest;
	m->maybe = extract_maybe_bounce(m->buf + m->skip, m->len - m->skip,
	    rules_parse_bytes(m->rules), env_null_sender());
	if (!m->maybe) {
		/* ordinary mail: no parser, no guard */
		m->res.verdict = V_NOT_BOUNCE;
		snprintf(m->res.reason, sizeof(m->res.reason), "not a bounce");
	}
	return 0;
}

/*
 * Classify: extract under the guard, then judge outside it.  If the
 * parsers crash, hang or run out of memory, the guard stores iov[] and the
 * rest of stdin as planned (sink, root) and exits exit_ok, or 75.  The
 * judgement (the rules' evidence, the sent index and its I/O) runs after
 * the guard is off: a deadline cannot fire in the middle of it.
 */
static void
classify_guarded(struct msgctx *m, const struct ev_ctx *ctx, int sink,
    const char *root, const struct slice *iov, size_t niov, int exit_ok)
{
	/* 25 KiB, only for a message that may be a bounce: not in msgctx,
	 * which prepare() clears for every message; extract() clears it */
	static struct extract ex;
	struct guard_req q;
	size_t		 i;

	if (!m->maybe)
		return;
	memset(&q, 0, sizeof(q));
	q.sink = sink;
	q.root = root;
	q.iov = iov;
	q.niov = niov;
	q.tail_fd = m->more ? 0 : -1;
	q.exit_ok = exit_ok;
	q.timeout = rules_timeout(m->rules);
	q.memlimit = m->len + LIM_MEM_MB * 1048576UL;
	q.seal = m->buf;
	q.sealn = m->cap;
	q.keep = m->folder;
	q.kept = m->folder;
	q.nkeep = V_COUNT + 1;
	if (guard_arm(&q) == -1) {
		m->res.verdict = V_NOT_BOUNCE;
		m->res.failed = 1;
		snprintf(m->res.reason, sizeof(m->res.reason), "cannot guard "
		    "the classifier: %s", strerror(errno));
		log_msg(LOG_ERR, "classification skipped, delivering as "
		    "not-bounce: %s", m->res.reason);
		return;
	}
	guard_test_inject(m->buf + m->skip);
	extract(m->buf + m->skip, m->len - m->skip,
	    rules_parse_bytes(m->rules), (env_null_sender() ?
	    EXTRACT_NULL_SENDER : 0) | ((rules_has_evidence(m->rules) &
	    RULES_EV_INDEX) ? EXTRACT_ADDRS : 0), &ex, NULL);
	guard_disarm();
	xmalloc_on_oom(on_oom);
	/* plain data, but checked as if it came from elsewhere */
	if ((unsigned)ex.kind > K_MDN)
		ex.kind = K_NDR;
	ex.msgid[sizeof(ex.msgid) - 1] = '\0';
	ex.where[sizeof(ex.where) - 1] = '\0';
	if (ex.received_len >= sizeof(ex.received))
		ex.received_len = 0;
	if (ex.naddrs > EXTRACT_MAX_ADDRS)
		ex.naddrs = 0;
	for (i = 0; i < ex.naddrs; i++)
		ex.addrs[i].addr[sizeof(ex.addrs[i].addr) - 1] = '\0';
	if (ex.nrefs > EXTRACT_MAX_REFS)
		ex.nrefs = 0;
	if ((unsigned)ex.report > EXTRACT_REPORT_FEEDBACK)
		ex.report = EXTRACT_REPORT_NONE;
	for (i = 0; i < ex.nrefs; i++)
		ex.refs[i][sizeof(ex.refs[i]) - 1] = '\0';
	judge(ctx, m->rules, &ex, &m->res, NULL);
	if (m->res.config_error) {
		snprintf(m->rules_err, sizeof(m->rules_err), "%s",
		    m->res.reason);
		rules_broken(m);
	}
}

static void
msg_free(struct msgctx *m)
{
	guard_free(m->buf, m->cap);
	rules_free(m->rules);
	free(m->own[0]);
	free(m->own[1]);
}

/*
 * The X-Backstop: field for the message, or "": bounces get the verdict;
 * with rules that could not be used, every message gets
 * "X-Backstop: error; rules not used: REASON", so that the user sees in
 * the mail itself that filtering stopped (no recipe files on "error").
 */
static void
make_header(const struct msgctx *m, char *out, size_t outsz)
{
	char	 body[900];
	int	 n;

	out[0] = '\0';
	if (!m->rules_ok)
		n = snprintf(out, outsz, "X-Backstop: error; rules not used: "
		    "%.880s%s", m->rules_why, m->crlf ? "\r\n" : "\n");
	else if (m->res.failed || m->res.verdict == V_NOT_BOUNCE)
		return;
	else {
		judge_header(&m->res, body, sizeof(body));
		n = snprintf(out, outsz, "X-Backstop: %s%s", body,
		    m->crlf ? "\r\n" : "\n");
	}
	if (n < 0 || (size_t)n >= outsz)
		out[0] = '\0';
}

/*
 * The one log line of a message, in every mode: the user (-u, $USER,
 * $LOGNAME), the verdict, the kind, the original and the folder ("-":
 * filter's caller files it).
 */
static void
log_message(const struct opts *o, const struct msgctx *m, const char *folder)
{
	const char	*who = opts_user(o), *id = m->res.msgid;
	char		 userlog[256], idlog[256];

	if (who == NULL)
		who = "-";
	if (id[0] == '\0')
		id = "-";
	sanitize(userlog, sizeof(userlog), who, strlen(who));
	sanitize(idlog, sizeof(idlog), id, strlen(id));
	log_msg(LOG_INFO, "user=%s verdict=%s kind=%s original=%s "
	    "folder=%s%s%s", userlog, verdict_name(m->res.verdict),
	    kind_name(m->res.kind), idlog, folder, m->res.failed ? " note=" :
	    "", m->res.failed ? m->res.reason : "");
}

/*
 * A qmail-local line from the environment, for --qmail: with its newline
 * (qmail-local's end in one; one set by hand may not, and the next field
 * would run into it).  0 when v is unset or empty.
 */
static int
qmail_line(struct slice *s, const char *v, char **own_r)
{
	size_t	 n;
	char	*b;

	if (v == NULL || *v == '\0')
		return 0;
	n = strlen(v);
	s->p = v;
	s->n = n;
	if (v[n - 1] != '\n') {
		b = xmalloc(n + 1);
		memcpy(b, v, n);
		b[n] = '\n';
		s->p = *own_r = b;
		s->n = n + 1;
	}
	return 1;
}

/*
 * What deliver (maildir 1) and filter (0) start with: the signals that
 * cancel a delivery, the deadline, no SIGPIPE from a reader gone away.
 */
static void
begin(int maildir)
{
	catch_cancel(maildir);
	alarm(DELIVER_DEADLINE);
	signal(SIGPIPE, SIG_IGN);
	xmalloc_on_oom(on_oom);
}

/*
 * The maildir: -d (with %u, %d, %h, ~ expanded), else $HOME/Maildir; no
 * trailing '/'.  NULL after saying why on stderr.
 */
static char *
deliver_root(const char *user, const char *arg)
{
	const char	*home;
	char		*root, err[PATH_MAX + 256];

	if (arg == NULL) {
		if ((home = maildir_home()) == NULL) {
			warnx_("no home directory: set HOME or use -d, "
			    "temporary failure");
			return NULL;
		}
		if (strlen(home) + sizeof("/Maildir") > PATH_MAX) {
			warnx_("HOME too long, temporary failure");
			return NULL;
		}
		root = xstrjoin(home, "/Maildir", (char *)NULL);
	} else {
		/* on the heap, cut to its length: a PATH_MAX array here put
		 * the frames under it a page further down (a fault each) */
		root = xmalloc(PATH_MAX);
		if (rules_expand(user, arg, root, PATH_MAX, err,
		    sizeof(err)) == -1) {
			warnx_("-d %s, temporary failure", err);
			free(root);
			return NULL;
		}
		root = xrealloc(root, strlen(root) + 1);
	}
	while (strlen(root) > 1 && root[strlen(root) - 1] == '/')
		root[strlen(root) - 1] = '\0';
	return root;
}

static int
make_room(void *arg, struct maildir_need *n)
{
	return junk_room(arg, n);
}

/*
 * Store iov[] (and the rest of stdin) into folder of root (NULL: the
 * inbox), within the Junk folder's cap and the quota (junk_room()); the
 * Junk ledger counts what is filed there.  0, or -1 (err says why).
 */
static int
store(struct msgctx *m, const char *root, const char *folder,
    const struct slice *iov, size_t niov, char *err, size_t errsz)
{
	struct maildir_room room;
	struct maildir_put put = {
		.root = root, .folder = folder, .iov = iov, .niov = niov,
		.tail_fd = m->more ? 0 : -1
	};

	if (m->rules_ok) {
		m->junk.root = root;
		m->junk.folder = m->folder[V_COUNT];
		m->junk.filing = folder != NULL &&
		    strcmp(folder, m->folder[V_COUNT]) == 0;
		room.make = make_room;
		room.arg = &m->junk;
		put.room = &room;
		put.unquoted = m->junk.quota_ignore ? m->junk.folder : NULL;
	}
	if (maildir_put(&put, err, errsz) == -1)
		return -1;
	if (m->rules_ok && m->junk.filing)
		junk_filed(&m->junk, put.size);
	return 0;
}

int
cmd_deliver(int argc, char **argv)
{
	struct msgctx	 m;
	struct ev_ctx	 ev;
	const char	*folder;
	char		*root, err[PATH_MAX + 256];
	char		 hdr[1024];
	struct slice	 iov[4];
	size_t		 niov = 0;
	int		 qmail = 0;
	const struct opt own[] = {
		{ 'q', "qmail", &qmail, NULL },
		{ 0, NULL, NULL, NULL }
	};
	struct opts	 o;

	begin(1);
	/* a usage error is 75 too: any permanent code bounces the message;
	 * -u USER@DOMAIN gives %u and %d of -d and -r (rules.c) */
	if (opts_parse(&o, "deliver", "d:r:u:", own, argc, argv, 0, 0) == -1)
		return o.rc;
	if ((root = deliver_root(o.user, o.maildir)) == NULL)
		return EXIT_TEMPFAIL;
	if (prepare(&m, o.rules, o.user) == -1) {
		free(root);
		return EXIT_TEMPFAIL;
	}
	/* relative sent folders (outbound.sent) are looked for in root */
	ev_ctx_init(&ev, m.rules, root, o.user);
	if (qmail) {
		oom_exit = EXIT_QMAIL_STOP;
		niov += qmail_line(&iov[niov], getenv("RPLINE"), &m.own[0]);
		niov += qmail_line(&iov[niov], getenv("DTLINE"), &m.own[1]);
	}
	if (m.maybe) {
		/* the rescue stores into the inbox, which must exist */
		if (maildir_ensure(root, NULL, err, sizeof(err)) == -1) {
			warnx_("%s, temporary failure", err);
			log_msg(LOG_ERR, "delivery failed, deferred: %s", err);
			msg_free(&m);
			free(root);
			return EXIT_TEMPFAIL;
		}
		iov[niov].p = m.buf + m.skip;
		iov[niov].n = m.len - m.skip;
		classify_guarded(&m, &ev, GUARD_MAILDIR, root, iov, niov + 1,
		    qmail ? EXIT_QMAIL_STOP : EXIT_OK);
	}
	folder = m.rules_ok && !m.res.failed ? m.folder[m.res.verdict] : NULL;
	make_header(&m, hdr, sizeof(hdr));
	if (hdr[0] != '\0') {
		iov[niov].p = hdr;
		iov[niov++].n = strlen(hdr);
	}
	iov[niov].p = m.buf + m.skip;
	iov[niov++].n = m.len - m.skip;

	if (store(&m, root, folder, iov, niov, err, sizeof(err)) == -1) {
		warnx_("%s, temporary failure", err);
		log_msg(LOG_ERR, "delivery failed, deferred: %s", err);
		msg_free(&m);
		free(root);
		return EXIT_TEMPFAIL;
	}
	guard_done(qmail ? EXIT_QMAIL_STOP : EXIT_OK);
	if (err[0] != '\0')
		log_msg(LOG_ERR, "%s", err);
	log_message(&o, &m, folder ? folder : "inbox");
	/* stored: the digest of the day, if it is due, changes no exit */
	if (m.rules_ok && m.digest)
		junk_digest(&m.junk, time(NULL));
	msg_free(&m);
	free(root);
	return qmail ? EXIT_QMAIL_STOP : EXIT_OK;
}

int
cmd_filter(int argc, char **argv)
{
	struct msgctx	 m;
	struct ev_ctx	 ev;
	char		 hdr[1024];
	struct slice	 iov[3];
	struct opts	 o;

	begin(0);
	if (opts_parse(&o, "filter", "r:u:", NULL, argc, argv, 0, 0) == -1)
		return o.rc;
	if (prepare(&m, o.rules, o.user) == -1)
		return EXIT_TEMPFAIL;
	ev_ctx_init(&ev, m.rules, NULL, o.user);
	iov[0].p = m.buf + m.skip;
	iov[0].n = m.len - m.skip;
	classify_guarded(&m, &ev, GUARD_STDOUT, NULL, iov, 1, EXIT_OK);
	make_header(&m, hdr, sizeof(hdr));
	/*
	 * The From_ line is dropped: maildrop stores it as it gets it
	 * (maildrop(1): no From_ line on a filter's output), procmail stores
	 * the same with or without it, Sieve never gives one.
	 */
	iov[0].p = m.buf;
	iov[0].n = 0;
	iov[1].p = hdr;
	iov[1].n = strlen(hdr);
	iov[2].p = m.buf + m.skip;
	iov[2].n = m.len - m.skip;
	/* then the tail of a big message, straight from stdin */
	if (write_iov(1, iov, 3) == -1 || (m.more && copy_fd(1, 0) == -1)) {
		warnx_("copy of the message to stdout: %s, temporary failure",
		    strerror(errno));
		msg_free(&m);
		return EXIT_TEMPFAIL;
	}
	guard_done(EXIT_OK);
	log_message(&o, &m, "-");	/* Sieve, procmail, maildrop file it */
	msg_free(&m);
	return EXIT_OK;
}
