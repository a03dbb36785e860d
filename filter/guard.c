/*
 * The guard: classification runs in the delivering process, and a crash,
 * a hang or an out-of-memory inside the parsers still cannot cost the
 * message.
 *
 * Before classification starts, everything needed to store the message
 * unclassified is prepared and frozen: the message bytes read so far sit in
 * pages made read-only (a stray write into them is itself a crash, caught
 * here), and this file's rescue plan (the path of a unique tmp/ name and
 * of new/ in the inbox, or "standard output" for filter, the qmail lines,
 * the exit code) lives in a page of its own, also read-only.  Then
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP, SIGXCPU and
 * the classification deadline's SIGALRM are caught on an alternate stack
 * (a stack overflow still runs the handler).  The handler trusts nothing
 * of the heap: it stores the message with the core of maildir.c's
 * publisher, the one every delivery uses, which makes system calls only
 * (open, write, read, fsync, link, rename, unlink, sigprocmask; all
 * async-signal-safe), logs one line to syslog by hand (socket, sendmsg),
 * and exits 0 (99 under qmail), or exits 75 when it cannot, so the MTA
 * keeps the message and retries.  Out of memory during classification
 * (xmalloc) takes the same way out.
 *
 * This replaces a fork() per bounce: the same guarantee (crash or hang ->
 * inbox, logged) without the fork and its copy-on-write faults (README,
 * "Performance", has the measurements).
 * What a fork gave besides, a parser that corrupts memory without
 * crashing, is covered by the read-only message and plan: what the rest of
 * the delivery uses after classification is the verdict (range-checked),
 * the folder names (taken from the rules before classification) and
 * strings that are bounded and sanitized before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "guard.h"
#include "maildir.h"
#include "util.h"

static void	guard_oom(void);

#define GUARD_IOV	4
#define PLAN_PAGES	5	/* struct plan, rounded up to whole pages */

struct plan {
	int		 sink;			/* GUARD_MAILDIR, GUARD_STDOUT */
	int		 tail_fd;		/* rest of the message, or -1 */
	int		 exit_ok;		/* 0, or 99 under qmail */
	int		 log_stderr;		/* BACKSTOP_LOG_STDERR */
	unsigned	 timeout;		/* seconds, for the log line */
	size_t		 memlimit;		/* RLIMIT_AS set, or 0 */
	size_t		 niov;
	struct slice	 iov[GUARD_IOV];
	const char	*tmp, *uniq, *newdir;	/* in str[] */
	const char	*mdsize;		/* root/maildirsize */
	char		 syslog_pre[64];	/* "<19>backstop[PID]: " */
	size_t		 used;			/* of str[] */
	char		 str[4 * PATH_MAX];	/* paths, kept strings */
};

/* Page-aligned so that it can be made read-only on its own. */
static union {
	struct plan	 p;
	char		 pad[PLAN_PAGES * 4096];
} plan_page __attribute__((aligned(4096)));
#define plan (plan_page.p)
_Static_assert(sizeof(plan_page.p) <= PLAN_PAGES * 4096,
    "the plan must fit its pages: mprotect() must not reach beyond");

/* the rescue copies stdin through copy_fd()'s 64 KiB buffer on it */
static char		 altstack[192 * 1024] __attribute__((aligned(16)));
static volatile sig_atomic_t armed;	/* classification is running */
static volatile sig_atomic_t installed;	/* on_fault() is the handler */
static volatile sig_atomic_t done, done_code;
static int		 page_ok;	/* mprotect worked on the plan page */

static const int caught[] = {
	SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP, SIGXCPU,
	SIGALRM
};
#define NCAUGHT	(sizeof(caught) / sizeof(caught[0]))
static struct sigaction	 saved[NCAUGHT];
static struct timespec	 armed_at;
static volatile unsigned deadline_left;	/* of deliver's own alarm */

/* --- async-signal-safe helpers -------------------------------------------- */

static size_t
s_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

