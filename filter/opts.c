/*
 * One way to read a command's options.  Every command gets -h/--help
 * (usage on standard output, exit 0) and -V/--version the same way, and a
 * bad option or argument prints the usage on standard error with the
 * command's own exit code: 64 (EX_USAGE), except for deliver and filter,
 * which an MTA runs, and for which anything but 0 and 75 can bounce the
 * message (README, "Exit codes").  The synopses live here, in one table,
 * for `backstop --help` and for each command's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backstop.h"
#include "opts.h"
#include "rules.h"
#include "util.h"

static const struct {
	const char	*cmd;
	const char	*args;
	const char	*what;
	int		 bad_rc;	/* exit code of a usage error */
} usages[] = {
	{ "deliver", "[--qmail] [-d MAILDIR] [-r RULES] [-u USER@DOMAIN] "
	    "< MESSAGE",
	    "one message from stdin into the maildir", EXIT_TEMPFAIL },
	{ "filter", "[-r RULES] [-u USER@DOMAIN] < MESSAGE > MESSAGE",
	    "stdin to stdout with X-Backstop: added (procmail, maildrop, "
	    "Sieve)", EXIT_TEMPFAIL },
	{ "explain", "[-r RULES] [FILE]", "how one message is classified",
	    EXIT_USAGE },
	{ "scan", "[-r RULES] PATH...", "classify files and maildirs, one "
	    "line each", EXIT_USAGE },
	{ "expire", "[-r RULES] [--older-than AGE [--force]] [--all] "
	    "[--dry-run] [MAILDIR]", "purge old Junk (only what backstop "
	    "filed, unless --all)", EXIT_USAGE },
	{ "junk", "[-r RULES] [--summary] [MAILDIR]", "list what is in the "
	    "Junk folder (--summary: counted by day, kind, domain)",
	    EXIT_USAGE },
	{ "restore", "[-r RULES] [-d MAILDIR] FILE... | --stdin",
	    "move messages from Junk back to the inbox (--stdin: escaped "
	    "names, one a line, as junk and scan print them)", EXIT_USAGE },
	{ "learn", "[-r RULES] [--write] [--accept-local] [FOLDER...]",
	    "propose outbound patterns from the sent folders, the replies "
	    "to them and the host's mail system", EXIT_USAGE },
	{ "check-rules", "[-r RULES] [FOLDER...]", "how well the rules "
	    "cover what you sent", EXIT_USAGE },
	{ "check-config", "[--filter] [-r RULES] [-d MAILDIR] "
	    "[-u USER@DOMAIN]", "check the rules, the maildir, syslog and "
	    "the mail system's side as deliver (or filter) would use them",
	    EXIT_USAGE },
	{ "record", "[-r RULES] [-u USER@DOMAIN] [--] [RECIPIENT...] "
	    "< MESSAGE", "add an outgoing message to the sent index (the MTA "
	    "hands it a copy)", EXIT_TEMPFAIL },
	{ "sendmail", "[SENDMAIL-OPTIONS] [RECIPIENT...] < MESSAGE",
	    "send with the real sendmail, then record what it took",
	    EXIT_TEMPFAIL },
};
#define NUSAGES	(sizeof(usages) / sizeof(usages[0]))

static size_t
find(const char *cmd)
{
	size_t	 i;

	for (i = 0; i < NUSAGES; i++)
		if (strcmp(usages[i].cmd, cmd) == 0)
			return i;
	return 0;	/* not reached: every command is in the table */
}

/* The usage of every command, for `backstop --help`. */
void
opts_usage_all(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: backstop COMMAND [OPTIONS]\n\ncommands:\n");
	for (i = 0; i < NUSAGES; i++)
		fprintf(f, "  backstop %s %s\n      %s\n", usages[i].cmd,
		    usages[i].args, usages[i].what);
	fprintf(f, "\n  backstop --help | --version\n"
	    "  backstop COMMAND --help | --version\n\n"
	    "See backstop(1) and backstop.yaml(5).\n");
}

/*
 * What --help and --version print went out: 0, or 74 (EX_IOERR) when
 * standard output could not be written (said on stderr), as every
 * command answers a write error.
 */
static int
printed(void)
{
	return stdout_flushed() == -1 ? EXIT_IOERR : EXIT_OK;
}

/* `backstop --help`: the usage of every command; the exit code. */
int
opts_help_all(void)
{
	opts_usage_all(stdout);
	return printed();
}

/* `backstop --version`; the exit code. */
int
opts_version(void)
{
	printf("backstop %s\n", BACKSTOP_VERSION);
	return printed();
}

