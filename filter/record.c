/*
 * backstop record and backstop sendmail: what leaves, told to the sent
 * index by the mail system itself.
 *
 * record: the MTA hands it a copy of each message a user sends (after
 * the submission server added or rewrote the Message-ID: the id the
 * world saw), and it appends that id, the recipients and the time to the
 * user's journal (journal.c, through sent_record()).  It stores no mail.
 * It must never make the MTA bounce anything to the user: a copy that is
 * no message, or says nothing to record, is logged and answered 0 (the
 * MTA drops it); any failure to record is 75, and the MTA tries again
 * (Postfix's sender_bcc_maps copies carry NOTIFY=NONE: a copy that never
 * gets through is dropped, not returned to the user).
 *
 * sendmail: a drop-in for mutt, git send-email and scripts.  The real
 * sendmail (BACKSTOP_SENDMAIL, else /usr/sbin/sendmail) gets the
 * arguments and the message first; its exit status is ours; only when
 * it took the message is it recorded, and a record that fails never
 * changes that status.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "backstop.h"
#include "commands.h"
#include "evidence.h"
#include "extract.h"
#include "hdr.h"
#include "opts.h"
#include "rules.h"
#include "sent.h"
#include "util.h"

#define RECORD_HEADER	(256u * 1024)	/* the header block read */
#define RECORD_MAX_RCPTS 1000		/* recipients kept of one message */
#define RECORD_BUDGET	2000		/* ms for merging a long journal */

/* The recipients of one message, lower case, each once. */
struct rcpts {
	char		**v;
	size_t		 n;
};

static int
add_rcpt(void *arg, const char *a, size_t st, size_t e)
{
	struct rcpts	*r = arg;
	size_t		 i;

	(void)st;
	(void)e;
	if (r->n == RECORD_MAX_RCPTS)
		return -1;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i], a) == 0)
			return 0;
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = xstrdup(a);
	return 0;
}

