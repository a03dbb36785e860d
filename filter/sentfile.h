/*
 * sentfile.c: the sent index's file format, read and written.  Used by
 * sent.c only (and by record's journal merge through it); the door of
 * the evidence is sent.h.
 *
 *	header		counts, times, salt, journal position; a check over
 *			itself and the stamps
 *	stamps		one per directory of the sent folders as it was listed
 *	(padding to a 4 KiB block)
 *	ids		sorted unique 64-bit hashes of the folders' Message-IDs
 *	names		(file key, id hash) sorted: the files read already
 *	rcpts		(hash, date) sorted: whom the folders' mail went to
 *	rids		(hash, date) sorted: Message-IDs that backstop record
 *			saw leave
 *	rrcpts		(hash, date) sorted: whom that recorded mail went to
 *	checks		one 64-bit check per 4 KiB block of the five arrays
 *
 * Each array starts on a block and fills whole blocks (zero padding), so
 * that a lookup reads a block, checks it against its entry in checks,
 * and trusts nothing it has not checked.
 */
#ifndef SENTFILE_H
#define SENTFILE_H

#include <stdint.h>
#include <sys/types.h>

#define SF_MAGIC	"BSSENT3\n"
#define SF_MAGIC_ANY	"BSSENT"	/* any version of backstop's index */
#define SF_VERSION	3
#define SF_BLOCK	4096
#define SF_MAX_DIRS	64
#define SF_F_COMPLETE	0x1		/* every file of the folders read */
#define SF_F_JDAMAGED	0x2		/* the journal had a damaged entry */

enum sf_array {
	SF_IDS = 0,
	SF_NAMES,
	SF_RCPTS,
	SF_RIDS,
	SF_RRCPTS,
	SF_NARR
};

struct sf_hdr {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 flags;
	uint64_t	 nstamps;
	uint64_t	 n[SF_NARR];	/* entries of each array */
	int64_t		 built;		/* when this file was written */
	int64_t		 watched;	/* folders watched since then */
	int64_t		 first;		/* oldest date of a folder message */
	int64_t		 since;		/* folder recipients kept since */
	int64_t		 rec_first;	/* the first record; 0: none */
	int64_t		 rec_since;	/* recorded entries kept since */
	uint64_t	 salt;		/* keys the recipient hashes */
	uint64_t	 jdev, jino;	/* the journal merged in, */
	uint64_t	 joff;		/* up to this offset */
	uint64_t	 nskipped;	/* files that could not be read */
	char		 delim[8];	/* subaddress delimiters hashed with */
	uint64_t	 check;		/* over this header and the stamps */
};

struct sf_stamp {
	uint64_t	 key;		/* hash of the directory's path */
	uint64_t	 dev;
	uint64_t	 ino;
	int64_t		 sec;		/* mtime */
	int64_t		 nsec;
	int64_t		 csec;		/* ctime: set back by nobody */
	int64_t		 cnsec;
	uint64_t	 unsure;	/* listed in the second it changed, or
					 * not all read: look again */
};

/* (hash, date) of the rcpts, rids and rrcpts arrays */
struct sf_pair {
	uint64_t	 h;
	int64_t		 t;
};

/* (file key, Message-ID hash) of the names array; id 0: none */
struct sf_name {
	uint64_t	 key;
	uint64_t	 id;
};

/* An index as a lookup reads it: a block at a time, each block checked. */
struct sf_file {
	int		 fd;		/* -1: none */
	struct sf_hdr	 h;
	struct sf_stamp	 stamps[SF_MAX_DIRS];
	off_t		 off[SF_NARR + 1];	/* the arrays, then checks */
	uint64_t	 blk0[SF_NARR];	/* each array's first block number */
	int		 blk_arr;	/* the array blk holds; -1: none */
	uint64_t	 blk_no;	/* its block within the array */
	unsigned char	 blk[SF_BLOCK];
};

/* An index mapped whole, every block checked (to build a new one). */
struct sf_map {
	void		*base;
	size_t		 size;
	const struct sf_hdr *h;
	const struct sf_stamp *stamps;
	const void	*arr[SF_NARR];
};

/* An index to write: the header (counts filled) and the arrays. */
struct sf_out {
	struct sf_hdr	 h;
	const struct sf_stamp *stamps;
	const void	*arr[SF_NARR];
};

size_t	 sf_stride(int);
uint64_t sf_mix64(uint64_t);
uint64_t sf_hash_bytes(uint64_t, const void *, size_t);
int	 sf_open(const char *, struct sf_file *, char *, size_t);
void	 sf_close(struct sf_file *);
int	 sf_lower_bound(struct sf_file *, int, uint64_t, int64_t, size_t *);
int	 sf_pair_at(struct sf_file *, int, size_t, struct sf_pair *);
int	 sf_map(const char *, struct sf_map *, char *, size_t);
void	 sf_unmap(struct sf_map *);
int	 sf_write(const char *, struct sf_out *, int, char *, size_t);
int	 sf_is_ours(const char *, char *, size_t);

#endif
