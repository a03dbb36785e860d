/*
 * libFuzzer target for the rule-file loader: rule files are written by
 * users, so a hostile or broken one must be refused with a clear error
 * (naming the file) at a bounded cost, and never crash deliver, which
 * loads them in its own process before any fork.
 *
 * The input is one rule file, loaded as deliver loads ~/.backstop.yaml or
 * -r FILE: rules_load_default() with no system file.  An input holding a
 * line "#%%system%%" is two files: the part before it is the system
 * file (BACKSTOP_SYSTEM_RULES), the part after it the user's, so that
 * the merging of lists and scalars is exercised too.  Each part is
 * written to a mode 0600 memfd, loaded as /proc/self/fd/N (rules_load
 * opens a path and refuses group/other-writable files); without memfds,
 * to a mode 0600 file under $TMPDIR (a file on disk costs I/O waits).
 *
 * When the rules load, every accessor deliver and classify use is
 * called and checked against the bounds that rules.c promises: folder
 * names, parse_bytes, timeout, expiry age, patterns matched against a few
 * fixed Message-IDs (with the PCRE2 limits), relays against a Received:
 * value.  A load that fails must say why, with the file's name.  And a
 * load must be cheap whatever the file: at most FUZZ_RULES_CPU seconds
 * of CPU (default 5, under ASan; libFuzzer's -timeout is 10 s) and
 * FUZZ_RULES_MB MiB held once loaded (default 64; -rss_limit_mb only
 * sees the whole process).  Any broken promise aborts, so libFuzzer
 * reports it as a crash and keeps the input.
 *
 * Build (fuzz/run.sh does it: FUZZ_TARGET=rules fuzz/run.sh):
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -DBACKSTOP_SANITIZE
 *	    fuzz/fuzz_rules.c filter/ *.c but main.c, static libs
 */
#include <sanitizer/allocator_interface.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../filter/backstop.h"
#include "../filter/extract.h"
#include "../filter/judge.h"
#include "../filter/rules.h"
#include "../filter/util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define SPLIT		"\n#%%system%%\n"

static char	 sys_path[PATH_MAX], user_path[PATH_MAX];
static int	 sys_fd = -1, user_fd = -1, on_disk;
static double	 max_cpu = 5;
static size_t	 max_bytes = 64UL << 20;

static void
cleanup(void)
{
	if (on_disk && sys_fd != -1)
		unlink(sys_path);
	if (on_disk && user_fd != -1)
		unlink(user_path);
}

static int
make_temp(char *path, size_t pathsz, const char *what)
{
	const char	*dir = getenv("TMPDIR");
	int		 fd;

	if ((fd = memfd_create(what, MFD_CLOEXEC)) != -1 &&
	    fchmod(fd, 0600) == 0) {
		snprintf(path, pathsz, "/proc/self/fd/%d", fd);
		if (access(path, R_OK) == 0)
			return fd;
	}
	if (fd != -1)
		close(fd);
	on_disk = 1;
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, pathsz, "%s/fuzz_rules.%s.XXXXXX", dir, what);
	if ((fd = mkstemp(path)) == -1) {	/* mode 0600 */
		fprintf(stderr, "fuzz_rules: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*e;

	(void)argc;
	(void)argv;
	sys_fd = make_temp(sys_path, sizeof(sys_path), "system");
	user_fd = make_temp(user_path, sizeof(user_path), "user");
	atexit(cleanup);
	if ((e = getenv("FUZZ_RULES_CPU")) != NULL && atof(e) > 0)
		max_cpu = atof(e);
	if ((e = getenv("FUZZ_RULES_MB")) != NULL && atol(e) > 0)
		max_bytes = (size_t)atol(e) << 20;
	/* the home directory is never read: a user file is always given */
	return 0;
}

static void
put(int fd, const uint8_t *d, size_t n)
{
	if (ftruncate(fd, 0) == -1 ||
	    (n > 0 && pwrite(fd, d, n, 0) != (ssize_t)n))
		abort();
}

#define CHECK(cond)	do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_rules: broken promise: %s "	\
		    "(line %d)\n", #cond, __LINE__);			\
		abort();						\
	}								\
} while (0)

static void
check_folder(const char *f)
{
	if (f == NULL)		/* the inbox */
		return;
	CHECK(f[0] == '.');
	CHECK(strlen(f) <= 201);
	CHECK(strchr(f, '/') == NULL);
	CHECK(strstr(f, "..") == NULL);
}

