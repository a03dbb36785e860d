/*
 * backstop deliver and backstop filter: one message on stdin.
 *
 * deliver: read stdin to EOF once, classify under the guard (guard.c: a
 * crash or hang in classification stores the message unclassified), pick
 * the folder by the rules, write by the Maildir protocol, exit 0 only when
 * the message is safely there.  Every failure that leaves the message
 * undelivered is exit 75 with one line on stderr, never starting with a
 * status code (Postfix would read "4.x.x"/"5.x.x" as its own).  Under
 * qmail (RPLINE and DTLINE set, or --qmail) the two lines are prepended as
 * qmail-local does, and success is 99 so later .qmail lines do not deliver
 * the message twice.
 *
 * filter: the same classification, the message written to stdout with the
 * X-Backstop: field added to bounces (procmail ":0 fw", maildrop xfilter,
 * Pigeonhole vnd.dovecot.filter); exit 75 on any failure.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "backstop.h"

#define DELIVER_DEADLINE	600	/* seconds; Postfix allows 1000 */

extern char maildir_tmp_inflight[];

static void
on_alarm(int sig)
{
	static const char msg[] = "backstop: delivery deadline reached, "
	    "temporary failure\n";

	(void)sig;
	if (maildir_tmp_inflight[0] != '\0')
		unlink(maildir_tmp_inflight);
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(EXIT_TEMPFAIL);
}

/* Length of a leading mbox "From " line (Postfix and Exim prepend one). */
static size_t
from_line_len(const char *p, size_t n)
{
	const char *nl;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	if ((nl = memchr(p, '\n', n)) == NULL)
		return 0;
	return (size_t)(nl - p) + 1;
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
	/* the folder of each verdict (NULL: inbox), read from the rules
	 * before classification runs, kept by the guard */
	const char	*folder[V_COUNT];
};

/*
 * An X-Backstop: field that arrives with the message is someone else's
 * claim, and recipes file on it (procmail "^X-Backstop: backscatter",
 * Sieve): rename every one in the top header block to
 * X-Backstop-Incoming: before anything reads or stores the message.
 * Messages without one (nearly all) are not copied.
 */
