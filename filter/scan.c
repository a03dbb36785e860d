/*
 * backstop scan and backstop explain: classify without delivering.
 *
 * scan prints one line per message, tab-separated, no header line:
 *	path	verdict	kind	original-Message-ID-or-"-"	reason
 * This format is documented and stays stable: audits and scripts read it.
 *
 * Both classify under the limits deliver's guard applies, so that they
 * predict what deliver does: the parse-byte, depth and part limits are
 * extract()'s own; the address space (the message's size + LIM_MEM_MB)
 * and the time (limits.timeout) are set here, in a worker process.  When
 * one is reached, or the parsers crash, the worker reports it and dies,
 * and the message gets what deliver gives it then: not-bounce, the
 * inbox, with the limit named.  scan keeps one worker for many messages
 * (a fork per message would cost a good part of its speed) and starts a
 * new one after a message ended it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backstop.h"
#include "commands.h"
#include "extract.h"
#include "guard.h"
#include "judge.h"
#include "opts.h"
#include "rules.h"
#include "util.h"

static int
read_file(const char *path, char **buf_r, size_t *len_r)
{
	int	 fd, rc, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	rc = read_all_fd(fd, buf_r, len_r, 0);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* "PATH: what errno says" on stderr, the path escaped (path_shown()). */
static void
warn_path(const char *path, int e)
{
	char	*shown = path_shown(path);

	warnx_("%s: %s", shown, strerror(e));
	free(shown);
}

/* PATH escaped by path_escape() (\t \n \\ \ooo): one line, reversible */
/*
 * The 6th column: the counterpart addresses, comma-separated, lower
 * case, printable ASCII (8-bit bytes and separators escaped by
 * sanitize()), "-" when none.
 */
static void
print_addrs(const struct extract *ex)
{
	char	 a[LIM_ADDR * 4 + 1];
	size_t	 i;

	if (ex == NULL || ex->naddrs == 0) {
		fputs("-", stdout);
		return;
	}
	for (i = 0; i < ex->naddrs; i++) {
		sanitize(a, sizeof(a), ex->addrs[i].addr,
		    strlen(ex->addrs[i].addr));
		printf("%s%s", i ? "," : "", a);
	}
}

static void
print_line(const char *path, const struct result *res,
    const struct extract *ex)
{
	char	 id[LIM_MSGID + 1], reason[sizeof(res->reason)];
	char	*epath;
	size_t	 n = strlen(path);

	epath = xmalloc(4 * n + 1);
	path_escape(epath, 4 * n + 1, path, n);
	sanitize(id, sizeof(id), res->msgid, strlen(res->msgid));
	sanitize(reason, sizeof(reason), res->reason, strlen(res->reason));
	printf("%s\t%s\t%s\t%s\t%s\t", epath, verdict_name(res->verdict),
	    kind_name(res->kind), id[0] ? id : "-", reason);
	free(epath);
	print_addrs(ex);
	putchar('\n');
}

/* --- classification under deliver's limits ------------------------------ */

/*
 * A worker process runs the messages one after the other and prints what
 * it finds itself (a line flushed per message, no round trip: scan stays
 * fast).  Before each classification it notes in a shared page which
 * message it is at; when a limit or a crash ends it, its signal handler
 * notes why there and exits, and this process prints that message's
 * outcome (what deliver gives it then) and starts a worker for the rest.
 */
enum wstatus {
	WR_NONE = 0,
	WR_MEM,		/* the address-space limit (limit: it) */
	WR_TIME,	/* limits.timeout (err: the seconds) */
	WR_CRASH	/* err: the signal */
};

struct lim_shared {
	volatile size_t	 cur;		/* the message being worked on */
	volatile int	 status;	/* enum wstatus */
	volatile int	 err;
	volatile size_t	 limit;		/* RLIMIT_AS set, or 0 */
	volatile unsigned timeout;
	volatile int	 rc;		/* -1: a file could not be read */
};

static const int w_caught[] = {
	SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP, SIGXCPU,
	SIGALRM
};
static char		 w_altstack[64 * 1024] __attribute__((aligned(16)));
static struct lim_shared *w_sh;

