/*
 * backstop: stop email backscatter at local delivery.
 *
 * What every module shares: the version, the exit codes, the limits and
 * the few plain types that cross between stages.  Each module has its
 * own header (util.h, hdr.h, rules.h, extract.h, judge.h, guard.h,
 * maildir.h, sent.h, opts.h, and one per command); every exported name
 * carries its module's prefix, everything else is static.
 */
#ifndef BACKSTOP_H
#define BACKSTOP_H

#include <stddef.h>
#include <stdint.h>

#define BACKSTOP_VERSION "0.1.0"

/* Exit codes: the one contract, used only by main() and the commands. */
#define EXIT_OK		0
#define EXIT_USAGE	64	/* EX_USAGE: not for deliver, see below */
#define EXIT_NOINPUT	66	/* EX_NOINPUT: no sent folder to read */
#define EXIT_IOERR	74	/* EX_IOERR: a file or stdout failed */
#define EXIT_TEMPFAIL	75	/* EX_TEMPFAIL: every MTA retries it */
#define EXIT_CONFIG	78	/* EX_CONFIG: the rules cannot be used */
#define EXIT_QMAIL_STOP	99	/* qmail: delivered, skip later lines */

/* Limits that degrade classification, never delivery. */
#define LIM_PARSE_BYTES	(4u * 1024 * 1024)	/* bytes handed to the parser */
#define LIM_HEADER_BYTES (256u * 1024)		/* one header block scanned */
#define LIM_FIELD_BYTES	(64u * 1024)		/* one field, unfolded */
#define LIM_MIME_DEPTH	32			/* nesting of multipart/message */
#define LIM_MIME_PARTS	2000			/* parts walked */
#define LIM_MSGID	998			/* RFC 5322 line length */
#define LIM_TIMEOUT	10			/* seconds for classification */
#define LIM_MEM_MB	512			/* address space for classification */
#define LIM_ADDR	254		/* RFC 5321 4.5.3.1.3 path, less <> */

/* Bytes: a pointer and a length, never NUL-terminated by contract. */
struct slice {
	const char	*p;
	size_t		 n;
};

enum verdict {
	V_NOT_BOUNCE = 0,
	V_OURS,
	V_BACKSCATTER,
	V_UNKNOWN,
	V_COUNT
};

enum kind {
	K_NONE = 0,
	K_DSN,
	K_NDR,
	K_AUTOREPLY,
	K_MDN
};

#endif