static int
neutralize(struct msgctx *m)
{
	static const char from[] = "X-Backstop", to[] = "X-Backstop-Incoming";
	struct slice	 blk, cur, nm, v;
	const char	*body = m->buf + m->skip;
	size_t		 n = m->len - m->skip, hits = 0, o, last, ncap;
	char		*out;

	blk.p = body;
	blk.n = hdr_block_len(body, n);
	cur = blk;
	while (hdr_next(&cur, &nm, &v))
		if (nm.n == sizeof(from) - 1 &&
		    ascii_casecmp_n(nm.p, from, nm.n) == 0)
			hits++;
	if (hits == 0)
		return 0;
	ncap = m->len + hits * (sizeof(to) - sizeof(from));
	if ((out = guard_alloc(ncap)) == NULL)
		return -1;
	memcpy(out, m->buf, m->skip);
	o = m->skip;
	last = 0;
	cur = blk;
	while (hdr_next(&cur, &nm, &v))
		if (nm.n == sizeof(from) - 1 &&
		    ascii_casecmp_n(nm.p, from, nm.n) == 0) {
			size_t at = (size_t)(nm.p - body);

			memcpy(out + o, body + last, at - last);
			o += at - last;
			memcpy(out + o, to, sizeof(to) - 1);
			o += sizeof(to) - 1;
			last = at + nm.n;
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
 * Read, load the rules, and decide whether the message needs classifying
 * (m->maybe); ordinary mail is settled here.
 */
static int
prepare(struct msgctx *m, const char *rulesfile)
{
	size_t	 want;
	int	 v;

	memset(m, 0, sizeof(*m));
	m->rules = rules_new();
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
	if (read_fd_pages(0, &m->buf, &m->len, &m->cap, want, &m->more) == -1) {
		warnx_("cannot read the message: %s", strerror(errno));
		return -1;
	}
	m->skip = from_line_len(m->buf, m->len);
	if (neutralize(m) == -1) {
		warnx_("out of memory");
		return -1;
	}
	m->crlf = m->skip < m->len && memchr(m->buf + m->skip, '\r',
	    m->len - m->skip) != NULL &&
	    ((const char *)memchr(m->buf + m->skip, '\n', m->len - m->skip) >
	    (const char *)memchr(m->buf + m->skip, '\r', m->len - m->skip));
	if (!m->rules_ok) {
		/* a broken rule file never costs a message: inbox + log */
		log_msg(LOG_ERR, "rules not used: %s", m->rules_err);
		m->res.verdict = V_NOT_BOUNCE;
		m->res.failed = 1;
		snprintf(m->res.reason, sizeof(m->res.reason),
		    "rules not used");
		return 0;
	}
	for (v = 0; v < V_COUNT; v++)
		m->folder[v] = rules_folder(m->rules, (enum verdict)v);
	m->maybe = classify_maybe_bounce(m->buf + m->skip, m->len - m->skip,
	    rules_parse_bytes(m->rules), env_null_sender());
	if (!m->maybe) {
		/* ordinary mail: no parser, no guard */
		m->res.verdict = V_NOT_BOUNCE;
		snprintf(m->res.reason, sizeof(m->res.reason), "not a bounce");
	}
	return 0;
}

/*
 * Classify under the guard: if the parsers crash, hang or run out of
 * memory, the guard stores iov[] and the rest of stdin as planned (sink,
 * root) and exits exit_ok, or 75.  Returns only when classification ended.
 */
static void
classify_guarded(struct msgctx *m, int sink, const char *root,
    const struct slice *iov, size_t niov, int exit_ok)
{
	struct guard_req q;

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
	q.nkeep = V_COUNT;
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
	classify(m->buf + m->skip, m->len - m->skip, m->rules,
	    env_null_sender(), &m->res, NULL);
	guard_disarm();
	/* plain data, but checked as if it came from elsewhere */
	if ((unsigned)m->res.verdict >= V_COUNT)
		m->res.verdict = V_UNKNOWN;
	m->res.msgid[sizeof(m->res.msgid) - 1] = '\0';
	m->res.where[sizeof(m->res.where) - 1] = '\0';
	m->res.reason[sizeof(m->res.reason) - 1] = '\0';
	m->res.rule[sizeof(m->res.rule) - 1] = '\0';
}

static void
msg_free(struct msgctx *m)
{
	guard_free(m->buf, m->cap);
	rules_free(m->rules);
}

static void
make_header(const struct msgctx *m, char *out, size_t outsz)
{
	char	 body[900];

	out[0] = '\0';
	if (m->res.failed || m->res.verdict == V_NOT_BOUNCE)
		return;
	result_header(&m->res, body, sizeof(body));
	snprintf(out, outsz, "X-Backstop: %s%s", body, m->crlf ? "\r\n" : "\n");
}

static void
usage_deliver(void)
{
	fprintf(stderr, "usage: backstop deliver [--qmail] [-d MAILDIR] "
	    "[-r RULES] [-u USER@DOMAIN] < message\n");
}

int
cmd_deliver(int argc, char **argv)
{
	struct msgctx	 m;
	const char	*maildir = NULL, *rulesfile = NULL, *folder, *home;
	char		 root[PATH_MAX], err[PATH_MAX + 256], path[PATH_MAX];
	char		 hdr[1024], idlog[256];
	const char	*rp = getenv("RPLINE"), *dt = getenv("DTLINE");
	struct slice	 iov[4];
	size_t		 niov = 0;
	int		 ch, qmail = 0;
	static const struct option longopts[] = {
		{ "qmail", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	signal(SIGALRM, on_alarm);
	alarm(DELIVER_DEADLINE);
	signal(SIGPIPE, SIG_IGN);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:r:u:qh", longopts, NULL)) != -1)
		switch (ch) {
		case 'u':	/* %u and %d of -d and -r (rules.c) */
			rules_set_user(optarg);
			break;
		case 'd':
			maildir = optarg;
			break;
		case 'r':
			rulesfile = optarg;
			break;
		case 'q':
			qmail = 1;
			break;
		case 'h':
			usage_deliver();
			return EXIT_OK;
		default:
			/* never a permanent code from deliver: the MTA
			 * would bounce the message */
			usage_deliver();
			return EXIT_TEMPFAIL;
		}
	if (optind != argc) {
		usage_deliver();
		return EXIT_TEMPFAIL;
	}
	if (rp != NULL && dt != NULL)
		qmail = 1;

	if (maildir == NULL) {
		if ((home = maildir_home()) == NULL) {
			warnx_("no home directory: set HOME or use -d, "
			    "temporary failure");
			return EXIT_TEMPFAIL;
		}
		if ((size_t)snprintf(root, sizeof(root), "%s/Maildir", home) >=
		    sizeof(root)) {
			warnx_("HOME too long, temporary failure");
			return EXIT_TEMPFAIL;
		}
	} else if (rules_expand(maildir, root, sizeof(root), err,
	    sizeof(err)) == -1) {
		warnx_("-d %s, temporary failure", err);
		return EXIT_TEMPFAIL;
	}
	while (strlen(root) > 1 && root[strlen(root) - 1] == '/')
		root[strlen(root) - 1] = '\0';
	/* relative sent folders (outbound.sent) are looked for here first */
	sent_set_maildir(root);

	if (prepare(&m, rulesfile) == -1)
		return EXIT_TEMPFAIL;
	if (qmail && rp != NULL && dt != NULL) {
		iov[niov].p = rp;
		iov[niov++].n = strlen(rp);
		iov[niov].p = dt;
		iov[niov++].n = strlen(dt);
	}
	if (m.maybe) {
		/* the rescue stores into the inbox, which must exist */
		if (maildir_ensure(root, NULL, err, sizeof(err)) == -1) {
			warnx_("%s, temporary failure", err);
			log_msg(LOG_ERR, "delivery failed, deferred: %s", err);
			return EXIT_TEMPFAIL;
		}
		iov[niov].p = m.buf + m.skip;
		iov[niov].n = m.len - m.skip;
		classify_guarded(&m, GUARD_MAILDIR, root, iov, niov + 1,
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

	if (maildir_deliver_fd(root, folder, iov, niov, m.more ? 0 : -1,
	    path, sizeof(path), err,
	    sizeof(err)) == -1) {
		warnx_("%s, temporary failure", err);
		log_msg(LOG_ERR, "delivery failed, deferred: %s", err);
		msg_free(&m);
		return EXIT_TEMPFAIL;
	}
	guard_done(qmail ? EXIT_QMAIL_STOP : EXIT_OK);
	sanitize(idlog, sizeof(idlog), m.res.msgid[0] ? m.res.msgid : "-",
	    strlen(m.res.msgid[0] ? m.res.msgid : "-"));
	log_msg(LOG_INFO, "verdict=%s kind=%s original=%s folder=%s%s%s",
	    verdict_name(m.res.verdict), kind_name(m.res.kind), idlog,
	    folder ? folder : "inbox", m.res.failed ? " note=" : "",
	    m.res.failed ? m.res.reason : "");
	msg_free(&m);
	return qmail ? EXIT_QMAIL_STOP : EXIT_OK;
}

int
cmd_filter(int argc, char **argv)
{
	struct msgctx	 m;
	const char	*rulesfile = NULL;
	char		 hdr[1024];
	struct slice	 iov[3];
	int		 ch;

	signal(SIGALRM, on_alarm);
	alarm(DELIVER_DEADLINE);
	signal(SIGPIPE, SIG_IGN);
	optind = 1;
	while ((ch = getopt(argc, argv, "r:u:h")) != -1)
		switch (ch) {
		case 'r':
			rulesfile = optarg;
			break;
		case 'u':
			rules_set_user(optarg);
			break;
		case 'h':
			fprintf(stdout, "usage: backstop filter [-r RULES] "
			    "[-u USER@DOMAIN] < message > message\n");
			return EXIT_OK;
		default:
			fprintf(stderr, "usage: backstop filter [-r RULES] "
			    "< message > message\n");
			return EXIT_TEMPFAIL;
		}
	if (optind != argc) {
		fprintf(stderr, "usage: backstop filter [-r RULES]\n");
		return EXIT_TEMPFAIL;
	}
	if (prepare(&m, rulesfile) == -1)
		return EXIT_TEMPFAIL;
	iov[0].p = m.buf + m.skip;
	iov[0].n = m.len - m.skip;
	classify_guarded(&m, GUARD_STDOUT, NULL, iov, 1, EXIT_OK);
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
	log_msg(LOG_INFO, "filter verdict=%s kind=%s",
	    verdict_name(m.res.verdict), kind_name(m.res.kind));
	msg_free(&m);
	return EXIT_OK;
}