/* In the worker: a limit or a crash ended classification.  Say which. */
static void
worker_fault(int sig)
{
	int	 e = errno;

	w_sh->status = sig == SIGALRM ? WR_TIME :
	    guard_mem_exhausted(e, w_sh->limit) ? WR_MEM : WR_CRASH;
	w_sh->err = sig == SIGALRM ? (int)w_sh->timeout : sig;
	_exit(EXIT_TEMPFAIL);
}

/*
 * In the worker: the address-space limit deliver's guard sets (or a lower
 * one the process had already), or with 0 the one it had.
 */
static void
worker_memlimit(size_t limit)
{
#ifndef BACKSTOP_SANITIZE	/* ASan reserves terabytes of shadow */
	static struct rlimit orig;
	static int	 have;
	struct rlimit	 rl;

	if (!have) {
		if (getrlimit(RLIMIT_AS, &orig) == -1)
			return;
		have = 1;
	}
	rl = orig;
	if (limit != 0 && (orig.rlim_cur == RLIM_INFINITY ||
	    orig.rlim_cur > limit))
		rl.rlim_cur = limit;
	if (setrlimit(RLIMIT_AS, &rl) == 0)
		w_sh->limit = limit == 0 || rl.rlim_cur == RLIM_INFINITY ? 0 :
		    rl.rlim_cur;
#else
	(void)limit;
#endif
}

/*
 * In the worker: classify a message of len bytes as deliver's guard
 * would, under the address space it gives (the bytes held +
 * LIM_MEM_MB) and its deadline.
 */
static void
limited_classify(const char *msg, size_t len, const struct rules *r,
    struct extract *ex, struct result *res, struct trace *t)
{
	w_sh->timeout = r != NULL ? rules_timeout(r) : LIM_TIMEOUT;
	worker_memlimit(len + LIM_MEM_MB * 1048576UL);
	alarm(w_sh->timeout);
	extract(msg, len, r != NULL ? rules_parse_bytes(r) : LIM_PARSE_BYTES,
	    EXTRACT_ADDRS, ex, t);
	alarm(0);
	worker_memlimit(0);
	/* as in deliver: the judgement (and the sent index) past the limits */
	judge(NULL, r, ex, res, t);
}

static void __attribute__((noreturn))
worker_main(size_t from, size_t n, int (*fn)(size_t, void *), void *arg)
{
	struct sigaction sa;
	stack_t		 ss;
	size_t		 i, k;

	ss.ss_sp = w_altstack;
	ss.ss_size = sizeof(w_altstack);
	ss.ss_flags = 0;
	(void)sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_fault;
	sa.sa_flags = SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	for (k = 0; k < sizeof(w_caught) / sizeof(w_caught[0]); k++)
		(void)sigaction(w_caught[k], &sa, NULL);
	for (i = from; i < n; i++) {
		w_sh->cur = i;
		if (fn(i, arg) == -1)
			w_sh->rc = -1;
		if (fflush(stdout) == EOF) {
			warnx_("write error on stdout");
			_exit(EXIT_IOERR);
		}
	}
	_exit(0);
}

/*
 * fn(i, arg) for every i below n, in workers; stopped(i, why, arg) here
 * for a message that ended one.  -1 when a file could not be read (fn
 * said so) or stdout failed, -2 when no worker could be started.
 */
