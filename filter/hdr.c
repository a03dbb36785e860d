/*
 * Header blocks as (pointer, length) slices.
 *
 * Lines end in LF or CRLF; classification hands us text whose lone CRs
 * were already turned into LF.  A header block ends at the first empty
 * line.  Field names compare with an ASCII-only case fold.  A line in the
 * block that is neither a field nor a continuation is skipped, not an
 * error (RFC 5322 says it cannot happen; real mail says otherwise).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "backstop.h"

/* Length of the line at p (without its end), and of its end (0, 1, 2). */
static size_t
line_len(const char *p, size_t n, size_t *eol_r)
{
	const char *nl = memchr(p, '\n', n);
	size_t	 k;

	if (nl == NULL) {
		*eol_r = 0;
		return n;
	}
	k = (size_t)(nl - p);
	if (k > 0 && p[k - 1] == '\r') {
		*eol_r = 2;
		return k - 1;
	}
	*eol_r = 1;
	return k;
}

/* Is (p, n) "name:" with a printable, space-free name of 1..76 bytes? */
int
hdr_is_field_line(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && i <= 76; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == ':')
			return i > 0;
		if (c <= 0x20 || c >= 0x7f)
			return 0;
	}
	return 0;
}

/*
 * Bytes of (p, n) that belong to the header block, up to and including
 * the end of its last line; the empty line that ends it is not included.
 */
size_t
hdr_block_len(const char *p, size_t n)
{
	size_t	 off = 0, k, eol;

	while (off < n) {
		k = line_len(p + off, n - off, &eol);
		if (k == 0)
			break;
		off += k + eol;
		if (off > LIM_HEADER_BYTES)
			break;
	}
	return off;
}

/*
 * Iterate the fields of a block: *cur is advanced past one field, whose
 * name and raw value (continuation lines included) are returned.
 * Returns 1 for a field, 0 at the end.
 */
int
hdr_next(struct slice *cur, struct slice *name_r, struct slice *val_r)
{
	const char *p;
	size_t	 n, k, eol, colon, end;

	for (;;) {
		p = cur->p;
		n = cur->n;
		if (n == 0)
			return 0;
		k = line_len(p, n, &eol);
		if (k == 0)
			return 0;
		end = k + eol;
		if (!hdr_is_field_line(p, k)) {
			cur->p += end;
			cur->n -= end;
			continue;
		}
		/* take the continuation lines */
		while (end < n && (p[end] == ' ' || p[end] == '\t')) {
			size_t e2, k2 = line_len(p + end, n - end, &e2);

			end += k2 + e2;
		}
		colon = (size_t)((const char *)memchr(p, ':', k) - p);
		name_r->p = p;
		name_r->n = colon;
		val_r->p = p + colon + 1;
		val_r->n = end - colon - 1;
		cur->p += end;
		cur->n -= end;
		return 1;
	}
}

/* The first field called name (case-insensitive) in block. */
int
hdr_find(struct slice block, const char *name, struct slice *val_r)
{
	return hdr_find_many(block, &name, 1, val_r) != 0;
}

/*
 * hdr_find() for many names in one pass: vals[i] gets the first field
 * called names[i] (n at most 64), and bit i of the result says it was
 * there.
 */
uint64_t
hdr_find_many(struct slice block, const char *const *names, size_t n,
    struct slice *vals)
{
	struct slice	 cur = block, nm, val;
	uint64_t	 found = 0, all = n >= 64 ? ~(uint64_t)0 :
			    ((uint64_t)1 << n) - 1;
	size_t		 i;

	while (found != all && hdr_next(&cur, &nm, &val))
		for (i = 0; i < n; i++)
			if (!(found & ((uint64_t)1 << i)) && nm.n > 0 &&
			    (nm.p[0] | 0x20) == (names[i][0] | 0x20) &&
			    strlen(names[i]) == nm.n &&
			    ascii_casecmp_n(nm.p, names[i], nm.n) == 0) {
				vals[i] = val;
				found |= (uint64_t)1 << i;
				break;
			}
	return found;
}

/*
 * Unfold a value into out: line ends removed, tabs as spaces, leading and
 * trailing white space trimmed, NUL bytes dropped.  Returns the length.
 */
