/*
 * backstop expire, junk and restore: the Junk folder's life cycle.
 * (Being written: see issue 4.)
 */
#include <stdio.h>

#include "backstop.h"

int
cmd_expire(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	warnx_("expire: not implemented yet");
	return EXIT_TEMPFAIL;
}

int
cmd_junk(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	warnx_("junk: not implemented yet");
	return EXIT_TEMPFAIL;
}

int
cmd_restore(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	warnx_("restore: not implemented yet");
	return EXIT_TEMPFAIL;
}