static int
limited_each(size_t n, int (*fn)(size_t, void *),
    void (*stopped)(size_t, const char *, void *), void *arg)
{
	struct lim_shared *sh;
	char		 why[128];
	size_t		 from = 0;
	pid_t		 pid;
	int		 st, rc = 0;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -2;
	while (from < n) {
		memset((void *)sh, 0, sizeof(*sh));
		sh->cur = from;
		if (fflush(stdout) == EOF) {
			rc = -1;
			break;
		}
		if ((pid = fork()) == -1) {
			rc = -2;
			break;
		}
		if (pid == 0) {
			w_sh = sh;
			worker_main(from, n, fn, arg);
		}
		while (waitpid(pid, &st, 0) == -1)
			if (errno != EINTR) {
				st = 0;
				break;
			}
		if (sh->rc == -1)
			rc = -1;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			break;
		if ((WIFEXITED(st) && WEXITSTATUS(st) == 74) ||
		    (WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE)) {
			rc = -1;	/* stdout failed */
			break;
		}
		/* what deliver's guard does then: the inbox, unclassified */
		if (sh->status == WR_MEM && sh->limit != 0)
			snprintf(why, sizeof(why), "memory limit %zu MB "
			    "reached", sh->limit >> 20);
		else if (sh->status == WR_MEM || (sh->status == WR_NONE &&
		    WIFEXITED(st) && WEXITSTATUS(st) == EXIT_TEMPFAIL))
			snprintf(why, sizeof(why), "out of memory");
		else if (sh->status == WR_TIME)
			snprintf(why, sizeof(why), "time limit %d s reached",
			    sh->err);
		else if (sh->status == WR_CRASH)
			snprintf(why, sizeof(why), "crashed on signal %d",
			    sh->err);
		else if (WIFSIGNALED(st))
			snprintf(why, sizeof(why), "crashed on signal %d",
			    WTERMSIG(st));
		else
			snprintf(why, sizeof(why), "the classifier ended");
		stopped(sh->cur, why, arg);
		from = sh->cur + 1;
	}
	munmap((void *)sh, sizeof(*sh));
	if (fflush(stdout) == EOF)
		rc = -1;
	return rc;
}

/* The result deliver ends with when classification is stopped. */
static void
stopped_result(struct result *res, const char *why)
{
	memset(res, 0, sizeof(*res));
	res->verdict = V_NOT_BOUNCE;
	res->failed = 1;
	snprintf(res->reason, sizeof(res->reason), "classification stopped: "
	    "%s", why);
}

struct scan_list {
	const struct rules *r;
	char		**path;
	size_t		 n;
};
static struct scan_list	 scan_l;

/* In the worker: the line for one file. */
static int
scan_one(size_t i, void *arg)
{
	struct scan_list *l = arg;
	char		*buf;
	size_t		 len, skip;
	struct result	 res;
	static struct extract ex;	/* 30 KiB: not on the stack */
	int		 maybe;

	if (read_file(l->path[i], &buf, &len) == -1) {
		warn_path(l->path[i], errno);
		return -1;
	}
	skip = msg_from_line_len(buf, len);
	maybe = extract_maybe_bounce(buf + skip, len - skip,
	    rules_parse_bytes(l->r), 0);
	if (maybe)
		limited_classify(buf + skip, len - skip, l->r, &ex, &res,
		    NULL);
	else {
		memset(&res, 0, sizeof(res));
		snprintf(res.reason, sizeof(res.reason), "not a bounce");
	}
	print_line(l->path[i], &res, maybe ? &ex : NULL);
	free(buf);
	return 0;
}

static void
scan_stopped(size_t i, const char *why, void *arg)
{
	struct scan_list *l = arg;
	struct result	 res;

	stopped_result(&res, why);
	print_line(l->path[i], &res, NULL);
}

