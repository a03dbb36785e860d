/*
 * util.c: allocation, whole-fd reads and writes, atomic file
 * replacement, the log, ASCII helpers, names of verdicts and kinds, and
 * the escapes of what is printed.  Calls nothing above it.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdint.h>
#include <sys/types.h>

#include "backstop.h"

extern const char *progname;

void	*xmalloc(size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrjoin(const char *, ...) __attribute__((sentinel));
void	 xmalloc_on_oom(void (*)(void));

/* an allocator for read_fd_alloc(): the heap, or the guard's pages */
struct xalloc {
	void	*(*alloc)(size_t);
	void	*(*grow)(void *, size_t, size_t);
	void	 (*release)(void *, size_t);
};
int	 read_fd_alloc(int, char **, size_t *, size_t *, size_t, int *,
	    const struct xalloc *);
int	 read_all_fd(int, char **, size_t *, size_t);
int	 write_iov(int, const struct slice *, size_t);
int	 copy_fd(int, int);
int	 fsync_dirfd(int);
int	 fsync_dir(const char *);
int	 stdout_flushed(void);
int	 file_replace(const char *, const struct slice *, size_t, mode_t,
	    uid_t, gid_t, int (*)(const char *, void *, char *, size_t), void *,
	    char *, size_t);

void	 log_datagram(const char *, const char *);
void	 log_prefix(int, char *, size_t);
void	 log_msg(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void	 warnx_(const char *, ...) __attribute__((format(printf, 1, 2)));

int	 ascii_casecmp_n(const char *, const char *, size_t);
int	 ascii_prefix(const char *, size_t, const char *);
const char *ascii_memmem_ci(const char *, size_t, const char *);

const char *verdict_name(enum verdict);
const char *kind_name(enum kind);
int	 parse_age(const char *, long *);
void	 utc_day(int64_t, char *, size_t);
int64_t	 clock_now(void);
size_t	 msg_from_line_len(const char *, size_t);

/* what is printed: control bytes replaced, or names escaped reversibly */
void	 sanitize(char *, size_t, const char *, size_t);
void	 sanitize_utf8(char *, size_t, const char *, size_t);
void	 path_escape(char *, size_t, const char *, size_t);
char	*path_shown(const char *);
int	 path_unescape(char *, size_t, const char *);

/* A growable text buffer for explain's trace; NULL means "no trace". */
struct trace {
	char	*buf;
	size_t	 len, cap;
};
void	 trace_add(struct trace *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 trace_free(struct trace *);

#endif