static void
rcpts_free(struct rcpts *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/*
 * Record the message whose header is buf (len bytes, an mbox From_ line
 * allowed) for the user of rules r: its Message-ID, and the recipients
 * args (the envelope's, when the MTA passes them) or else the header's.
 * 0 recorded, 1 nothing to record (logged), -1 a failure with why.
 */
static int
record_message(const struct rules *r, const char *user, const char *buf,
    size_t len, char *const *args, int nargs, int with_header, char *why,
    size_t whysz)
{
	struct ev_ctx	 ctx;
	struct sent_src	 src;
	struct rcpts	 rc;
	struct slice	 hb, v;
	char		 id[LIM_MSGID + 1], path[4096], shown[LIM_MSGID + 1];
	size_t		 skip;
	int		 i, hasid, ret;

	skip = msg_from_line_len(buf, len);
	hb.p = buf + skip;
	hb.n = hdr_block_len(buf + skip, len - skip);
	if (hb.n == 0 || !hdr_is_field_line(hb.p, hb.n)) {
		log_msg(LOG_NOTICE, "record: not a message (no header), "
		    "nothing recorded");
		return 1;
	}
	hasid = hdr_find(hb, "Message-ID", &v) && hdr_msgid(v, id, sizeof(id));
	memset(&rc, 0, sizeof(rc));
	for (i = 0; i < nargs; i++)
		extract_addrs(args[i], strlen(args[i]), add_rcpt, &rc);
	if (rc.n == 0 || with_header)
		extract_header_rcpts(hb, add_rcpt, &rc);
	if (!hasid && rc.n == 0) {
		log_msg(LOG_NOTICE, "record: neither a Message-ID nor a "
		    "recipient, nothing recorded");
		rcpts_free(&rc);
		return 1;
	}
	ev_ctx_init(&ctx, r, NULL, user);
	if (evidence_sent_src(&ctx, r, &src, path, sizeof(path), why,
	    whysz) == -1) {
		rcpts_free(&rc);
		errno = ENOENT;
		return -1;
	}
	if (sent_index_foreign(path, why, whysz)) {
		rcpts_free(&rc);
		errno = EINVAL;
		return -1;
	}
	ret = sent_record(&src, hasid ? id : NULL, (const char *const *)rc.v,
	    rc.n, clock_now(), RECORD_BUDGET, why, whysz);
	if (ret == 0) {
		sanitize(shown, sizeof(shown), hasid ? id : "-",
		    strlen(hasid ? id : "-"));
		log_msg(LOG_INFO, "record: user=%s id=%s recipients=%zu",
		    user != NULL ? user : "-", shown, rc.n);
	}
	rcpts_free(&rc);
	return ret;
}

/* The header block of fd's message (the rest read and dropped). */
static int
read_header(int fd, char **buf_r, size_t *len_r, int drain)
{
	char	*buf = xmalloc(RECORD_HEADER), sink[65536];
	size_t	 len = 0;
	ssize_t	 k;

	while (len < RECORD_HEADER) {
		k = read(fd, buf + len, RECORD_HEADER - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			return -1;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (hdr_block_len(buf, len) < len && memmem(buf, len,
		    "\n\n", 2) != NULL)
			break;
	}
	/* the MTA writes the whole copy: read it, or it sees a broken pipe */
	while (drain && (k = read(fd, sink, sizeof(sink))) != 0)
		if (k < 0 && errno != EINTR) {
			free(buf);
			return -1;
		}
	*buf_r = buf;
	*len_r = len;
	return 0;
}

int
cmd_record(int argc, char **argv)
{
	struct rules	*r;
	struct opts	 o;
	char		*buf, err[1024], why[600];
	size_t		 len;
	int		 rc;

	if (opts_parse(&o, "record", "r:u:", NULL, argc, argv, 0, -1) == -1)
		return o.rc;
	r = rules_new(o.user);
	if (rules_load_default(r, o.rules, err, sizeof(err)) == -1) {
		warnx_("record: rules not used: %s, temporary failure", err);
		log_msg(LOG_ERR, "record: rules not used: %s", err);
		rules_free(r);
		return EXIT_TEMPFAIL;
	}
	if (read_header(0, &buf, &len, 1) == -1) {
		warnx_("record: reading the message: %s, temporary failure",
		    strerror(errno));
		rules_free(r);
		return EXIT_TEMPFAIL;
	}
	rc = record_message(r, o.user, buf, len, argv + optind,
	    argc - optind, 0, why, sizeof(why));
	free(buf);
	rules_free(r);
	if (rc == -1) {
		/*
		 * Even a set-up error: a message left and is not recorded,
		 * and with outbound.record on a bounce of it could then be
		 * taken for "not sent".  The MTA keeps the copy and tries
		 * again until someone mends it (check-config says what).
		 */
		log_msg(LOG_ERR, "record: %s, temporary failure", why);
		warnx_("record: %s, temporary failure", why);
		return EXIT_TEMPFAIL;
	}
	return EXIT_OK;
}

/* ---- sendmail ---------------------------------------------------------- */

/* Options of sendmail(1) that take an argument (Postfix, Sendmail). */
static int
takes_arg(int c)
{
	return strchr("BCFfhNORrVXLp", c) != NULL;
}

/*
 * Read sendmail's arguments: -t (recipients from the header too), the
 * recipients (arguments that are no option, all after "--"), and
 * whether it submits a message at all (not -bs, -bp, -bv, -q...).
 */
static int
sendmail_args(int argc, char **argv, int *tflag, int *first_rcpt)
{
	int	 i, j;

	*tflag = 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break;
		if (argv[i][1] == 'b' && strcmp(argv[i], "-bm") != 0)
			return 0;	/* no message: -bs, -bp, -bv, ... */
		if (argv[i][1] == 'q' || argv[i][1] == 'I')
			return 0;
		if (takes_arg(argv[i][1])) {
			if (argv[i][2] == '\0')
				i++;
			continue;
		}
		if (argv[i][1] == 'o')
			continue;	/* -oi, -oem: glued */
		for (j = 1; argv[i][j] != '\0'; j++)
			if (argv[i][j] == 't')
				*tflag = 1;
	}
	*first_rcpt = i;
	return 1;
}

/* The sendmail to run: BACKSTOP_SENDMAIL, else /usr/sbin/sendmail. */
static const char *
real_sendmail(char *why, size_t whysz)
{
	const char	*p = getenv("BACKSTOP_SENDMAIL");
	char		 a[PATH_MAX], b[PATH_MAX];

	if (p == NULL || *p == '\0')
		p = "/usr/sbin/sendmail";
	/* never ourselves: installed as sendmail, that would loop */
	if (realpath(p, a) != NULL && realpath("/proc/self/exe", b) != NULL &&
	    strcmp(a, b) == 0) {
		snprintf(why, whysz, "%s is backstop itself: set "
		    "BACKSTOP_SENDMAIL to the real sendmail", p);
		return NULL;
	}
	return p;
}

int
cmd_sendmail(int argc, char **argv)
{
	const char	*sm;
	struct rules	*r;
	char		*buf, why[600], err[1024];
	size_t		 len;
	pid_t		 pid;
	int		 fd, st, tflag, first = 1, submit, rc;

	struct opts	 o;

	/* its own --help and --version; every other option is sendmail's */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "--version") == 0) &&
	    opts_parse(&o, "sendmail", "", NULL, argc, argv, 0, 0) == -1)
		return o.rc;
	if ((sm = real_sendmail(why, sizeof(why))) == NULL) {
		warnx_("sendmail: %s", why);
		return EXIT_TEMPFAIL;
	}
	submit = sendmail_args(argc, argv, &tflag, &first);
	/* the message, kept to be read again once it is sent */
	fd = submit ? memfd_create("backstop-sendmail", MFD_CLOEXEC) : -1;
	if (submit && (fd == -1 || copy_fd(fd, 0) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1)) {
		warnx_("sendmail: keeping the message: %s, temporary failure",
		    strerror(errno));
		return EXIT_TEMPFAIL;
	}
	if ((pid = fork()) == -1) {
		warnx_("sendmail: %s, temporary failure", strerror(errno));
		return EXIT_TEMPFAIL;
	}
	if (pid == 0) {
		if (fd != -1 && dup2(fd, 0) == -1)
			_exit(EXIT_TEMPFAIL);
		argv[0] = (char *)(uintptr_t)sm;
		execv(sm, argv);
		warnx_("sendmail: %s: %s", sm, strerror(errno));
		_exit(EXIT_TEMPFAIL);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			warnx_("sendmail: %s", strerror(errno));
			return EXIT_TEMPFAIL;
		}
	if (!WIFEXITED(st))
		return EXIT_TEMPFAIL;
	if (WEXITSTATUS(st) != 0 || !submit)
		return WEXITSTATUS(st);
	/* sent: record it; nothing here changes the exit status */
	r = rules_new(NULL);
	if (rules_load_default(r, NULL, err, sizeof(err)) == -1)
		snprintf(why, sizeof(why), "rules not used: %.500s", err);
	else if (lseek(fd, 0, SEEK_SET) == -1 ||
	    read_header(fd, &buf, &len, 0) == -1)
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else {
		rc = record_message(r, NULL, buf, len, argv + first,
		    argc - first, tflag, why, sizeof(why));
		free(buf);
		if (rc != -1)
			why[0] = '\0';
	}
	if (why[0] != '\0') {
		warnx_("sendmail: sent, but not recorded: %s", why);
		log_msg(LOG_ERR, "sendmail: sent, but not recorded: %s", why);
	}
	rules_free(r);
	close(fd);
	return EXIT_OK;
}