/* Append s to buf (size sz) at *o; always NUL-terminated. */
static void
s_cat(char *buf, size_t sz, size_t *o, const char *s)
{
	while (*s != '\0' && *o + 1 < sz)
		buf[(*o)++] = *s++;
	buf[*o] = '\0';
}

static void
s_num(char *buf, size_t sz, size_t *o, unsigned long v)
{
	char	 d[24];
	size_t	 i = sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	s_cat(buf, sz, o, d + i);
}

/* One line to syslog (log_datagram: system calls only) and stderr. */
static void
s_log(const char *line)
{
	if (plan.log_stderr) {
		(void)!write(2, "backstop: log: ", 15);
		(void)!write(2, line, s_len(line));
		(void)!write(2, "\n", 1);
	}
	log_datagram(plan.syslog_pre, line);
}

/*
 * The rescue's own deadline: before the message is published its tmp/
 * file goes and the exit is 75; once it is published the rescue goes on
 * to its success code (maildir_abort_inflight()).
 */
static void
s_deadline(int sig)
{
	static const char m[] = "backstop: delivery deadline reached, "
	    "temporary failure\n";

	(void)sig;
	if (maildir_abort_inflight())
		return;
	(void)!write(2, m, sizeof(m) - 1);
	_exit(EXIT_TEMPFAIL);
}

/*
 * Store the message as planned, with the core of maildir.c's publisher
 * (system calls only): 0 or -1 (with what failed in *what).  The name in
 * new/ (put in name, size namesz) is the planned one plus ",S=<size>",
 * as maildir_put() names it; a maildirsize in the inbox gets the size
 * (the quota itself is not checked here: the message was accepted into
 * the inbox before classification began).  The tmp/ file is in flight
 * for deliver's signal handlers from its creation to its publication:
 * SIGTERM during an out-of-memory rescue (which runs outside a handler)
 * removes it, and after the link changes nothing.
 */
