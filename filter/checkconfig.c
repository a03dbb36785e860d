/*
 * backstop check-config: what deliver would do for one user, checked
 * without delivering, the way an administrator checks Postfix (postfix
 * check) and Dovecot (doveconf -n).
 *
 * It loads the system and the user's rules as deliver does (the same
 * paths, -r, -u and the %u/%d/%h expansion of rules.c), which compiles
 * every pattern; it checks that the maildir and every folder the rules
 * file into can be written, by creating and removing an empty probe file
 * in each tmp/ (no mail is written, nothing is left behind; a folder that
 * is missing is one deliver would create, so its parent must be
 * writable); it looks at the sent index and at syslog; and it prints the
 * effective settings on stdout.  Each problem is one line on stderr,
 * FILE:LINE:COLUMN: first for a rule file; any problem is exit 78
 * (EX_CONFIG).  Warnings (syslog unreachable, no evidence configured,
 * checked as root) are printed but keep exit 0: mail is still delivered.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "commands.h"
#include "evidence.h"
#include "maildir.h"
#include "opts.h"
#include "rules.h"
#include "sent.h"
#include "util.h"


static int	 nproblems, nwarnings;

/*
 * One line on stderr, after what stdout holds so far, counted: problems
 * make the exit status, warnings do not.
 */
