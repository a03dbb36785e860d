/*
 * addr.c: one form for a mail address, however it was written: case,
 * an internationalised domain as A-labels (xn--) or as UTF-8 (RFC 6532),
 * and the subaddress (+tag) that one side wrote and the other did not.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>

#define ADDR_DELIM_DEFAULT	"+"	/* Postfix's recipient_delimiter */
#define ADDR_DELIM_MAX		8	/* delimiter characters at most */

size_t	 addr_norm(const char *, char *, size_t);
size_t	 addr_base(const char *, const char *, char *, size_t);
size_t	 addr_domain(const char *, char *, size_t);
int	 addr_punycode_decode(const char *, size_t, char *, size_t);
int	 addr_shared_domain(const char *);

#endif