static int
s_store(const char **what, char *name, size_t namesz)
{
	off_t	 size;
	int	 fd, nfd, e;

	if (plan.sink == GUARD_STDOUT) {
		*what = "write to standard output";
		return maildir_tmp_fill(1, plan.iov, plan.niov, plan.tail_fd);
	}
	*what = "create";
	if ((fd = maildir_tmp_open(AT_FDCWD, plan.tmp)) == -1)
		return -1;
	*what = "write";
	if (maildir_tmp_fill(fd, plan.iov, plan.niov, plan.tail_fd) == -1) {
		e = errno;
		close(fd);
		errno = e;
		goto fail;
	}
	*what = "fsync";
	if (maildir_tmp_seal(fd, &size) == -1)
		goto fail;
	*what = "name";
	if (maildir_name_sized(name, namesz, plan.uniq,
	    (unsigned long long)size) == 0) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	*what = "link";
	if ((nfd = open(plan.newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		goto fail;
	if (maildir_publish(AT_FDCWD, plan.tmp, nfd, name,
	    MAILDIR_UNIQUE) == -1) {
		e = errno;
		close(nfd);
		errno = e;
		goto fail;
	}
	close(nfd);
	alarm(0);
	(void)maildir_size_add(AT_FDCWD, plan.mdsize, (long long)size, 1);
	return 0;
fail:
	maildir_tmp_drop(AT_FDCWD, plan.tmp);
	return -1;
}

/* The way out: store unclassified, log, exit.  Never returns. */
static void __attribute__((noreturn))
rescue(const char *why, int sig)
{
	struct sigaction sa;
	sigset_t	 set;
	char		 line[512], name[NAME_MAX + 1];
	size_t		 o = 0;
	const char	*what = "store";
	int		 e;

	armed = 0;
	/* the rescue itself answers to deliver's deadline */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_deadline;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(deadline_left ? deadline_left : 1);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	s_cat(line, sizeof(line), &o, "classification failed (");
	s_cat(line, sizeof(line), &o, why);
	if (sig == 0 && plan.memlimit != 0) {
		/* name the limit: "out of memory" alone reads as a bug */
		s_cat(line, sizeof(line), &o, ") (limit ");
		s_num(line, sizeof(line), &o, plan.memlimit >> 20);
		s_cat(line, sizeof(line), &o, " MB");
	} else if (sig == SIGALRM) {
		s_cat(line, sizeof(line), &o, " after ");
		s_num(line, sizeof(line), &o, plan.timeout);
		s_cat(line, sizeof(line), &o, "s");
	} else if (sig > 0) {
		s_cat(line, sizeof(line), &o, " on signal ");
		s_num(line, sizeof(line), &o, (unsigned long)sig);
	}
	s_cat(line, sizeof(line), &o, "), ");
	if (s_store(&what, name, sizeof(name)) == 0) {
		/* stored: no deadline and no blocking log line (util.c)
		 * may change the exit code now */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigaction(SIGALRM, &sa, NULL);
		if (plan.sink == GUARD_MAILDIR) {
			s_cat(line, sizeof(line), &o, "delivered as not-bounce "
			    "to the inbox: ");
			s_cat(line, sizeof(line), &o, plan.newdir);
			s_cat(line, sizeof(line), &o, "/");
			s_cat(line, sizeof(line), &o, name);
		} else
			s_cat(line, sizeof(line), &o, "passed on "
			    "unclassified");
		s_log(line);
		_exit(plan.exit_ok);
	}
	e = errno;
	s_cat(line, sizeof(line), &o, "and storing it failed: ");
	s_cat(line, sizeof(line), &o, what);
	s_cat(line, sizeof(line), &o, ": ");
	s_cat(line, sizeof(line), &o, strerrordesc_np(e) ?
	    strerrordesc_np(e) : "error");
	s_log(line);
	(void)!write(2, "backstop: ", 10);
	(void)!write(2, line, s_len(line));
	(void)!write(2, ", temporary failure\n", 20);
	_exit(EXIT_TEMPFAIL);
}

static void
on_fault(int sig)
{
	size_t	 i;
	int	 e = errno;

	if (armed && sig != SIGALRM && guard_mem_exhausted(e, plan.memlimit))
		rescue("out of memory", 0);
	if (armed)
		rescue(sig == SIGALRM ? "timed out" : "crashed", sig);
	if (done) {
		if (sig != SIGALRM)
			_exit(done_code);
		return;
	}
	/* after classification: what was there before the guard */
	for (i = 0; i < NCAUGHT && caught[i] != sig; i++)
		;
	if (i == NCAUGHT)
		_exit(EXIT_TEMPFAIL);
	if (sig == SIGALRM && saved[i].sa_handler != SIG_DFL &&
	    saved[i].sa_handler != SIG_IGN) {
		saved[i].sa_handler(sig);
		return;
	}
	/* the default action, once this handler returns */
	sigaction(sig, &saved[i], NULL);
	raise(sig);
}

/* --- the public side ----------------------------------------------------- */

/*
 * Memory for the message: whole pages, so that guard_arm() can make it
 * read-only.  Nothing may write there once armed; guard_free() releases
 * it.
 */
void *
guard_alloc(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *
guard_realloc(void *p, size_t old, size_t n)
{
	void *q;

	if (p == NULL)
		return guard_alloc(n);
	q = mremap(p, old ? old : 1, n ? n : 1, MREMAP_MAYMOVE);
	return q == MAP_FAILED ? NULL : q;
}

void
guard_free(void *p, size_t n)
{
	if (p != NULL)
		munmap(p, n ? n : 1);
}

/* read_fd_alloc() into guard_alloc()'d pages: a message to be guarded. */
int
guard_read_fd(int fd, char **buf_r, size_t *len_r, size_t *cap_r, size_t max,
    int *more_r)
{
	static const struct xalloc pages = {
		guard_alloc, guard_realloc, guard_free
	};

	return read_fd_alloc(fd, buf_r, len_r, cap_r, max, more_r, &pages);
}

/* Copy s into the plan's string space; NULL when it does not fit. */
static const char *
plan_str(const char *s, size_t n)
{
	char	*p;

	if (n + 1 > sizeof(plan.str) - plan.used)
		return NULL;
	p = plan.str + plan.used;
	memcpy(p, s, n);
	p[n] = '\0';
	plan.used += n + 1;
	return p;
}

static const char *
plan_path(const char *root, const char *sub, const char *uniq)
{
	char	 b[PATH_MAX];
	int	 n = snprintf(b, sizeof(b), "%s/%s%s%s", root, sub,
		    uniq ? "/" : "", uniq ? uniq : "");

	return n < 0 || (size_t)n >= sizeof(b) ? NULL : plan_str(b, (size_t)n);
}

/*
 * Arm the guard (see struct guard_req in backstop.h).  Returns 0, or -1
 * (errno set) with nothing armed: the caller must not classify then.
 */
int
guard_arm(const struct guard_req *q)
{
	struct sigaction sa;
	stack_t		 ss;
	char		 uniq[1024];
	size_t		 i, pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned	 prev;

	/* xmalloc() failing meanwhile is a failed classification */
	xmalloc_on_oom(guard_oom);
	if (armed || q->niov > GUARD_IOV || pg == 0 ||
	    pg > sizeof(plan_page) || (uintptr_t)&plan_page % pg != 0) {
		errno = EINVAL;
		return -1;
	}
	if (page_ok)
		mprotect(&plan_page, sizeof(plan_page), PROT_READ | PROT_WRITE);
	plan.sink = q->sink;
	plan.tail_fd = q->tail_fd;
	plan.exit_ok = q->exit_ok;
	plan.timeout = q->timeout;
	plan.memlimit = 0;
#ifndef BACKSTOP_SANITIZE	/* not set under ASan: see below */
	/* the limit in force below: ours, or a lower one set before us */
	struct rlimit	 cur;

	if (getrlimit(RLIMIT_AS, &cur) == 0 && cur.rlim_cur < q->memlimit)
		plan.memlimit = cur.rlim_cur;
	else
		plan.memlimit = q->memlimit;
#endif
	plan.log_stderr = getenv("BACKSTOP_LOG_STDERR") != NULL;
	plan.niov = q->niov;
	for (i = 0; i < q->niov; i++)
		plan.iov[i] = q->iov[i];
	log_prefix(LOG_ERR, plan.syslog_pre, sizeof(plan.syslog_pre));
	plan.used = 0;
	plan.tmp = plan.uniq = plan.newdir = plan.mdsize = NULL;
	if (q->sink == GUARD_MAILDIR &&
	    (maildir_unique(uniq, sizeof(uniq)) == -1 ||
	    (plan.tmp = plan_path(q->root, "tmp", uniq)) == NULL ||
	    (plan.uniq = plan_str(uniq, strlen(uniq))) == NULL ||
	    (plan.newdir = plan_path(q->root, "new", NULL)) == NULL ||
	    (plan.mdsize = plan_path(q->root, "maildirsize", NULL)) == NULL)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* strings the caller needs intact after classification */
	for (i = 0; i < q->nkeep; i++)
		if (q->keep[i] == NULL)
			q->kept[i] = NULL;
		else if ((q->kept[i] = plan_str(q->keep[i],
		    strlen(q->keep[i]))) == NULL) {
			errno = ENAMETOOLONG;
			return -1;
		}
	/* freeze what the rescue reads */
	page_ok = mprotect(&plan_page, sizeof(plan_page), PROT_READ) == 0;
	if (q->seal != NULL && ((uintptr_t)q->seal % pg) == 0)
		(void)mprotect((void *)(uintptr_t)q->seal,
		    q->sealn ? q->sealn : 1, PROT_READ);

	/* installed once; after classification on_fault() passes every
	 * signal on to what was there before (guard_disarm) */
	if (!installed) {
		ss.ss_sp = altstack;
		ss.ss_size = sizeof(altstack);
		ss.ss_flags = 0;
		sigaltstack(&ss, NULL);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fault;
		sa.sa_flags = SA_ONSTACK;
		sigfillset(&sa.sa_mask);
		for (i = 0; i < NCAUGHT; i++)
			sigaction(caught[i], &sa, &saved[i]);
		installed = 1;
	}
#ifndef BACKSTOP_SANITIZE	/* ASan reserves terabytes of shadow */
	struct rlimit	 rl;

	/* kept for the rest of the run: what is left needs little */
	if (q->memlimit != 0 && getrlimit(RLIMIT_AS, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > q->memlimit)) {
		rl.rlim_cur = q->memlimit;
		(void)setrlimit(RLIMIT_AS, &rl);
	}
#endif
	clock_gettime(CLOCK_MONOTONIC, &armed_at);
	prev = alarm(q->timeout);
	/* deliver's own deadline goes on after classification */
	deadline_left = prev;
	armed = 1;
	return 0;
}

/*
 * Classification is over.  The handlers stay (two system calls per signal
 * saved): on_fault() now passes every signal on to what was there
 * before, and deliver's own deadline goes on.
 */
void
guard_disarm(void)
{
	struct timespec	 now;
	long		 used;

	if (!armed)
		return;
	armed = 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	used = (long)(now.tv_sec - armed_at.tv_sec) + 1;
	alarm(deadline_left == 0 ? 0 : deadline_left > used ?
	    (unsigned)(deadline_left - used) : 1);
}

/*
 * The message is stored and fsynced: from here on nothing may turn that
 * into a failure, which would have the MTA deliver it a second time.  A
 * fault in what is left (logging, freeing) exits with code, and the
 * deadline is off.
 */
void
guard_done(int code)
{
	done_code = code;
	done = 1;
	alarm(0);
}

/* Out of memory: during classification that is a failed classification. */
static void
guard_oom(void)
{
	if (armed)
		rescue("out of memory", 0);
}

/*
 * Did classification stop at the address-space limit?  libetpan does not
 * check every malloc(): out of memory it dereferences the NULL it got, and
 * the signal is SIGSEGV while the cause is the limit.  Yes when errno
 * still says ENOMEM (a failed malloc() sets it), or when the address space
 * is within 16 MB of the limit.  System calls only: signal handlers call
 * it (the rescue here, scan.c's worker).
 */
int
guard_mem_exhausted(int err, size_t limit)
{
	static const char key[] = "\nVmSize:";
	char		 b[4096];
	ssize_t		 k;
	size_t		 i, j, kb = 0;
	int		 fd;

	if (limit == 0)
		return 0;
	if (err == ENOMEM)
		return 1;
	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	k = read(fd, b, sizeof(b));
	close(fd);
	for (i = 0; k > 0 && i + sizeof(key) - 1 < (size_t)k; i++) {
		for (j = 0; j < sizeof(key) - 1 && b[i + j] == key[j]; j++)
			;
		if (j < sizeof(key) - 1)
			continue;
		for (i += j; i < (size_t)k && b[i] == ' '; i++)
			;
		for (; i < (size_t)k && b[i] >= '0' && b[i] <= '9'; i++)
			kb = kb * 10 + (size_t)(b[i] - '0');
		return (kb << 10) + (16u << 20) >= limit;
	}
	return 0;
}

/* Test hooks, documented in README "Limits": prove the way out works. */
void
guard_test_inject(const char *msg)
{
	const char	*what = getenv("BACKSTOP_TEST_INJECT");
	static volatile int depth;

	if (what == NULL || !armed)
		return;
	if (strcmp(what, "crash") == 0)
		raise(SIGSEGV);
	else if (strcmp(what, "hang") == 0)
		for (;;)
			pause();
	else if (strcmp(what, "write") == 0)
		/* a stray write into the message: must fault, not corrupt */
		*(volatile char *)(uintptr_t)msg = 'X';
	else if (strcmp(what, "stack") == 0) {
		volatile char	 frame[4096];

		frame[0] = (char)depth++;
		guard_test_inject(msg);
		frame[1] = frame[0];
	} else if (strcmp(what, "oom") == 0)
		for (;;)
			(void)xmalloc(64u << 20);
}
