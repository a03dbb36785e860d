/* opts.c: options and usage, the same way for every command. */
#ifndef OPTS_H
#define OPTS_H

#include <stdio.h>

struct opts {
	const char	*cmd;
	int		 rc;		/* to return when opts_parse() is -1 */
	const char	*rules;		/* -r RULES */
	const char	*maildir;	/* -d MAILDIR */
	const char	*user;		/* -u USER@DOMAIN: %u, %d of paths */
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
const char *opts_user(const struct opts *);
void	 opts_usage_all(FILE *);
int	 opts_help_all(void);
int	 opts_version(void);

#endif