size_t
hdr_unfold(struct slice v, char *out, size_t outsz)
{
	size_t	 i, o = 0;

	if (outsz == 0)
		return 0;
	for (i = 0; i < v.n && o + 1 < outsz; i++) {
		char c = v.p[i];

		if (c == '\r' || c == '\n' || c == '\0')
			continue;
		if (c == '\t')
			c = ' ';
		if (c == ' ' && o == 0)
			continue;
		out[o++] = c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

/*
 * Copy one msg-id token starting at s into out: "<...>" with any white
 * space inside removed (a folded or soft-broken id), or a bare token.
 */
static int
take_id(const char *s, const char *lim, char *out, size_t outsz)
{
	size_t	 o = 0;
	int	 bracket = (*s == '<');

	for (; s < lim && o + 1 < outsz; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			if (!bracket)
				break;
			continue;
		}
		if (!bracket && (*s == ';' || *s == ',' || *s == '('))
			break;
		out[o++] = *s;
		if (bracket && *s == '>')
			break;
	}
	out[o] = '\0';
	if (bracket && (o < 2 || out[o - 1] != '>'))
		return 0;	/* unterminated, or cut by outsz */
	if (bracket && o == 2)
		return 0;	/* "<>" */
	return o > 0;
}

/*
 * The msg-id of a Message-ID-like value: the first "<...>" if there is
 * one, else the first bare token (some MTAs write ids without brackets).
 */
int
hdr_msgid(struct slice v, char *out, size_t outsz)
{
	char	 buf[LIM_MSGID * 2 + 2];
	size_t	 n = hdr_unfold(v, buf, sizeof(buf));
	const char *lt;

	if (n == 0)
		return 0;
	if ((lt = memchr(buf, '<', n)) != NULL &&
	    memchr(lt, '>', n - (size_t)(lt - buf)) != NULL)
		return take_id(lt, buf + n, out, outsz);
	if (buf[0] == '(')	/* a comment alone is not an id */
		return 0;
	return take_id(buf, buf + n, out, outsz);
}

/* The last "<...>" of a References-like value. */
int
hdr_last_msgid(struct slice v, char *out, size_t outsz)
{
	char	 buf[LIM_FIELD_BYTES];
	size_t	 n = hdr_unfold(v, buf, sizeof(buf));
	const char *lt = NULL, *p;

	for (p = buf; (p = memchr(p, '<', n - (size_t)(p - buf))) != NULL; p++)
		if (memchr(p, '>', n - (size_t)(p - buf)) != NULL)
			lt = p;
	if (lt == NULL)
		return hdr_msgid(v, out, outsz);
	return take_id(lt, buf + n, out, outsz);
}

/*
 * libetpan decodes every encoded phrase it meets (Content-Description,
 * encoded words) through iconv, and opening an iconv descriptor costs
 * 8,000 instructions, several per message.  Pure ASCII text in an
 * ASCII-compatible charset is already UTF-8: copied here.  Anything else
 * goes to iconv as before (libetpan falls back to it on UNKNOWN_CHARSET).
 */
int
hdr_ascii_charconv(const char *tocode, const char *fromcode, const char *str,
    size_t length, char *result, size_t *result_len)
{
	static const char *const compatible[] = {
		"us-ascii", "ascii", "utf-8", "utf8", "iso-8859-", "windows-125",
		"cp125", "latin", NULL
	};
	size_t	 i;

	if (strcasecmp(tocode, "utf-8") != 0 || length > *result_len)
		return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	for (i = 0; compatible[i] != NULL; i++)
		if (ascii_prefix(fromcode, strlen(fromcode), compatible[i]))
			break;
	if (compatible[i] == NULL)
		return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	for (i = 0; i < length; i++)
		if ((unsigned char)str[i] >= 0x80 || str[i] == '\0')
			return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	memcpy(result, str, length);
	*result_len = length;
	return MAIL_CHARCONV_NO_ERROR;
}

/*
 * Decode the RFC 2047 words of an unfolded field value in place (UTF-8
 * out; left as it is when libetpan cannot read it): Subject for matching,
 * and Subject and From for `backstop junk`.
 */
void
hdr_decode_words(char *subj, size_t sz)
{
	size_t	 idx = 0;
	char	*dec = NULL;

	if (strstr(subj, "=?") == NULL)
		return;
	extended_charconv = hdr_ascii_charconv;
	if (mailmime_encoded_phrase_parse("us-ascii", subj, strlen(subj), &idx,
	    "utf-8", &dec) == MAILIMF_NO_ERROR && dec != NULL) {
		snprintf(subj, sz, "%s", dec);
		free(dec);
	}
}