static void
exercise(const struct rules *r)
{
	static const char *const ids[] = {
		"<20260101120000.ABCDEF12345@mail.example.org>",
		"20260101120000.ABCDEF12345@mail.example.org",
		"<forged.1234@spammer.example>",
		"<>",
		"",
		"<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
		"<\xff\xfe\xc3\x28@example.org>",
	};
	static const char received[] = "from smtp.example.org (smtp.example."
	    "org [192.0.2.1]) by mx1.example.net (Postfix) with ESMTPS id 1";
	char		 rule[600], longid[LIM_MSGID + 1];
	const char	*file, *src;
	size_t		 i, n;
	int		 v, line, rc;

	for (v = 0; v < V_COUNT; v++)
		check_folder(rules_folder(r, (enum verdict)v));
	check_folder(rules_junk_folder(r));
	CHECK(rules_junk_folder(r) != NULL);
	CHECK(rules_parse_bytes(r) >= 4096 &&
	    rules_parse_bytes(r) <= (64UL << 20));
	CHECK(rules_timeout(r) >= 1 && rules_timeout(r) <= 300);
	CHECK(rules_expire_secs(r) >= 0 &&
	    rules_expire_secs(r) <= 100L * 365 * 86400);
	CHECK(rules_files(r) != NULL);
	CHECK((rules_has_evidence(r) & ~(RULES_EV_PATTERNS | RULES_EV_RELAYS |
	    RULES_EV_SENT)) == 0);

	n = rules_count(r, RULES_EV_PATTERNS);
	CHECK((n > 0) == ((rules_has_evidence(r) & RULES_EV_PATTERNS) != 0));
	for (i = 0; i < n; i++) {
		file = NULL;
		line = 0;
		src = rules_item(r, RULES_EV_PATTERNS, i, &file, &line);
		CHECK(src != NULL && file != NULL && line > 0);
		CHECK(strlen(src) <= 4096);
	}
	CHECK(rules_item(r, RULES_EV_PATTERNS, n, &file, &line) == NULL);

	memset(longid, 'x', sizeof(longid) - 1);
	longid[0] = '<';
	longid[sizeof(longid) - 3] = '@';
	longid[sizeof(longid) - 2] = '>';
	longid[sizeof(longid) - 1] = '\0';
	for (i = 0; i <= sizeof(ids) / sizeof(ids[0]); i++) {
		rule[0] = '\0';
		rc = rules_match_msgid(r, i < sizeof(ids) / sizeof(ids[0]) ?
		    ids[i] : longid, rule, sizeof(rule));
		CHECK(rc >= -1 && rc <= 1);
		CHECK(rc != 1 || rule[0] != '\0');
		CHECK(rc != 1 || n > 0);
	}
	rule[0] = '\0';
	rc = rules_relay_match(r, received, sizeof(received) - 1, rule,
	    sizeof(rule));
	CHECK(rc == 0 || (rc == 1 && rule[0] != '\0'));
}

static double
cpu_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules	*r;
	const uint8_t	*cut = NULL, *user = data;
	size_t		 usize = size;
	char		 err[512];
	int		 two, rc;
	size_t		 before, held;
	double		 t0, cpu;

	if (size >= sizeof(SPLIT) - 1)
		cut = memmem(data, size, SPLIT, sizeof(SPLIT) - 1);
	two = cut != NULL;
	if (two) {
		put(sys_fd, data, (size_t)(cut - data) + 1);
		user = cut + sizeof(SPLIT) - 1;
		usize = size - (size_t)(user - data);
		setenv("BACKSTOP_SYSTEM_RULES", sys_path, 1);
	} else
		setenv("BACKSTOP_SYSTEM_RULES", "", 1);
	put(user_fd, user, usize);

	memset(err, 0xa5, sizeof(err));		/* no stale message */
	before = __sanitizer_get_current_allocated_bytes();
	t0 = cpu_now();
	r = rules_new(NULL);
	rc = rules_load_default(r, user_path, err, sizeof(err));
	cpu = cpu_now() - t0;
	held = __sanitizer_get_current_allocated_bytes() - before;
	if (cpu > max_cpu || held > max_bytes) {
		fprintf(stderr, "fuzz_rules: loading cost %.2f s of CPU (at "
		    "most %.2f) and holds %zu KiB (at most %zu): %s\n", cpu,
		    max_cpu, held >> 10, max_bytes >> 10,
		    rc == 0 ? "loaded" : err);
		abort();
	}
	CHECK(rc == 0 || rc == -1);
	if (rc == 0)
		exercise(r);
	else {
		/* a clear error: a NUL-terminated message naming the file */
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strncmp(err, user_path, strlen(user_path)) == 0 ||
		    (two && strncmp(err, sys_path, strlen(sys_path)) == 0));
		CHECK(strlen(err) > strlen(user_path) + 1);
	}
	rules_free(r);
	return 0;
}
