/*
 * backstop: stop email backscatter at local delivery.
 *
 * Shared declarations.  Every exported name carries its module's prefix
 * (hdr_, rules_, extract_, judge_, guard_, maildir_, sent_, opts_, log_);
 * everything else is static.
 */
#ifndef BACKSTOP_H
#define BACKSTOP_H

#include <getopt.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

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

/* Fixed size, plain data: nothing in it points anywhere. */
struct result {
	enum verdict	verdict;
	enum kind	kind;
	int		failed;		/* classification could not be done */
	char		msgid[LIM_MSGID + 1];	/* as written, brackets kept */
	char		where[160];	/* where the original was found */
	char		reason[240];	/* short, for a person */
	char		rule[320];	/* FILE:LINE of the deciding rule */
	int		by_rcpt;	/* the recipient evidence decided */
};

/* A growable text buffer for explain's trace; NULL means "no trace". */
struct trace {
	char	*buf;
	size_t	 len, cap;
};
void	 trace_add(struct trace *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 trace_free(struct trace *);

/* util.c */
extern const char *progname;
void	*xmalloc(size_t);
void	 xmalloc_on_oom(void (*)(void));
/* an allocator for read_fd_alloc(): the heap, or the guard's pages */
struct xalloc {
	void	*(*alloc)(size_t);
	void	*(*grow)(void *, size_t, size_t);
	void	 (*release)(void *, size_t);
};
int	 read_fd_alloc(int, char **, size_t *, size_t *, size_t, int *,
	    const struct xalloc *);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
void	 log_datagram(const char *, const char *);
void	 log_prefix(int, char *, size_t);
void	 log_msg(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void	 warnx_(const char *, ...) __attribute__((format(printf, 1, 2)));
int	 ascii_casecmp_n(const char *, const char *, size_t);
int	 ascii_prefix(const char *, size_t, const char *);
const char *ascii_memmem_ci(const char *, size_t, const char *);
int	 read_all_fd(int, char **, size_t *, size_t);
int	 write_iov(int, const struct slice *, size_t);
int	 copy_fd(int, int);
int	 fsync_dirfd(int);
int	 stdout_flushed(void);
int	 fsync_dir(const char *);
int	 file_replace(const char *, const struct slice *, size_t, mode_t,
	    uid_t, gid_t, int (*)(const char *, void *, char *, size_t), void *,
	    char *, size_t);
const char *verdict_name(enum verdict);
const char *kind_name(enum kind);
int	 parse_age(const char *, long *);
void	 utc_day(int64_t, char *, size_t);
char	*xstrjoin(const char *, ...) __attribute__((sentinel));
void	 sanitize(char *, size_t, const char *, size_t);
void	 sanitize_utf8(char *, size_t, const char *, size_t);
size_t	 msg_from_line_len(const char *, size_t);
/* expire.c: file names in tab-separated lines (junk, scan), reversible */
void	 junk_escape(char *, size_t, const char *, size_t);

/* hdr.c: header blocks as (pointer, length) slices, LF or CRLF lines */
size_t	 hdr_block_len(const char *, size_t);
int	 hdr_next(struct slice *, struct slice *, struct slice *);
int	 hdr_find(struct slice, const char *, struct slice *);
uint64_t hdr_find_many(struct slice, const char *const *, size_t,
	    struct slice *);
size_t	 hdr_unfold(struct slice, char *, size_t);
int	 hdr_msgid(struct slice, char *, size_t);
int	 hdr_last_msgid(struct slice, char *, size_t);
int	 hdr_is_field_line(const char *, size_t);
void	 hdr_decode_words(char *, size_t);
#define HDR_LATIN1	0
#define HDR_CP1250	1
int	 hdr_8bit_utf8(const unsigned char *, size_t, char *, size_t);
void	 hdr_fold_case(char *);
int	 hdr_ascii_charconv(const char *, const char *, const char *, size_t,
	    char *, size_t *);

/* rules.c */
struct rules;
struct rules *rules_new(void);
void	 rules_free(struct rules *);
int	 rules_load(struct rules *, const char *, int, char *, size_t);
int	 rules_load_default(struct rules *, const char *, char *, size_t);
void	 rules_set_user(const char *);
int	 rules_expand(const char *, char *, size_t, char *, size_t);
const char *rules_system_path(void);
int	 rules_user_path(const char *, char *, size_t, int *, char *, size_t);
const char *rules_sent_index(const struct rules *);
const char *const *rules_sent_folders(const struct rules *, size_t *);
int	 rules_match_msgid(const struct rules *, const char *, char *, size_t);
int	 rules_match_pattern(const struct rules *, size_t, const char *);
int	 rules_has_evidence(const struct rules *);
const char *rules_folder(const struct rules *, enum verdict);
const char *rules_junk_folder(const struct rules *);
long	 rules_expire_secs(const struct rules *);
size_t	 rules_parse_bytes(const struct rules *);
unsigned rules_timeout(const struct rules *);
int	 rules_relay_match(const struct rules *, const char *, size_t,
	    char *, size_t);
int	 rules_sent_lookup(const struct rules *, const char *, char *, size_t);
/* rules_has_evidence(): nonzero when any source is configured; bits: */
#define RULES_EV_PATTERNS	0x1
#define RULES_EV_RELAYS		0x2
#define RULES_EV_SENT		0x4
int	 rules_sent_recipients(const struct rules *, const char *const *,
	    size_t, int64_t, int64_t, int *, char *, size_t);
int	 rules_recipients(const struct rules *);
#define RULES_RCPT_ON		0x1	/* outbound.recipients: true */
#define RULES_RCPT_JUNK		0x2	/* never wrote to: backscatter */
#define RULES_RCPT_DOMAIN	0x4	/* the domain is enough */
size_t	 rules_count(const struct rules *, int);
const char *rules_item(const struct rules *, int, size_t, const char **,
	    int *);
const char *rules_files(const struct rules *);

/*
 * extract.c: what a message is and what it quotes.  Reads the message
 * bytes only (no file, no rules), so it can run under the guard; the
 * result is plain data that leaves the guard whole.
 */
#define LIM_RECEIVED	(16u * 1024)	/* Received: text kept for relays */
#define LIM_ADDR	254		/* RFC 5321 4.5.3.1.3 path, less <> */
#define EXTRACT_MAX_ADDRS 32		/* counterpart addresses kept */
/* Where a counterpart address was found, in order of trust. */
enum addr_src {
	AS_NONE = 0,
	AS_ORIGINAL_RCPT,	/* DSN Original-Recipient: before aliases */
	AS_FINAL_RCPT,		/* DSN Final-Recipient: */
	AS_FAILED_RCPTS,	/* X-Failed-Recipients: */
	AS_RETURNED,		/* the returned original's To:/Cc: */
	AS_REPLIER,		/* the auto-reply's From:/Reply-To: */
	AS_TEXT,		/* a recipient line of the bounce's text */
	AS_TEXT_MENTION		/* named elsewhere in the text: weak */
};
struct extract_addr {
	char		 addr[LIM_ADDR + 1];	/* lower case */
	unsigned char	 src;			/* enum addr_src */
};
/* The small members first, the arrays each filled from its start: a
 * page of these 26 KiB not written is a page fault not taken. */
struct extract {
	enum kind	 kind;
	int		 strong;	/* a strong bounce signal: may be junk */
	int64_t		 date;		/* the report's own Date:, 0: none */
	size_t		 naddrs;	/* counterparts: the failed recipients */
	size_t		 received_len;	/* bytes of received[] */
	char		 msgid[LIM_MSGID + 1];	/* the original's, or "" */
	char		 where[160];	/* where it was found */
	struct extract_addr addrs[EXTRACT_MAX_ADDRS];	/* or the replier */
	char		 received[LIM_RECEIVED];	/* the original's
					 * Received: values, one a line */
};
#define EXTRACT_NULL_SENDER	0x1	/* the envelope sender was null */
#define EXTRACT_ADDRS		0x2	/* the counterparts and Date too */
void	 extract(const char *, size_t, size_t, unsigned, struct extract *,
	    struct trace *);
int	 extract_maybe_bounce(const char *, size_t, size_t, int);
int	 extract_addrs(const char *, size_t,
	    int (*)(void *, const char *, size_t, size_t), void *);
int64_t	 extract_date(const char *, size_t);
const char *extract_addr_source(int);

/* judge.c: the evidence the rules name, weighed; outside the guard */
void	 judge(const struct rules *, const struct extract *, struct result *,
	    struct trace *);
void	 judge_message(const char *, size_t, const struct rules *, int,
	    struct result *, struct trace *);
void	 judge_header(const struct result *, char *, size_t);

/* guard.c: in-process classification that a crash or hang cannot cost */
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

/* maildir.c */
extern const char *volatile maildir_tmp_inflight; /* tmp/ file being
					 * written, or NULL */
extern volatile sig_atomic_t maildir_stored;	/* a message is in new/ */
int	 maildir_deliver_fd(const char *, const char *, const struct slice *,
	    size_t, int, char *, size_t);
int	 maildir_ensure(const char *, const char *, char *, size_t);
int	 maildir_unique(char *, size_t);
const char *maildir_home(void);

/* sent.c: the index of the Message-IDs of the user's sent folders */
#define SENT_MAX_IDS	1000000
#define SENT_MAX_RCPTS	4000000	/* recipients (and their domains) kept */
uint64_t sent_hash(const char *);
int	 sent_folder_valid(const char *, char *, size_t);
int	 sent_folder_path(const char *, char *, size_t);
void	 sent_set_maildir(const char *);
int	 sent_index_path(const char *, char *, size_t);
const char *const *sent_default_names(void);
int	 sent_msgid_file(const char *, char *, size_t);
int	 sent_each(const char *, int (*)(void *, const char *, const char *),
	    void *, size_t *, char *, size_t);
int	 sent_lookup(const char *, const char *const *, size_t, const char *,
	    long, char *, size_t);
long	 sent_refresh(const char *, const char *const *, size_t, char *,
	    size_t);
int	 sent_lookup_rcpts(const char *, const char *const *, size_t,
	    const char *const *, size_t, int, int64_t, int64_t, long, int *,
	    char *, size_t);

/* opts.c: options and usage, the same way for every command */
struct opts {
	const char	*cmd;
	int		 rc;		/* to return when opts_parse() is -1 */
	const char	*rules;		/* -r RULES */
	const char	*maildir;	/* -d MAILDIR */
};
/* one option of a command's own: a flag set to 1, or an argument */
struct opt {
	int		  ch;		/* its letter, or 0: long only */
	const char	 *name;		/* its long name, or NULL */
	int		 *flag;
	const char	**arg;
};
int	 opts_parse(struct opts *, const char *, const char *,
	    const struct opt *, int, char **, int, int);
int	 opts_usage(const char *);
void	 opts_usage_all(FILE *);

/* commands */
int	 cmd_deliver(int, char **);
int	 cmd_filter(int, char **);
int	 cmd_scan(int, char **);
int	 cmd_explain(int, char **);
int	 cmd_expire(int, char **);
int	 cmd_junk(int, char **);
int	 cmd_restore(int, char **);
int	 cmd_learn(int, char **);
int	 cmd_check_rules(int, char **);
int	 cmd_check_config(int, char **);

#endif
