/* guard.c: in-process classification that a crash or hang cannot cost. */
#ifndef GUARD_H
#define GUARD_H

#include <stddef.h>

#include "backstop.h"

#define GUARD_MAILDIR	1	/* the rescue stores into a maildir */
#define GUARD_STDOUT	2	/* the rescue writes to standard output */
void	*guard_alloc(size_t);
int	 guard_read_fd(int, char **, size_t *, size_t *, size_t, int *);
void	*guard_realloc(void *, size_t, size_t);
void	 guard_free(void *, size_t);
struct guard_req {
	int		 sink;		/* GUARD_MAILDIR or GUARD_STDOUT */
	const char	*root;		/* GUARD_MAILDIR: the inbox, existing */
	const struct slice *iov;	/* the message as stored on failure */
	size_t		 niov;		/* at most 4 */
	int		 tail_fd;	/* then the rest of this fd, or -1 */
	int		 exit_ok;	/* exit code once stored (0, 99) */
	unsigned	 timeout;	/* seconds of classification */
	size_t		 memlimit;	/* RLIMIT_AS meanwhile, 0: none */
	const void	*seal;		/* guard_alloc()'d, made read-only */
	size_t		 sealn;
	const char *const *keep;	/* strings copied into the read-only */
	const char	**kept;		/* plan: kept[i] for keep[i] */
	size_t		 nkeep;
};
int	 guard_arm(const struct guard_req *);
void	 guard_disarm(void);
void	 guard_done(int);
int	 guard_mem_exhausted(int, size_t);
void	 guard_test_inject(const char *);

#endif
