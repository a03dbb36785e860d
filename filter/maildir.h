/* maildir.c: the Maildir protocol, tmp/ -> fsync -> new/. */
#ifndef MAILDIR_H
#define MAILDIR_H

#include <signal.h>

#include "backstop.h"

extern const char *volatile maildir_tmp_inflight; /* tmp/ file being
					 * written, or NULL */
extern volatile sig_atomic_t maildir_stored;	/* a message is in new/ */
int	 maildir_deliver_fd(const char *, const char *, const struct slice *,
	    size_t, int, char *, size_t);
int	 maildir_ensure(const char *, const char *, char *, size_t);
int	 maildir_unique(char *, size_t);
const char *maildir_home(void);

#endif
