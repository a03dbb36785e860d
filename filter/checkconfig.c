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
 *
 * --filter checks the set-up of backstop filter (Dovecot's Sieve,
 * procmail, maildrop): the program that files the message writes the
 * maildir, and Dovecot creates a missing one, so the maildir is only
 * looked at, never required.  Last, the mail system's side as its own
 * tools show it (mta.c): what Postfix hands to backstop (mailbox_command,
 * a pipe(8) service, the virtual domains and whether their recipients are
 * checked before the mail is accepted), what Exim's transports run, and
 * whether Dovecot's Sieve can run backstop for the protocols that deliver.
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
#include "mta.h"
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
}

/*
 * backstop filter writes no maildir: the program that files its output
 * does, and Dovecot makes a missing one (with its parents) itself.
 */
static void
look_maildir(const char *root)
{
	struct stat	 st;

	if (stat(root, &st) == 0 && S_ISDIR(st.st_mode))
		printf("maildir %s: there (filter writes none: the program "
		    "that files the message does)\n", root);
	else
		printf("maildir %s: not there yet (filter writes none; "
		    "Dovecot creates it with its parents, procmail and "
		    "maildrop need it made first)\n", root);
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

/*
 * A command line of the mail system's that runs backstop: the program
 * must be there.  After the package is removed, Postfix's
 * mailbox_command still names it, and every local user's mail waits in
 * the queue (deferred, not lost) until the line goes.
 */
static void
check_prog(const char *what, const char *cmd)
{
	char	 prog[PATH_MAX];
	size_t	 k;

	cmd += strspn(cmd, " \t\"");
	k = strcspn(cmd, " \t\"");
	if (k == 0 || k >= sizeof(prog) || cmd[0] != '/')
		return;
	memcpy(prog, cmd, k);
	prog[k] = '\0';
	if (strstr(prog, "backstop") == NULL)
		return;
	if (access(prog, X_OK) == -1)
		problem("%s runs %s: %s (the mail it hands over is deferred "
		    "until backstop is there again, or the line is removed)",
		    what, prog, strerror(errno));
}

/* One service line of master.cf (postconf -M) that runs backstop. */
static void
check_pipe_service(const char *line, const char *delim)
{
	char		 name[128], lim[64], param[200];
	const char	*argv;
	size_t		 k = strcspn(line, " \t");

	printf("postfix: master.cf: %s\n", line);
	if ((argv = strstr(line, "argv=")) != NULL)
		check_prog("Postfix's master.cf", argv + 5);
	if (k == 0 || k >= sizeof(name) || strstr(line, " pipe") == NULL)
		return;
	memcpy(name, line, k);
	name[k] = '\0';
	if (strstr(line, "${recipient}") != NULL && delim[0] != '\0')
		warning("Postfix's service %s passes ${recipient}, and "
		    "recipient_delimiter = %s: mail to user%stag@domain is for "
		    "a user of its own, whose directory does not exist, and "
		    "is deferred: pass -u ${user}@${domain}", name, delim,
		    delim);
	snprintf(param, sizeof(param), "%s_destination_recipient_limit",
	    name);
	if (mta_postconf(param, lim, sizeof(lim)) == 1 &&
	    strcmp(lim, "1") != 0)
		warning("Postfix's service %s: %s = %s: set it to 1 (one "
		    "recipient per run, so that -u names one)", name, param,
		    lim);
}

/*
 * What Postfix hands to backstop: mailbox_command, the pipe(8) services
 * that run it, and the virtual domains, whose recipients must be known
 * before the mail is accepted (else Postfix bounces what it cannot
 * deliver: backscatter of the host's own).  Returns the Dovecot
 * protocol that delivers Postfix's mail ("lmtp", "lda"), or NULL.
 */
static const char *
check_postfix(void)
{
	static char	 master[65536];
	char		 v[4096], dom[4096], maps[4096], tr[4096], delim[64];
	const char	*inuse = NULL;
	char		*line, *save;
	int		 rc;

	if ((rc = mta_postconf("mailbox_command", v, sizeof(v))) != 1) {
		if (rc == -1)
			printf("postfix: postconf failed: its settings are "
			    "not shown\n");
		return NULL;
	}
	printf("postfix: mailbox_command = %s\n", v[0] ? v : "(none)");
	check_prog("Postfix's mailbox_command", v);
	if (strstr(v, "dovecot-lda") != NULL)
		inuse = "lda";
	if (mta_postconf("virtual_mailbox_domains", dom, sizeof(dom)) == 1 &&
	    dom[0] != '\0' &&
	    mta_postconf("virtual_transport", tr, sizeof(tr)) == 1 &&
	    mta_postconf("virtual_mailbox_maps", maps, sizeof(maps)) == 1) {
		printf("postfix: virtual_mailbox_domains = %s\n", dom);
		printf("postfix: virtual_transport = %s\n", tr);
		printf("postfix: virtual_mailbox_maps = %s\n", maps[0] ? maps :
		    "(none)");
		if (strncmp(tr, "lmtp:", 5) == 0)
			inuse = "lmtp";
		if (maps[0] == '\0')
			warning("Postfix: virtual_mailbox_domains without "
			    "virtual_mailbox_maps: mail to any address of "
			    "those domains is accepted, and what cannot be "
			    "delivered bounces to its (forged) sender: list "
			    "the users");
	}
	if (mta_postconf("recipient_delimiter", delim, sizeof(delim)) != 1)
		delim[0] = '\0';
	if (mta_postconf_master(master, sizeof(master)) == 1)
		for (line = strtok_r(master, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			if (strstr(line, "backstop") != NULL)
				check_pipe_service(line, delim);
	return inuse;
}

/* Exim's transports whose command runs backstop. */
static void
check_exim(void)
{
	static char	 list[8192], one[16384];
	const char	*argv[] = { NULL, "-bP", "transport", NULL, NULL };
	char		*name, *save, *l, *s2;

	if (mta_exim("transport_list", list, sizeof(list)) != 1)
		return;
	argv[0] = access("/usr/sbin/exim4", X_OK) == 0 ? "/usr/sbin/exim4" :
	    "/usr/sbin/exim";
	for (name = strtok_r(list, ", ", &save); name != NULL;
	    name = strtok_r(NULL, ", ", &save)) {
		argv[3] = name;
		if (mta_run(argv, one, sizeof(one)) != 0)
			continue;
		for (l = strtok_r(one, "\n", &s2); l != NULL;
		    l = strtok_r(NULL, "\n", &s2))
			if (strncmp(l, "command = ", 10) == 0 &&
			    strstr(l, "backstop") != NULL) {
				printf("exim: transport %s: %s\n", name, l);
				check_prog("Exim's transport", l + 10);
			}
	}
}

/* Does the Sieve script at path name backstop? */
static int
script_runs_backstop(const char *path)
{
	char	*text;
	size_t	 len;
	int	 fd, yes;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (read_all_fd(fd, &text, &len, 1024 * 1024) == -1) {
		close(fd);
		return 0;
	}
	close(fd);
	yes = memmem(text, len, "\"backstop\"", 10) != NULL;
	free(text);
	return yes;
}

/* The global Sieve script of proto, and whether sievec compiled it. */
static void
check_sieve_before(const char *proto, const char *before, int filter_ok)
{
	char		 bin[PATH_MAX];
	struct stat	 st, sb;
	size_t		 k = strlen(before);

	if (before[0] != '/' || !script_runs_backstop(before))
		return;
	if (!filter_ok)
		problem("dovecot %s: %s runs backstop, but Sieve's "
		    "sieve_extprograms plugin or vnd.dovecot.filter is not "
		    "enabled for this protocol: every message is kept "
		    "unfiltered", proto, before);
	if (k > 6 && strcmp(before + k - 6, ".sieve") == 0)
		k -= 6;
	if ((size_t)snprintf(bin, sizeof(bin), "%.*s.svbin", (int)k,
	    before) >= sizeof(bin))
		return;
	if (stat(before, &st) == 0 && (stat(bin, &sb) == -1 ||
	    sb.st_mtime < st.st_mtime))
		warning("dovecot %s: %s is not compiled: run sievec %s as "
		    "root (Dovecot cannot save it as the delivering user, "
		    "and logs an error for every message)", proto, before,
		    before);
}

/*
 * Dovecot's Sieve, for the protocols that deliver (dovecot-lda, LMTP):
 * is it on, can it run programs (sieve_extprograms, vnd.dovecot.filter),
 * is backstop in sieve_filter_bin_dir, is the global script compiled.
 */
static void
check_dovecot(const char *inuse)
{
	static const char *const protos[] = { "lda", "lmtp" };
	char	 plugins[1024], sp[1024], ext[1024], gext[1024], dir[1024];
	char	 before[1024], path[PATH_MAX], target[PATH_MAX];
	size_t	 i;
	ssize_t	 k;
	int	 rc, ok;

	for (i = 0; i < 2; i++) {
		const char *p = protos[i];

		if ((rc = mta_doveconf(p, "mail_plugins", plugins,
		    sizeof(plugins))) != 1) {
			if (rc == -1)
				printf("dovecot: doveconf failed (as this "
				    "user it may not read every file of the "
				    "configuration)\n");
			return;
		}
		if (strstr(plugins, "sieve") == NULL) {
			printf("dovecot %s%s: no Sieve (mail_plugins = %s)\n",
			    p, inuse && strcmp(inuse, p) == 0 ? " (delivers "
			    "Postfix's mail)" : "", plugins[0] ? plugins :
			    "(none)");
			continue;
		}
		mta_doveconf(p, "plugin/sieve_plugins", sp, sizeof(sp));
		mta_doveconf(p, "plugin/sieve_extensions", ext, sizeof(ext));
		mta_doveconf(p, "plugin/sieve_global_extensions", gext,
		    sizeof(gext));
		mta_doveconf(p, "plugin/sieve_filter_bin_dir", dir,
		    sizeof(dir));
		mta_doveconf(p, "plugin/sieve_before", before, sizeof(before));
		ok = strstr(sp, "sieve_extprograms") != NULL &&
		    (strstr(ext, "vnd.dovecot.filter") != NULL ||
		    strstr(gext, "vnd.dovecot.filter") != NULL);
		printf("dovecot %s%s: Sieve on; programs %s; "
		    "sieve_filter_bin_dir = %s; sieve_before = %s\n", p,
		    inuse && strcmp(inuse, p) == 0 ? " (delivers Postfix's "
		    "mail)" : "", ok ? "allowed (sieve_extprograms, "
		    "vnd.dovecot.filter)" : "not allowed", dir[0] ? dir :
		    "(none)", before[0] ? before : "(none)");
		if (dir[0] != '\0' && (size_t)snprintf(path, sizeof(path),
		    "%s/backstop", dir) < sizeof(path)) {
			if ((k = readlink(path, target, sizeof(target) - 1)) >
			    0) {
				target[k] = '\0';
				printf("dovecot %s: %s -> %s\n", p, path,
				    target);
			}
			if (access(path, X_OK) == -1 && errno != ENOENT)
				problem("dovecot %s: %s: %s (Sieve's filter "
				    "action fails: every message is kept "
				    "unfiltered)", p, path, strerror(errno));
			else if (access(path, X_OK) == -1 && k > 0)
				problem("dovecot %s: %s points at %s, which is "
				    "not there (every message is kept "
				    "unfiltered)", p, path, target);
		}
		if (before[0] != '\0')
			check_sieve_before(p, before, ok);
	}
}

/* The mail system's side, as its own tools show it. */
static void
check_mta(void)
{
	check_dovecot(check_postfix());
	check_exim();
}

int
cmd_check_config(int argc, char **argv)
{
	struct rules	*r;
	const char	*rulesfile = NULL, *maildir = NULL, *home;
	char		 root[PATH_MAX], err[PATH_MAX + 256];
	int		 rok, filter = 0;
	const struct opt own[] = {
		{ 0, "filter", &filter, NULL },
		{ 0, NULL, NULL, NULL }
	};
	struct opts	 o;

	if (opts_parse(&o, "check-config", "d:r:u:",
	    own, argc, argv, 0, 0) == -1)
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
	if (root[0] != '\0' && filter)
		look_maildir(root);
	else if (root[0] != '\0')
		check_maildir(rok ? r : NULL, root);
	if (rok)
		check_sent(r, root, o.user);
	check_syslog();
	check_mta();
	if (geteuid() == 0)
		warning("checked as root, who may read and write anywhere: "
		    "run it as the user who delivers (sudo -u USER backstop "
		    "check-config ...)");
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
