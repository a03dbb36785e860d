/*
 * rules.c: the rule files (YAML), the system file and the user's, and
 * the outbound evidence they name: Message-ID patterns, relays, the sent
 * index and recipient settings.
 */
#ifndef RULES_H
#define RULES_H

#include <stdint.h>

#include "backstop.h"

struct rules;
struct rules *rules_new(const char *);
void	 rules_free(struct rules *);
int	 rules_load(struct rules *, const char *, int, char *, size_t);
int	 rules_load_default(struct rules *, const char *, char *, size_t);
int	 rules_expand(const char *, const char *, char *, size_t, char *,
	    size_t);
const char *rules_system_path(void);
int	 rules_user_path(const struct rules *, const char *, char *, size_t,
	    int *, char *, size_t);
const char *rules_sent_index(const struct rules *);
const char *rules_sent_index_at(const struct rules *);
const char *rules_recipient_delimiter(const struct rules *);
const char *const *rules_sent_folders(const struct rules *, size_t *);
int	 rules_match_msgid(const struct rules *, const char *, char *, size_t);
int	 rules_match_pattern(const struct rules *, size_t, const char *);
int	 rules_has_evidence(const struct rules *);
const char *rules_folder(const struct rules *, enum verdict);
const char *rules_junk_folder(const struct rules *);
long	 rules_expire_secs(const struct rules *);
#define RULES_JUNK_MAX_MESSAGES	10000		/* junk.max_messages */
#define RULES_JUNK_MAX_BYTES	(100LL << 20)	/* junk.max_size: 100M */
struct rules_junk {
	long long	 max_messages;	/* junk.max_messages; 0: no bound */
	long long	 max_bytes;	/* junk.max_size; 0: no bound */
	int		 digest;	/* junk.digest: daily */
	int		 quota_ignore;	/* junk.quota: ignore */
};
void	 rules_junk(const struct rules *, struct rules_junk *);
size_t	 rules_parse_bytes(const struct rules *);
unsigned rules_timeout(const struct rules *);
int	 rules_relay_match(const struct rules *, const char *, size_t,
	    char *, size_t);
/* rules_has_evidence(): nonzero when any source is configured; bits: */
#define RULES_EV_PATTERNS	0x1
#define RULES_EV_RELAYS		0x2
#define RULES_EV_SENT		0x4	/* outbound.sent: the folders */
#define RULES_EV_RECORD		0x8	/* outbound.record: the MTA's record */
#define RULES_EV_INDEX		(RULES_EV_SENT | RULES_EV_RECORD)
int	 rules_recipients(const struct rules *);
#define RULES_RCPT_ON		0x1	/* outbound.recipients: true */
#define RULES_RCPT_JUNK		0x2	/* never wrote to: backscatter */
#define RULES_RCPT_DOMAIN	0x4	/* the domain is enough */
size_t	 rules_count(const struct rules *, int);
const char *rules_item(const struct rules *, int, size_t, const char **,
	    int *);
const char *rules_files(const struct rules *);

#endif
