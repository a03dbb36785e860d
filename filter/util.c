/*
 * Small helpers shared by every command: allocation that cannot return
 * NULL, syslog, ASCII-only case folding (never tolower() on a signed char),
 * and the verdict and kind names that scan's stable output depends on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "util.h"

const char *progname = "backstop";

/*
 * Out of memory ends the process; a higher layer may first take its own
 * way out (the guard stores the message unclassified), as Postfix's
 * msg_cleanup() lets a program act before msg_fatal() ends it.  The
 * allocator itself knows nothing of who registered.
 */
static void	(*oom_hook)(void);

void
xmalloc_on_oom(void (*fn)(void))
{
	oom_hook = fn;
}

static void __attribute__((noreturn))
out_of_memory(void)
{
	if (oom_hook != NULL)
		oom_hook();
	/* Only main() decides exit codes, but out of memory is the one
	 * failure every caller maps to a temporary failure. */
	fprintf(stderr, "%s: out of memory\n", progname);
	_exit(EXIT_TEMPFAIL);
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		out_of_memory();
	return p;
}

void *
xrealloc(void *o, size_t n)
{
	void	*p;

	if ((p = realloc(o, n ? n : 1)) == NULL)
		out_of_memory();
	return p;
}

char *
xstrdup(const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

/*
 * The concatenation of the strings up to a NULL, in a string of exactly
 * its size (free() it).  For paths: a PATH_MAX buffer on the stack for
 * each put every one on a page of its own, and each page a delivery
 * touches first costs a page fault (~10 us on a virtual machine); these
 * share the heap's.  Not snprintf: it costs ~1,000 instructions a call.
 */
char *
xstrjoin(const char *s, ...)
{
	va_list		 ap;
	const char	*t;
	char		*p, *o;
	size_t		 n = 0;

	va_start(ap, s);
	for (t = s; t != NULL; t = va_arg(ap, const char *))
		n += strlen(t);
	va_end(ap);
	o = p = xmalloc(n + 1);
	va_start(ap, s);
	for (t = s; t != NULL; t = va_arg(ap, const char *)) {
		n = strlen(t);
		memcpy(o, t, n);
		o += n;
	}
	va_end(ap);
	*o = '\0';
	return p;
}

/*
 * t (seconds since the epoch) as YYYY-MM-DD in UTC.  Not gmtime() and
 * strftime(): the first call of either loads /etc/localtime (TZ), 7
 * system calls that a delivery does not need for a date in UTC.
 * Civil from days: H. Hinnant's algorithm.
 */
void
utc_day(int64_t t, char *out, size_t outsz)
{
	int64_t	 z, era, doe, yoe, y, doy, mp, d, m;

	z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	snprintf(out, outsz, "%04lld-%02lld-%02lld", (long long)y,
	    (long long)m, (long long)d);
}

/*
 * Syslog, written by hand: one datagram "<PRI>backstop[PID]: MESSAGE" to
 * /dev/log, as syslog(3) sends it but without the local-time stamp, which
 * rsyslog, syslog-ng and journald add on receipt; glibc reads
 * /etc/localtime for it in every process, 7 system calls of a delivery.
 * socket, sendmsg and close only: async-signal-safe, so the guard's rescue
 * (guard.c) logs with it too.  pre is "<PRI>backstop[PID]: ".
 *
 * It never blocks: a syslog daemon that does not read (stopped, hung,
 * flooded) fills the socket's queue, and a blocking sendmsg() would then
 * hold a delivery whose message is already stored until the MTA's time
 * limit, which Postfix turns into a bounce (and the message was stored).
 * The socket is non-blocking and the send MSG_DONTWAIT: a line that does
 * not fit is dropped, as syslog(3) drops it on a dead /dev/log.
 */
void
log_datagram(const char *pre, const char *msg)
{
	struct sockaddr_un	 sun;
	struct iovec		 v[2];
	struct msghdr		 mh;
	int			 fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, "/dev/log", sizeof("/dev/log"));
	v[0].iov_base = (void *)(uintptr_t)pre;
	v[0].iov_len = strlen(pre);
	v[1].iov_base = (void *)(uintptr_t)msg;
	v[1].iov_len = strlen(msg);
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &sun;
	mh.msg_namelen = sizeof(sun);
	mh.msg_iov = v;
	mh.msg_iovlen = 2;
	/* EAGAIN: the daemon is not reading; the line is dropped */
	(void)sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* "<PRI>backstop[PID]: " for a priority of the mail facility. */
void
log_prefix(int pri, char *out, size_t outsz)
{
	snprintf(out, outsz, "<%d>%s[%ld]: ", LOG_MAIL | (pri & LOG_PRIMASK),
	    progname, (long)getpid());
}

void
log_msg(int pri, const char *fmt, ...)
{
	va_list	 ap;
	char	 pre[64], msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_prefix(pri, pre, sizeof(pre));
	log_datagram(pre, msg);
	if (getenv("BACKSTOP_LOG_STDERR") != NULL)
		fprintf(stderr, "%s: log: %s\n", progname, msg);
}

void
warnx_(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void
trace_add(struct trace *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (t == NULL)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL,
		    t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (t->buf != NULL && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->buf = xrealloc(t->buf, t->cap);
	}
}

void
trace_free(struct trace *t)
{
	if (t == NULL)
		return;
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
}

static inline unsigned char
lc(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Compare n bytes, ASCII case-insensitively. */
int
ascii_casecmp_n(const char *a, const char *b, size_t n)
{
	size_t	 i;
	int	 d;

	for (i = 0; i < n; i++) {
		d = lc((unsigned char)a[i]) - lc((unsigned char)b[i]);
		if (d != 0)
			return d;
	}
	return 0;
}

/* Does (p, n) start with the NUL-terminated prefix, ignoring case? */
int
ascii_prefix(const char *p, size_t n, const char *pfx)
{
	size_t	 k = strlen(pfx);

	return n >= k && ascii_casecmp_n(p, pfx, k) == 0;
}

/* Case-insensitive search of a lower-case needle in (h, n). */
const char *
ascii_memmem_ci(const char *h, size_t n, const char *needle)
{
	size_t		 k = strlen(needle), i;
	unsigned char	 c0;

	if (k == 0)
		return h;
	if (k > n)
		return NULL;
	c0 = (unsigned char)needle[0];
	for (i = 0; i + k <= n; i++) {
		if (lc((unsigned char)h[i]) != c0)
			continue;
		if (ascii_casecmp_n(h + i + 1, needle + 1, k - 1) == 0)
			return h + i;
	}
	return NULL;
}

static void *
heap_alloc(size_t n)
{
	return malloc(n);
}

static void *
heap_grow(void *p, size_t old, size_t n)
{
	(void)old;
	return realloc(p, n);
}

static void
heap_release(void *p, size_t n)
{
	(void)n;
	free(p);
}

static const struct xalloc heap = { heap_alloc, heap_grow, heap_release };

/* read_fd_alloc(), the first buffer cap bytes. */
static int
read_fd_cap(int fd, char **buf_r, size_t *len_r, size_t *cap_r, size_t max,
    int *more_r, const struct xalloc *a, size_t cap)
{
	size_t	 len = 0, ncap;
	char	*buf, *nbuf;
	ssize_t	 r;

	if (a == NULL)
		a = &heap;
	if ((buf = a->alloc(cap)) == NULL)
		return -1;
	*more_r = 1;
	while (max == 0 || len < max) {
		if (len == cap) {
			if (cap > SIZE_MAX / 2) {
				errno = ENOMEM;
				goto fail;
			}
			ncap = (max == 0 || cap < max / 2) ? cap * 2 : max;
			if ((nbuf = a->grow(buf, cap, ncap)) == NULL)
				goto fail;
			buf = nbuf;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len);
		if (r == 0) {
			*more_r = 0;
			break;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		len += (size_t)r;
	}
	*buf_r = buf;
	*len_r = len;
	if (cap_r != NULL)
		*cap_r = cap;
	return 0;
fail:
	r = errno;
	a->release(buf, cap);
	errno = (int)r;
	return -1;
}

/*
 * Read at most max bytes of fd (0: no bound) into a buffer from the
 * allocator a (NULL: malloc); *more_r is 1 when the end of fd was not
 * reached, *cap_r (if not NULL) gets the buffer's size.  0, or -1 with
 * errno.
 */
int
read_fd_alloc(int fd, char **buf_r, size_t *len_r, size_t *cap_r, size_t max,
    int *more_r, const struct xalloc *a)
{
	return read_fd_cap(fd, buf_r, len_r, cap_r, max, more_r, a, 65536);
}

/*
 * Read fd to EOF into a malloc'd buffer.  Returns 0, or -1 with errno set.
 * max bounds the size (0: none); past it errno is EFBIG.
 */
int
read_all_fd(int fd, char **buf_r, size_t *len_r, size_t max)
{
	struct stat	 st;
	size_t		 cap = 65536;
	int		 more;

	/* a small regular file (a rules file): room for it and the EOF,
	 * not 64 KiB whose pages the allocations after it would touch */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    st.st_size < (off_t)cap - 1)
		cap = (size_t)st.st_size + 1;
	if (read_fd_cap(fd, buf_r, len_r, NULL, max ? max + 1 : 0, &more,
	    NULL, cap) == -1)
		return -1;
	if (max && *len_r > max) {
		free(*buf_r);
		errno = EFBIG;
		return -1;
	}
	return 0;
}

const char *
verdict_name(enum verdict v)
{
	static const char *const names[V_COUNT] = {
		"not-bounce", "ours", "backscatter", "unknown"
	};

	return (unsigned)v < V_COUNT ? names[v] : "unknown";
}

const char *
kind_name(enum kind k)
{
	switch (k) {
	case K_DSN:
		return "dsn";
	case K_NDR:
		return "ndr";
	case K_AUTOREPLY:
		return "autoreply";
	case K_MDN:
		return "mdn";
	default:
		return "none";
	}
}

/* "30d", "12h", "2w", "90m", "45s", or a plain number of days. */
int
parse_age(const char *s, long *secs_r)
{
	char	*end;
	long	 n, mul;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || n < 0)
		return -1;
	switch (*end) {
	case '\0':
	case 'd':
		mul = 86400;
		break;
	case 'w':
		mul = 7 * 86400;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'm':
		mul = 60;
		break;
	case 's':
		mul = 1;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (n > 100L * 365 * 86400 / mul)
		return -1;
	*secs_r = n * mul;
	return 0;
}

/*
 * Copy (s, n) into dst for a header or a log line: printable ASCII only,
 * anything else becomes '?', so that hostile bytes from a message never
 * reach a header, a terminal or syslog as control characters.
 */
void
sanitize(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t	 i, o = 0;

	if (dstsz == 0)
		return;
	for (i = 0; i < n && o + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[o] = '\0';
}

/*
 * sanitize() for text shown to a person that may be UTF-8: well-formed
 * sequences of printable characters are kept (not C1 controls, not
 * surrogates, not overlong forms), every other byte becomes '?'.
 */
void
sanitize_utf8(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t		 i = 0, o = 0, k, j;
	unsigned	 cp;
	unsigned char	 c;

	if (dstsz == 0)
		return;
	while (i < n && o + 1 < dstsz) {
		c = (unsigned char)s[i];
		k = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 :
		    c >= 0xc2 && c <= 0xdf ? 2 : 1;
		cp = k == 4 ? c & 0x07u : k == 3 ? c & 0x0fu : c & 0x1fu;
		for (j = 1; k > 1 && j < k; j++) {
			if (i + j >= n ||
			    ((unsigned char)s[i + j] & 0xc0) != 0x80)
				break;
			cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3fu);
		}
		if (k == 1 || j < k || cp < 0xa0 || (cp >= 0xd800 &&
		    cp <= 0xdfff) || cp > 0x10ffff ||
		    (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
		    o + k >= dstsz) {
			dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
			i++;
			continue;
		}
		memcpy(dst + o, s + i, k);
		o += k;
		i += k;
	}
	dst[o] = '\0';
}

/* Write every byte of iov[] to fd.  0, or -1 with errno. */
int
write_iov(int fd, const struct slice *iov, size_t niov)
{
	size_t	 i, off;
	ssize_t	 k;

	for (i = 0; i < niov; i++)
		for (off = 0; off < iov[i].n; off += (size_t)k) {
			k = write(fd, iov[i].p + off, iov[i].n - off);
			if (k < 0) {
				if (errno == EINTR) {
					k = 0;
					continue;
				}
				return -1;
			}
		}
	return 0;
}

/* Copy the rest of in to out, 64 KiB at a time.  0, or -1 with errno. */
int
copy_fd(int out, int in)
{
	char		 b[65536];
	struct slice	 s;
	ssize_t		 r;

	for (;;) {
		if ((r = read(in, b, sizeof(b))) == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s.p = b;
		s.n = (size_t)r;
		if (write_iov(out, &s, 1) == -1)
			return -1;
	}
}

/* Is p (n bytes) "Www Mmm" with an English day and month name? */
static int
from_day_month(const char *p, size_t n)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	size_t	 i;
	int	 d = 0, m = 0;

	if (n < 7 || p[3] != ' ')
		return 0;
	for (i = 0; i + 3 <= sizeof(days) - 1; i += 3)
		d |= memcmp(p, days + i, 3) == 0;
	for (i = 0; i + 3 <= sizeof(months) - 1; i += 3)
		m |= memcmp(p + 4, months + i, 3) == 0;
	return d && m;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Does a From_ line's date start at p (n bytes to the end of the line)?
 * asctime(3) as mbox(5), qmail, Postfix, Exim and procmail write it,
 * "Sun Nov  1 09:31:00 2026" (the day space-padded or not), or the
 * "2019-10-02 05:04:34 +0000" of some archives.
 */
static int
from_date_at(const char *p, size_t n)
{
	size_t	 i;

	if (n >= 16 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
	    is_digit(p[3]) && p[4] == '-' && is_digit(p[5]) &&
	    is_digit(p[6]) && p[7] == '-' && is_digit(p[8]) &&
	    is_digit(p[9]) && (p[10] == ' ' || p[10] == 'T') &&
	    is_digit(p[11]) && is_digit(p[12]) && p[13] == ':' &&
	    is_digit(p[14]) && is_digit(p[15]))
		return 1;
	if (!from_day_month(p, n))
		return 0;
	for (i = 7; i < n && p[i] == ' '; i++)
		;
	if (i == 7 || i >= n || !is_digit(p[i]))
		return 0;
	i++;
	if (i < n && is_digit(p[i]))
		i++;
	return i + 6 <= n && p[i] == ' ' && is_digit(p[i + 1]) &&
	    is_digit(p[i + 2]) && p[i + 3] == ':' && is_digit(p[i + 4]) &&
	    is_digit(p[i + 5]);
}

/*
 * Length of a leading mbox From_ line (Postfix, Exim and procmail prepend
 * one), its end included; 0 when the message does not start with one.
 * Only a real one: "From ", the envelope sender (empty, or with spaces in
 * a quoted local part, in the wild), a space and a date (mbox(5)).  A
 * header field of the obsolete syntax "From : a@b" (RFC 5322 4.5.3,
 * space before the colon) or a bare "From " line is the message itself
 * and is kept byte for byte.
 */
size_t
msg_from_line_len(const char *p, size_t n)
{
	const char	*nl;
	size_t		 k, i;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	if ((nl = memchr(p, '\n', n)) == NULL)
		return 0;
	k = (size_t)(nl - p);
	for (i = 5; i < k; i++)
		if (p[i - 1] == ' ' && from_date_at(p + i, k - i))
			return k + 1;
	return 0;
}

/*
 * fsync a directory, so that the names made or removed in it are on disk.
 * A filesystem that cannot fsync a directory (EINVAL, ENOTSUP) is no loss.
 * open, fsync and close only: async-signal-safe, the guard's rescue uses
 * it too.  0, or -1 with errno.
 */
int
fsync_dirfd(int dfd)
{
	if (fsync(dfd) == -1 && errno != EINVAL && errno != ENOTSUP)
		return -1;
	return 0;
}

int
fsync_dir(const char *path)
{
	int	 fd, rc, e;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync_dirfd(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/*
 * Replace the file path with the bytes of iov[] atomically: a temporary
 * file beside it (same directory, so rename() cannot cross filesystems)
 * with the given mode, and the given owner when uid is not (uid_t)-1
 * (root editing a user's file); every byte written, fsync, close checked;
 * check(tmp) when given (the result must be usable: learn loads the rule
 * file it wrote); rename() over path; fsync of the directory.  On any
 * failure the temporary file is removed and path is as it was.  The one
 * way every command rewrites a file (learn --write, the sent index).
 * 0, or -1 with err.
 */
int
file_replace(const char *path, const struct slice *iov, size_t niov,
    mode_t mode, uid_t uid, gid_t gid,
    int (*check)(const char *, void *, char *, size_t), void *arg,
    char *err, size_t errsz)
{
	char		 tmp[PATH_MAX], dir[PATH_MAX];
	const char	*sl;
	int		 fd, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    sizeof(tmp)) {
		snprintf(err, errsz, "%.400s: path too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%.400s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_iov(fd, iov, niov) == -1 || fchmod(fd, mode) == -1 ||
	    (uid != (uid_t)-1 && fchown(fd, uid, gid) == -1) ||
	    fsync(fd) == -1) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		e = errno;
		goto fail;
	}
	if (check != NULL && check(tmp, arg, err, errsz) == -1) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		e = errno;
		goto fail;
	}
	sl = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", sl == NULL ? 1 : sl == path ? 1 :
	    (int)(sl - path), sl == NULL ? "." : path);
	if (fsync_dir(dir) == -1) {
		/* the new file is in place; only its name may not be on disk */
		snprintf(err, errsz, "%.400s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
fail:
	snprintf(err, errsz, "%.400s: %s", tmp, strerror(e));
	unlink(tmp);
	return -1;
}

/*
 * Everything printed is out: fflush and check stdout once, at the end of
 * a command that prints.  0, or -1 after saying so on stderr.
 */
int
stdout_flushed(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warnx_("write error on stdout");
		return -1;
	}
	return 0;
}

/*
 * A file name or path for a tab-separated line, reversibly: backslash as
 * \\, TAB \t, LF \n, CR \r, every other byte that is not printable ASCII
 * as \ooo (three octal digits).  restore --stdin reads it back.  Used
 * by junk, expire, restore and scan's PATH column.  dst must hold
 * 4 * n + 1 bytes to take it all; a shorter dst truncates at a whole
 * escape.
 */
void
path_escape(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t	 i, o = 0, k;
	char	 e[5];

	if (dstsz == 0)
		return;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			k = (size_t)snprintf(e, sizeof(e), "\\\\");
		else if (c == '\t')
			k = (size_t)snprintf(e, sizeof(e), "\\t");
		else if (c == '\n')
			k = (size_t)snprintf(e, sizeof(e), "\\n");
		else if (c == '\r')
			k = (size_t)snprintf(e, sizeof(e), "\\r");
		else if (c < 0x20 || c >= 0x7f)
			k = (size_t)snprintf(e, sizeof(e), "\\%03o", c);
		else {
			e[0] = (char)c;
			k = 1;
		}
		if (o + k >= dstsz)
			break;
		memcpy(dst + o, e, k);
		o += k;
	}
	dst[o] = '\0';
}

/*
 * A file name or path for a message on stderr or in the log:
 * path_escape()d whole into a string of its own (free() it), so that a
 * name with control bytes cannot rewrite the terminal or split a line.
 */
char *
path_shown(const char *s)
{
	size_t	 n = strlen(s);
	char	*p = xmalloc(4 * n + 1);

	path_escape(p, 4 * n + 1, s, n);
	return p;
}

/* The inverse of path_escape().  Returns 0, or -1 for a malformed line. */
int
path_unescape(char *dst, size_t dstsz, const char *s)
{
	size_t	 o = 0;
	int	 c, k;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '\\') {
			s++;
			if (*s == '\\')
				c = '\\';
			else if (*s == 't')
				c = '\t';
			else if (*s == 'n')
				c = '\n';
			else if (*s == 'r')
				c = '\r';
			else if (*s >= '0' && *s <= '3') {
				for (c = 0, k = 0; k < 3; k++, s++) {
					if (*s < '0' || *s > '7')
						return -1;
					c = c * 8 + (*s - '0');
				}
				s--;
				if (c == 0)
					return -1;
			} else
				return -1;
		}
		if (o + 1 >= dstsz)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/*
 * The time now, in seconds: what the sent index stamps its entries and
 * its watch with, and what a report's arrival is.  The test suite sets
 * BACKSTOP_TEST_CLOCK (seconds since the epoch) to build an index "40
 * days ago" and judge with it today: a static binary takes no
 * LD_PRELOAD'ed clock.
 */
int64_t
clock_now(void)
{
	const char	*v = getenv("BACKSTOP_TEST_CLOCK");
	char		*end;
	long long	 t;

	if (v != NULL && *v != '\0') {
		t = strtoll(v, &end, 10);
		if (*end == '\0' && t > 0)
			return (int64_t)t;
	}
	return (int64_t)time(NULL);
}
