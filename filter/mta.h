/*
 * mta.c: what the host's mail system says of its own configuration,
 * asked through its own tools (postconf, exim -bP, doveconf), read-only.
 */
#ifndef MTA_H
#define MTA_H

#include <stddef.h>

int	 mta_run(const char *const *, char *, size_t);
int	 mta_postconf(const char *, char *, size_t);
int	 mta_postconf_master(char *, size_t);
int	 mta_exim(const char *, char *, size_t);
int	 mta_doveconf(const char *, const char *, char *, size_t);

#endif