/* Files are listed first, then classified in order (limited_each). */
static int
scan_file(const char *path, const struct rules *r)
{
	scan_l.r = r;
	scan_l.path = xrealloc(scan_l.path, (scan_l.n + 1) *
	    sizeof(*scan_l.path));
	scan_l.path[scan_l.n++] = xstrdup(path);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of dir, sorted, dot files skipped. */
static int
scan_dir(const char *dir, const struct rules *r)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, path[4096];
	size_t		 n = 0, i;
	int		 rc = 0;
	struct stat	 st;

	if ((d = opendir(dir)) == NULL) {
		warn_path(dir, errno);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    scan_file(path, r) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
scan_path(const char *path, const struct rules *r)
{
	struct stat	 st;
	char		 sub[4096];
	int		 rc = 0, maildir = 0;
	static const char *const subs[] = { "new", "cur" };
	size_t		 i;

	if (stat(path, &st) == -1) {
		warn_path(path, errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return scan_file(path, r);
	for (i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, subs[i]);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			maildir = 1;
			if (scan_dir(sub, r) == -1)
				rc = -1;
		}
	}
	if (!maildir)
		rc = scan_dir(path, r);
	return rc;
}

static int
load_rules(struct rules *r, const char *file)
{
	char	 err[512], shown[512];

	if (rules_load_default(r, file, err, sizeof(err)) == -1) {
		/* it names the file, and may quote it: printable only */
		sanitize(shown, sizeof(shown), err, strlen(err));
		warnx_("%s", shown);
		return -1;
	}
	return 0;
}

int
cmd_scan(int argc, char **argv)
{
	struct rules	*r;
	const char	*rulesfile = NULL;
	int		 i, rc = EXIT_OK;
	struct opts	 o;

	if (opts_parse(&o, "scan", "r:", NULL, argc, argv, 1, -1) == -1)
		return o.rc;
	rulesfile = o.rules;
	r = rules_new(NULL);
	if (load_rules(r, rulesfile) == -1) {
		rules_free(r);
		return EXIT_CONFIG;
	}
	for (i = optind; i < argc; i++)
		if (scan_path(argv[i], r) == -1)
			rc = EXIT_IOERR;	/* a file could not be read */
	switch (limited_each(scan_l.n, scan_one, scan_stopped, &scan_l)) {
	case -2:
		warnx_("cannot start the classifier: %s", strerror(errno));
		rc = EXIT_TEMPFAIL;
		break;
	case -1:
		rc = EXIT_IOERR;	/* a file could not be read, or stdout */
		break;
	}
	for (i = 0; (size_t)i < scan_l.n; i++)
		free(scan_l.path[i]);
	free(scan_l.path);
	rules_free(r);
	return stdout_flushed() == -1 ? EXIT_IOERR : rc;
}

/*
 * What explain prints comes from the message (Message-IDs, content types,
 * subjects, file names in the trace) and from file names: a forged bounce
 * must not reach the terminal with escapes (clear the screen, set the
 * title, hide the verdict) nor forge a line of explain's own.  Every
 * line is printed through here, as UTF-8 text without controls.
 */
static void
put_clean(const char *key, const char *s)
{
	size_t	 n = strlen(s);
	char	*b = xmalloc(n * 3 + 1);	/* '?' for each byte at most */

	sanitize_utf8(b, n * 3 + 1, s, n);
	printf("%s%s\n", key, b);
	free(b);
}

/*
 * The trace, one line at a time: its newlines are the structure, but
 * message data may carry a newline of its own (an id, a content type).
 * A line that starts like one of explain's own lines ("verdict:") can
 * only be such data: it is indented, so that explain's lines stay the
 * only ones at the start of a line.
 */
static void
put_trace(const char *s, size_t n)
{
	static const char *const own[] = {
		"rules:", "rules error:", "message:", "kind:",
		"original Message-ID:", "found in:", "rule:", "pattern:",
		"verdict:", "deliver would", "header added:",
		"classification stopped:"
	};
	const char	*nl;
	char		*line;
	size_t		 k, i;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		k = nl != NULL ? (size_t)(nl - s) : n;
		line = xmalloc(k + 1);
		memcpy(line, s, k);
		line[k] = '\0';
		for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
			if (strncmp(line, own[i], strlen(own[i])) == 0)
				break;
		put_clean(i < sizeof(own) / sizeof(own[0]) ? "    " : "",
		    line);
		free(line);
		k += nl != NULL;
		s += k;
		n -= k;
	}
}

/* The pattern at FILE:LINE, for a person reading explain. */
static void
print_pattern(const struct rules *r, const char *rule)
{
	const char	*src, *file;
	char		 at[400];
	size_t		 i;
	int		 line;

	for (i = 0; (src = rules_item(r, RULES_EV_PATTERNS, i, &file,
	    &line)) != NULL; i++) {
		snprintf(at, sizeof(at), "%s:%d", file, line);
		if (strcmp(at, rule) == 0) {
			put_clean("pattern: ", src);
			return;
		}
	}
}

struct explain {
	const struct rules *r;		/* what was loaded, maybe with errors */
	int		 rok;
	const char	*file;		/* NULL: stdin */
	const char	*buf;
	size_t		 len;
};

/* The report after the rules: the trace, then the outcome. */
static void
explain_print(const struct explain *x, const struct result *res,
    const struct trace *t, const char *stop)
{
	const char	*folder;
	char		 line[1200];

	snprintf(line, sizeof(line), "%s, %zu bytes", x->file ? x->file :
	    "stdin", x->len);
	put_clean("message: ", line);
	if (t != NULL && t->buf != NULL)
		put_trace(t->buf, t->len);
	if (stop != NULL) {
		put_clean("classification stopped: ", stop);
		printf("  (deliver stops there too, logs it and puts the "
		    "message in the inbox unclassified)\n");
	}
	printf("kind: %s\n", kind_name(res->kind));
	put_clean("original Message-ID: ", res->msgid[0] ? res->msgid : "-");
	if (res->where[0])
		put_clean("found in: ", res->where);
	put_clean("rule: ", res->rule[0] ? res->rule : "-");
	print_pattern(x->r, res->rule);
	snprintf(line, sizeof(line), "%s (%s)", verdict_name(res->verdict),
	    res->reason);
	put_clean("verdict: ", line);
	folder = x->rok && !res->failed ? rules_folder(x->r, res->verdict) :
	    NULL;
	put_clean("deliver would file it in: ", folder ? folder : "inbox");
	if (x->rok && !res->failed && res->verdict != V_NOT_BOUNCE) {
		char h[900];

		judge_header(res, h, sizeof(h));
		printf("header added: X-Backstop: %s\n", h);
	}
}

/* In the worker: classify with the trace, print the report. */
static int
explain_one(size_t i, void *arg)
{
	const struct explain *x = arg;
	struct trace	 t = { NULL, 0, 0 };
	struct result	 res;
	static struct extract ex;	/* 30 KiB: not on the stack */
	size_t		 skip = msg_from_line_len(x->buf, x->len);

	(void)i;
	limited_classify(x->buf + skip, x->len - skip, x->rok ? x->r : NULL,
	    &ex, &res, &t);
	explain_print(x, &res, &t, NULL);
	trace_free(&t);
	return 0;
}

static void
explain_stopped(size_t i, const char *why, void *arg)
{
	struct result	 res;

	(void)i;
	stopped_result(&res, why);
	explain_print(arg, &res, NULL, why);
}

int
cmd_explain(int argc, char **argv)
{
	struct rules	*r;
	struct explain	 x;
	const char	*rulesfile = NULL, *file;
	char		*buf, err[512];
	size_t		 len;
	int		 rok, rc;
	struct opts	 o;

	if (opts_parse(&o, "explain", "r:", NULL, argc, argv, 0, 1) == -1)
		return o.rc;
	rulesfile = o.rules;
	file = optind < argc ? argv[optind] : NULL;
	if ((file ? read_file(file, &buf, &len) :
	    read_all_fd(0, &buf, &len, 0)) == -1) {
		warn_path(file ? file : "stdin", errno);
		return EXIT_IOERR;
	}
	r = rules_new(NULL);
	rok = rules_load_default(r, rulesfile, err, sizeof(err)) == 0;
	put_clean("rules: ", rules_files(r));
	if (!rok) {
		put_clean("rules error: ", err);
		printf("  (deliver would log this and put the message in the "
		    "inbox)\n");
	}
	x.r = r;
	x.rok = rok;
	x.file = file;
	x.buf = buf;
	x.len = len;
	rc = limited_each(1, explain_one, explain_stopped, &x);
	if (rc == -2)
		warnx_("cannot start the classifier: %s", strerror(errno));
	free(buf);
	rules_free(r);
	if (rc == 0 && stdout_flushed() == -1)
		rc = -1;
	return rc == 0 ? EXIT_OK : rc == -2 ? EXIT_TEMPFAIL : EXIT_IOERR;
}
