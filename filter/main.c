/*
 * backstop: stop email backscatter at local delivery.  main() only
 * dispatches to a command and is the one place that exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backstop.h"
#include "commands.h"
#include "opts.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "deliver", cmd_deliver },
	{ "filter", cmd_filter },
	{ "explain", cmd_explain },
	{ "scan", cmd_scan },
	{ "expire", cmd_expire },
	{ "junk", cmd_junk },
	{ "learn", cmd_learn },
	{ "check-rules", cmd_check_rules },
	{ "check-config", cmd_check_config },
	{ "restore", cmd_restore },
	{ "record", cmd_record },
	{ "sendmail", cmd_sendmail },
};

int
main(int argc, char **argv)
{
	size_t	 i;

	if (argc < 2) {
		opts_usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return opts_help_all();
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return opts_version();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "backstop: unknown command '%s'\n", argv[1]);
	opts_usage_all(stderr);
	return EXIT_USAGE;
}
