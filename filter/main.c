/*
 * backstop: stop email backscatter at local delivery.  main() only
 * dispatches to a command and is the one place that exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backstop.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
} cmds[] = {
	{ "deliver", cmd_deliver,
	    "deliver [--qmail] [-d MAILDIR] [-r RULES] [-u USER@DOMAIN]  one "
	    "message from stdin into the maildir" },
	{ "filter", cmd_filter,
	    "filter [-r RULES]              stdin to stdout with X-Backstop: "
	    "added (procmail, maildrop, Sieve)" },
	{ "explain", cmd_explain,
	    "explain [-r RULES] [FILE]      how one message is classified" },
	{ "scan", cmd_scan,
	    "scan [-r RULES] PATH...        classify files and maildirs, one "
	    "line each" },
	{ "expire", cmd_expire,
	    "expire [-r RULES] [--older-than AGE] [--dry-run] [MAILDIR]  "
	    "purge old Junk" },
	{ "junk", cmd_junk,
	    "junk [-r RULES] [MAILDIR]      list what is in the Junk folder" },
	{ "learn", cmd_learn,
	    "learn [-r RULES] [--write] [FOLDER...]  propose outbound "
	    "patterns from the sent folders" },
	{ "check-rules", cmd_check_rules,
	    "check-rules [-r RULES] [FOLDER...]  how well the rules cover "
	    "what you sent" },
	{ "check-config", cmd_check_config,
	    "check-config [-r RULES] [-d MAILDIR] [-u USER@DOMAIN]  check "
	    "what deliver would use" },
	{ "restore", cmd_restore,
	    "restore [-d MAILDIR] FILE...   move messages from Junk back to "
	    "the inbox" },
};

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: backstop COMMAND [OPTIONS]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  backstop %s\n", cmds[i].help);
	fprintf(f, "\n  backstop --help | --version\n\n"
	    "See backstop(1) and backstop.yaml(5).\n");
}

int
main(int argc, char **argv)
{
	size_t	 i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("backstop %s\n", BACKSTOP_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "backstop: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
