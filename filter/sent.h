/* sent.c: the index of the Message-IDs of the user's sent folders. */
#ifndef SENT_H
#define SENT_H

#include <stdint.h>

#include "backstop.h"

#define SENT_MAX_IDS	1000000
#define SENT_MAX_RCPTS	4000000	/* recipients (and their domains) kept */
uint64_t sent_hash(const char *);
int	 sent_folder_valid(const char *, char *, size_t);
int	 sent_folder_path(const char *, const char *, char *, size_t);
int	 sent_index_path(const char *, char *, size_t);
const char *const *sent_default_names(void);
int	 sent_msgid_file(const char *, char *, size_t);
int	 sent_each(const char *, int (*)(void *, const char *, const char *),
	    void *, size_t *, char *, size_t);
/* Where the sent evidence lives: the index and the folders it reads. */
struct sent_src {
	const char	*index;		/* the index file */
	const char *const *folders;	/* folder names; none: the defaults */
	size_t		 nfolders;
	const char	*maildir;	/* relative names are looked for here
					 * first (deliver -d), NULL: none */
};
int	 sent_lookup(const struct sent_src *, const char *, long, char *,
	    size_t);
long	 sent_refresh(const struct sent_src *, char *, size_t);
int	 sent_lookup_rcpts(const struct sent_src *, const char *const *,
	    size_t, int, int64_t, int64_t, long, int *, char *, size_t);

#endif
