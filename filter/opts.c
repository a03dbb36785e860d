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
#include <string.h>

#include "backstop.h"

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
	{ "junk", "[-r RULES] [MAILDIR]", "list what is in the Junk folder",
	    EXIT_USAGE },
	{ "restore", "[-r RULES] [-d MAILDIR] FILE... | --stdin",
	    "move messages from Junk back to the inbox (--stdin: escaped "
	    "names, one a line, as junk and scan print them)", EXIT_USAGE },
	{ "learn", "[-r RULES] [--write] [FOLDER...]", "propose outbound "
	    "patterns from the sent folders", EXIT_USAGE },
	{ "check-rules", "[-r RULES] [FOLDER...]", "how well the rules "
	    "cover what you sent", EXIT_USAGE },
	{ "check-config", "[-r RULES] [-d MAILDIR] [-u USER@DOMAIN]",
	    "check the rules, the maildir and syslog as deliver would use "
	    "them", EXIT_USAGE },
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

/* The usage of cmd on stderr; returns the exit code of a usage error. */
int
opts_usage(const char *cmd)
{
	size_t	 i = find(cmd);

	fprintf(stderr, "usage: backstop %s %s\n", usages[i].cmd,
	    usages[i].args);
	return usages[i].bad_rc;
}

void
opts_begin(struct opts *o, const char *cmd, const char *shorts,
    const struct option *longs)
{
	size_t	 n = 0;

	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	snprintf(o->shorts, sizeof(o->shorts), "%shV", shorts);
	while (longs != NULL && longs[n].name != NULL &&
	    n + 3 < sizeof(o->longs) / sizeof(o->longs[0])) {
		o->longs[n] = longs[n];
		n++;
	}
	o->longs[n].name = "help";
	o->longs[n++].val = 'h';
	o->longs[n].name = "version";
	o->longs[n++].val = 'V';
	optind = 1;
}

/*
 * The next option of argv that is the command's own, as getopt_long()
 * gives it; -1 at the end.  The options every command means the same by
 * are taken here: -r RULES (o->rules), -d MAILDIR (o->maildir), -u
 * USER@DOMAIN (rules_set_user()), each only where shorts names it.
 * OPTS_DONE when the command is to return o->rc at once: --help and
 * --version were answered (0), or a bad option was reported.
 */
int
opts_next(struct opts *o, int argc, char **argv)
{
	size_t	 i = find(o->cmd);
	int	 ch;

	opterr = 0;	/* said below, with the program's name */
again:
	switch ((ch = getopt_long(argc, argv, o->shorts, o->longs, NULL))) {
	case 'r':
		o->rules = optarg;
		goto again;
	case 'd':
		o->maildir = optarg;
		goto again;
	case 'u':
		rules_set_user(optarg);
		goto again;
	case 'h':
		printf("usage: backstop %s %s\n  %s\n\nSee backstop(1).\n",
		    usages[i].cmd, usages[i].args, usages[i].what);
		o->rc = EXIT_OK;
		return OPTS_DONE;
	case 'V':
		printf("backstop %s\n", BACKSTOP_VERSION);
		o->rc = EXIT_OK;
		return OPTS_DONE;
	case '?':
	case ':':
		if (optopt != 0)
			warnx_("%s: bad option or missing argument: -%c",
			    o->cmd, optopt);
		else
			warnx_("%s: bad option or missing argument: %s",
			    o->cmd, argv[optind - 1]);
		o->rc = opts_usage(o->cmd);
		return OPTS_DONE;
	default:
		return ch;
	}
}

/*
 * For a command with no options of its own: read them all, and check
 * that between min and max (-1: any) arguments follow.  0, or -1 when the
 * command is to return o->rc (help, version, a usage error).
 */
int
opts_all(struct opts *o, const char *cmd, const char *shorts, int argc,
    char **argv, int min, int max)
{
	int	 ch;

	opts_begin(o, cmd, shorts, NULL);
	while ((ch = opts_next(o, argc, argv)) != -1)
		if (ch == OPTS_DONE)
			return -1;
	if (argc - optind < min || (max >= 0 && argc - optind > max)) {
		o->rc = opts_usage(cmd);
		return -1;
	}
	return 0;
}