static void __attribute__((format(printf, 3, 4)))
say(int *count, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	(*count)++;
	fflush(stdout);
	fprintf(stderr, "%s: %s", progname, tag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
#define problem(...)	say(&nproblems, "", __VA_ARGS__)
#define warning(...)	say(&nwarnings, "warning: ", __VA_ARGS__)

/*
 * One rule file into r.  Returns 1 loaded, 0 missing and optional, -1 a
 * problem (reported).
 */
static int
load_one(struct rules *r, const char *what, const char *path, int required)
{
	char		 err[1024];
	struct stat	 st;

	if (!required && stat(path, &st) == -1 && errno == ENOENT) {
		printf("%s: %s (missing: %s)\n", what, path,
		    strcmp(what, "system rules") == 0 ? "none used" :
		    "the system rules alone apply");
		return 0;
	}
	if (rules_load(r, path, required, err, sizeof(err)) == -1) {
		printf("%s: %s (refused or broken, see below)\n", what, path);
		problem("%s", err);
		return -1;
	}
	printf("%s: %s\n", what, path);
	return 1;
}

/*
 * The rules as deliver loads them: system file, then the user's.  When the
 * system file is broken the user's is still read, into a rule set of its
 * own, so that one run names every broken file.  Returns 0 when deliver
 * would use the rules, -1 when it would file everything in the inbox.
 */
static int
load_rules(struct rules *r, const char *rulesfile, const char *user)
{
	const char	*sys = rules_system_path();
	struct rules	*alone;
	char		 path[PATH_MAX], err[1024];
	int		 ok = 1, required, rc;

	if (sys == NULL)
		printf("system rules: none (BACKSTOP_SYSTEM_RULES is empty)\n");
	else if (load_one(r, "system rules", sys, 0) == -1)
		ok = 0;
	rc = rules_user_path(r, rulesfile, path, sizeof(path), &required,
	    err, sizeof(err));
	if (rc == -1) {
		printf("user rules: -r %s (cannot be expanded)\n", rulesfile);
		problem("%s", err);
		return -1;
	}
	if (rc == 0) {
		printf("user rules: none (no home directory and no -r)\n");
		return ok ? 0 : -1;
	}
	if (ok)
		return load_one(r, "user rules", path, required) == -1 ? -1 : 0;
	alone = rules_new(user);
	(void)load_one(alone, "user rules", path, required);
	rules_free(alone);
	return -1;
}

static void
print_age(const char *what, long secs)
{
	if (secs % 86400 == 0)
		printf("%s: %ldd\n", what, secs / 86400);
	else if (secs % 3600 == 0)
		printf("%s: %ldh\n", what, secs / 3600);
	else
		printf("%s: %lds\n", what, secs);
}

static void
print_rules(const struct rules *r)
{
	const char	*src, *file, *f;
	const char *const *names;
	size_t		 i, n;
	int		 line, v;

	n = rules_count(r, RULES_EV_PATTERNS);
	printf("outbound.message_id: %zu pattern%s\n", n, n == 1 ? "" : "s");
	for (i = 0; (src = rules_item(r, RULES_EV_PATTERNS, i, &file,
	    &line)) != NULL; i++)
		printf("  %s:%d: %s\n", file, line, src);
	n = rules_count(r, RULES_EV_RELAYS);
	printf("outbound.relays: %zu\n", n);
	for (i = 0; (src = rules_item(r, RULES_EV_RELAYS, i, &file,
	    &line)) != NULL; i++)
		printf("  %s:%d: %s\n", file, line, src);
	printf("outbound.sent: %s\n",
	    rules_has_evidence(r) & RULES_EV_SENT ? "on" : "off");
	names = rules_sent_folders(r, &n);
	if (n == 0)
		names = sent_default_names();
	if (rules_has_evidence(r) & RULES_EV_SENT)
		for (i = 0; names[i] != NULL && (n == 0 || i < n); i++)
			printf("  sent folder: %s\n", names[i]);
	for (v = 0; v < V_COUNT; v++) {
		f = rules_folder(r, (enum verdict)v);
		printf("verdicts.%s: %s\n", verdict_name((enum verdict)v),
		    f ? f : "inbox");
	}
	printf("junk.folder: %s\n", rules_junk_folder(r));
	print_age("junk.expire_after", rules_expire_secs(r));
	printf("limits.parse_bytes: %zu\n", rules_parse_bytes(r));
	printf("limits.timeout: %us\n", rules_timeout(r));
	if (rules_has_evidence(r) == 0)
		warning("%s: no outbound.message_id, relays or sent: no bounce "
		    "can be told ours or backscatter, every one is 'unknown'",
		    rules_files(r));
}

/* The directory a maildir is made in. */
static int
parent_of(const char *path, char *out, size_t outsz)
{
	char	*slash;

	if ((size_t)snprintf(out, outsz, "%s", path) >= outsz ||
	    (slash = strrchr(out, '/')) == NULL)
		return -1;
	if (slash == out)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

/*
 * Can a file be created in dir/tmp?  Creates an empty probe with a unique
 * name and removes it: catches permissions, a read-only file system and a
 * full one (ENOSPC on the directory entry), not quota on data.
 */
static int
probe(const char *dir)
{
	char	 name[512], path[PATH_MAX];
	int	 fd, e;

	if (maildir_unique(name, sizeof(name)) == -1 ||
	    (size_t)snprintf(path, sizeof(path), "%s/tmp/%s.check-config",
	    dir, name) >= sizeof(path)) {
		problem("%s/tmp: path too long", dir);
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		problem("%s/tmp: cannot create a file: %s (deliver would "
		    "defer every message, exit 75)", dir, strerror(errno));
		return -1;
	}
	e = close(fd) == -1 ? errno : 0;
	if (unlink(path) == -1) {
		problem("%s: cannot remove the probe: %s", path,
		    strerror(errno));
		return -1;
	}
	if (e != 0) {
		problem("%s/tmp: %s", dir, strerror(e));
		return -1;
	}
	return 0;
}

/* A maildir (folder NULL) or one of its Maildir++ folders. */
static void
check_folder(const char *root, const char *folder)
{
	char		 dir[PATH_MAX], sub[PATH_MAX], parent[PATH_MAX];
	const char	*subs[] = { "tmp", "new", "cur" };
	struct stat	 st;
	size_t		 i;
	int		 missing = 0;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", root,
	    folder ? "/" : "", folder ? folder : "") >= sizeof(dir)) {
		problem("%s: path too long", root);
		return;
	}
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT) {
			problem("%s: %s", dir, strerror(errno));
			return;
		}
		/* as maildir_ensure(): the maildir in its parent, which
		 * must exist; a folder in the maildir, made first */
		if (folder != NULL && stat(root, &st) == -1) {
			printf("folder %s: missing, deliver creates it\n", dir);
			return;
		}
		if (folder != NULL)
			snprintf(parent, sizeof(parent), "%s", root);
		else if (parent_of(dir, parent, sizeof(parent)) == -1)
			parent[0] = '\0';
		if (parent[0] == '\0' || stat(parent, &st) == -1 ||
		    !S_ISDIR(st.st_mode) ||
		    access(parent, W_OK | X_OK) == -1) {
			problem("%s: missing, and deliver cannot create it: %s "
			    "is not a writable directory (deliver makes the "
			    "maildir, not its parents)", dir, parent);
			return;
		}
		printf("%s %s: missing, deliver creates it (in %s)\n",
		    folder ? "folder" : "maildir", dir, parent);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		problem("%s: not a directory", dir);
		return;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir,
		    subs[i]) >= sizeof(sub)) {
			problem("%s: path too long", dir);
			return;
		}
		if (stat(sub, &st) == -1) {
			if (errno != ENOENT) {
				problem("%s: %s", sub, strerror(errno));
				return;
			}
			missing = 1;
		} else if (!S_ISDIR(st.st_mode)) {
			problem("%s: not a directory", sub);
			return;
		} else if (i < 2 && access(sub, W_OK | X_OK) == -1) {
			problem("%s: not writable: %s (deliver would defer "
			    "every message, exit 75)", sub, strerror(errno));
			return;
		}
	}
	if (missing) {
		if (access(dir, W_OK | X_OK) == -1) {
			problem("%s: tmp/, new/ or cur/ missing and the "
			    "directory is not writable: %s", dir,
			    strerror(errno));
			return;
		}
		printf("%s %s: incomplete, deliver adds tmp/ new/ cur/\n",
		    folder ? "folder" : "maildir", dir);
		return;
	}
	if (probe(dir) == -1)
		return;
	printf("%s %s: writable\n", folder ? "folder" : "maildir", dir);
}

