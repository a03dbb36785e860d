/* hdr.c: header blocks as (pointer, length) slices, LF or CRLF lines. */
#ifndef HDR_H
#define HDR_H

#include <stdint.h>

#include "backstop.h"

size_t	 hdr_block_len(const char *, size_t);
size_t	 hdr_start(const char *, size_t);
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

#endif
