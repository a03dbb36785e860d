/*
 * journal.c: what backstop record saw leave, kept in the sent index's
 * journal (INDEX.journal): an append-only file of checked entries, the
 * one copy of that evidence (the index merges it, sent.c).  Used by
 * sent.c and record.c; the door of the evidence is sent.h.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stdint.h>
#include <sys/types.h>

#define SJ_MAGIC	"BSJRNL1\n"
#define SJ_ID		1	/* a Message-ID's hash (sent_hash()) */
#define SJ_RCPT		2	/* a recipient's keyed hash (sent.c) */

struct sj_hdr {
	char		 magic[8];
	uint64_t	 salt;		/* keys the recipient hashes */
	int64_t		 since;		/* recording complete from then on */
	uint64_t	 check;
};

struct sj_entry {
	uint64_t	 h;
	int64_t		 t;		/* when it was recorded */
	uint32_t	 kind;		/* SJ_ID, SJ_RCPT */
	uint32_t	 check;		/* over the rest: a torn entry fails */
};

/* A journal as a reader sees it. */
struct sj_view {
	struct sj_hdr	 h;
	uint64_t	 dev, ino;
	off_t		 size;		/* header and whole entries */
	int		 damaged;	/* an entry failed its check */
};

int	 sj_path(const char *, char *, size_t);
int	 sj_begin(const char *, uint64_t, int *, uint64_t *, char *, size_t);
int	 sj_commit(int, struct sj_entry *, size_t, char *, size_t);
int	 sj_read(const char *, off_t, size_t, struct sj_view *,
	    struct sj_entry **, size_t *);
uint32_t sj_check(const struct sj_entry *);

#endif