static void
check_maildir(const struct rules *r, const char *root)
{
	const char	*f, *seen[V_COUNT + 1];
	size_t		 nseen = 0, i;
	int		 v;
	struct stat	 st;

	check_folder(root, NULL);
	if (r == NULL)
		return;
	/* every folder a verdict may go to, the Junk folder first */
	seen[nseen++] = rules_junk_folder(r);
	for (v = 0; v < V_COUNT; v++) {
		if ((f = rules_folder(r, (enum verdict)v)) == NULL)
			continue;
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], f) == 0)
				break;
		if (i == nseen)
			seen[nseen++] = f;
	}
	for (i = 0; i < nseen; i++)
		check_folder(root, seen[i]);
	if (getuid() == 0 && stat(root, &st) == 0 && st.st_uid != 0)
		warning("checked as root, who may write anywhere: run it as "
		    "the user who delivers (uid %lu owns %s)",
		    (unsigned long)st.st_uid, root);
}

/* evidence_describe()'s problems and warnings, counted as ours. */
static void
ev_report(int is_problem, const char *what)
{
	if (is_problem)
		problem("%s", what);
	else
		warning("%s", what);
}

static void
check_sent(const struct rules *r, const char *root, const char *user)
{
	struct ev_ctx	 ctx;

	ev_ctx_init(&ctx, r, root[0] != '\0' ? root : NULL, user);
	evidence_describe(&ctx, r, ev_report);
}

/* Is there a syslog daemon behind /dev/log, as log_datagram() needs? */
static void
check_syslog(void)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	if (stat("/dev/log", &st) == -1) {
		warning("/dev/log: %s: no syslog, backstop's log lines "
		    "(verdicts, rules not used) are lost", strerror(errno));
		return;
	}
	if (!S_ISSOCK(st.st_mode)) {
		warning("/dev/log: not a socket: backstop's log lines are "
		    "lost");
		return;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		warning("socket: %s", strerror(errno));
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, "/dev/log", sizeof("/dev/log"));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		warning("/dev/log: %s: no syslog daemon listening, backstop's "
		    "log lines are lost", strerror(errno));
	else
		printf("syslog: /dev/log (facility mail)\n");
	close(fd);
}

int
cmd_check_config(int argc, char **argv)
{
	struct rules	*r;
	const char	*rulesfile = NULL, *maildir = NULL, *home;
	char		 root[PATH_MAX], err[PATH_MAX + 256];
	int		 rok;
	struct opts	 o;

	if (opts_parse(&o, "check-config", "d:r:u:",
	    NULL, argc, argv, 0, 0) == -1)
		return o.rc;
	maildir = o.maildir;
	rulesfile = o.rules;
	printf("backstop %s\n", BACKSTOP_VERSION);

	/* the maildir first: relative sent folders are looked for in it */
	root[0] = '\0';
	if (maildir != NULL) {
		if (rules_expand(o.user, maildir, root, sizeof(root), err,
		    sizeof(err)) == -1)
			problem("-d %s", err);
	} else if ((home = maildir_home()) == NULL)
		problem("no home directory: set HOME or give -d MAILDIR");
	else if ((size_t)snprintf(root, sizeof(root), "%s/Maildir", home) >=
	    sizeof(root)) {
		problem("$HOME too long");
		root[0] = '\0';
	}
	while (strlen(root) > 1 && root[strlen(root) - 1] == '/')
		root[strlen(root) - 1] = '\0';

	r = rules_new(o.user);
	rok = load_rules(r, rulesfile, o.user) == 0;
	if (rok)
		print_rules(r);
	else
		printf("deliver would use no rules: every message to the "
		    "inbox, and a log line saying why\n");
	if (root[0] != '\0')
		check_maildir(rok ? r : NULL, root);
	if (rok)
		check_sent(r, root, o.user);
	check_syslog();
	rules_free(r);

	if (stdout_flushed() == -1)
		return EXIT_IOERR;
	if (nproblems > 0) {
		fprintf(stderr, "%s: %d problem%s, %d warning%s\n", progname,
		    nproblems, nproblems == 1 ? "" : "s", nwarnings,
		    nwarnings == 1 ? "" : "s");
		return EXIT_CONFIG;
	}
	printf("ok%s\n", nwarnings ? " (with warnings)" : "");
	return EXIT_OK;
}