/*
 * A bad option or argument: the usage of cmd on stderr, in one line with
 * what was wrong for the commands an MTA runs (the docs promise one line
 * for any failure of deliver and filter: procmail, maildrop and Postfix
 * log it), else the message and the usage line; the exit code of a
 * usage error.
 */
static int
bad_option(const char *cmd, const char *what)
{
	size_t	 i = find(cmd);

	if (usages[i].bad_rc == EXIT_TEMPFAIL) {
		warnx_("%s: bad option or missing argument: %s; usage: "
		    "backstop %s %s, temporary failure", cmd, what,
		    usages[i].cmd, usages[i].args);
		return usages[i].bad_rc;
	}
	warnx_("%s: bad option or missing argument: %s", cmd, what);
	return opts_usage(cmd);
}

/* The usage of cmd on stderr; returns the exit code of a usage error. */
int
opts_usage(const char *cmd)
{
	size_t	 i = find(cmd);

	fprintf(stderr, "usage: backstop %s %s\n", usages[i].cmd,
	    usages[i].args);
	return usages[i].bad_rc;
}

/*
 * Whom a message is for, for the log: -u, else $USER (Postfix, Exim,
 * qmail and Dovecot's Sieve filter set it), else $LOGNAME (procmail and
 * maildrop keep only that); NULL when none says.
 */
const char *
opts_user(const struct opts *o)
{
	const char	*u;

	if (o->user != NULL && *o->user != '\0')
		return o->user;
	if ((u = getenv("USER")) != NULL && *u != '\0')
		return u;
	if ((u = getenv("LOGNAME")) != NULL && *u != '\0')
		return u;
	return NULL;
}

#define OPTS_LONG	256	/* getopt values of long-only options */

/*
 * Read argv's options for cmd: the shared ones that common names ("r:",
 * "d:", "u:"), the command's own from the table own (ended by an entry
 * with neither ch nor name; NULL: none), --help and --version; then check
 * that between min and max (-1: any) arguments follow.  0, with
 * argv[optind] the first argument; or -1 when the command is to return
 * o->rc at once: --help or --version answered (0), or a usage error
 * reported with the command's own code.
 */
int
opts_parse(struct opts *o, const char *cmd, const char *common,
    const struct opt *own, int argc, char **argv, int min, int max)
{
	char		 shorts[64], bad[3] = "-?";
	struct option	 longs[16];
	size_t		 i, n = 0, k, u = find(cmd);
	int		 ch;

	memset(o, 0, sizeof(*o));
	memset(longs, 0, sizeof(longs));
	o->cmd = cmd;
	k = (size_t)snprintf(shorts, sizeof(shorts), "%shV", common);
	for (i = 0; own != NULL && (own[i].ch != 0 || own[i].name != NULL) &&
	    n + 3 < sizeof(longs) / sizeof(longs[0]) && k + 3 < sizeof(shorts);
	    i++) {
		if (own[i].ch != 0) {
			shorts[k++] = (char)own[i].ch;
			if (own[i].arg != NULL)
				shorts[k++] = ':';
			shorts[k] = '\0';
		}
		if (own[i].name != NULL) {
			longs[n].name = own[i].name;
			longs[n].has_arg = own[i].arg != NULL ?
			    required_argument : no_argument;
			longs[n++].val = own[i].ch != 0 ? own[i].ch :
			    OPTS_LONG + (int)i;
		}
	}
	longs[n].name = "help";
	longs[n++].val = 'h';
	longs[n].name = "version";
	longs[n++].val = 'V';
	optind = 1;
	opterr = 0;	/* said below, with the program's name */
	while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o->rules = optarg;
			continue;
		case 'd':
			o->maildir = optarg;
			continue;
		case 'u':
			o->user = optarg;
			continue;
		case 'h':
			printf("usage: backstop %s %s\n  %s\n\nSee "
			    "backstop(1).\n", usages[u].cmd, usages[u].args,
			    usages[u].what);
			o->rc = printed();
			return -1;
		case 'V':
			o->rc = opts_version();
			return -1;
		case '?':
		case ':':
			if (optopt != 0 && optopt < OPTS_LONG) {
				bad[1] = (char)optopt;
				o->rc = bad_option(cmd, bad);
			} else
				o->rc = bad_option(cmd, argv[optind - 1]);
			return -1;
		}
		for (i = 0; own != NULL && (own[i].ch != 0 ||
		    own[i].name != NULL); i++)
			if (ch == own[i].ch || ch == OPTS_LONG + (int)i) {
				if (own[i].flag != NULL)
					*own[i].flag = 1;
				if (own[i].arg != NULL)
					*own[i].arg = optarg;
				break;
			}
	}
	if (argc - optind < min || (max >= 0 && argc - optind > max)) {
		o->rc = opts_usage(cmd);
		return -1;
	}
	return 0;
}
