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
#include "hdr.h"
#include "util.h"

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
 * Where the header block of a message starts: 0, or past the blank and
 * white-space-only lines (and an mbox From_ line after them) that a
 * message saved, pasted or relayed carelessly carries before its header
 * -- where a person reading it would find the header.  Only when two
 * field lines follow, the first right there; else 0, and the message is
 * what RFC 5322 makes of it: an empty header, all body.
 */
size_t
hdr_start(const char *p, size_t n)
{
	struct slice	 cur, nm, v;
	size_t		 off = 0, k, eol, i;
	int		 fields = 0;

	for (;;) {
		k = line_len(p + off, n - off, &eol);
		for (i = 0; i < k && (p[off + i] == ' ' || p[off + i] == '\t');
		    i++)
			;
		if (i < k || eol == 0)
			break;		/* a line with text, or the last one */
		off += k + eol;
		if (off > LIM_HEADER_BYTES)
			return 0;
	}
	if (off == 0)
		return 0;
	off += msg_from_line_len(p + off, n - off);
	if (!hdr_is_field_line(p + off, line_len(p + off, n - off, &eol)))
		return 0;
	cur.p = p + off;
	cur.n = hdr_block_len(p + off, n - off);
	while (fields < 2 && hdr_next(&cur, &nm, &v))
		fields++;
	return fields == 2 ? off : 0;
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

/*
 * Raw 8-bit header text that is not UTF-8: Latin-1 or Windows-1250?
 * Central European Exchange and Notes servers behind a gateway that does
 * not encode send "Nedoru\xe8iteln\xe9:" (cs), "Nie mo\xbfna dostarczy\xe6"
 * (pl) in raw cp1250.  Without a charset the bytes vote:
 *  - 0x8A 0x8C-0x8F 0x9A 0x9C-0x9F, letters in cp1250 (S/s, T, Z/z with
 *    caron or acute), are C1 controls in Latin-1, which no text holds:
 *    two votes each for cp1250;
 *  - 0xA3 0xA5 0xAA 0xAF 0xB3 0xB9 0xBA 0xBC 0xBE 0xBF, letters in cp1250
 *    (L with stroke, a/A/s/S with ogonek or cedilla, l with caron, z with
 *    dot), are symbols in Latin-1 (pound, yen, ordinals, macron,
 *    superscripts, fractions, inverted question mark): one vote for cp1250
 *    when a letter stands right before, inside a word, where a symbol
 *    seldom is ("mo\xbfna", but "\xa35" and "\xbfQu\xe9" do not vote);
 *  - the Czech and Slovak c, e, u, n, d with caron or ring (0xC8/0xE8,
 *    0xCC/0xEC, 0xD9/0xF9, 0xD2/0xF2, 0xCF/0xEF), which Latin-1 reads as
 *    grave or diaeresis vowels: one vote for cp1250;
 *  - a, A with grave, tilde, ring and thorn (0xC0/0xE0, 0xC3/0xE3,
 *    0xC5/0xE5, 0xDE/0xFE), everyday letters of the Western languages
 *    whose cp1250 readings (r acute, a breve, l acute, t cedilla) are
 *    rare: one vote for Latin-1.
 * Every other byte reads alike or is a toss-up (é, á, ó, ü, ö... are the
 * same in both).  cp1250 only when it has more votes: Latin-1 stays the
 * default.  The reading is only matched against phrases, never shown.
 */
static const unsigned short cp1250[128] = {
	0x20ac, 0x0081, 0x201a, 0x0083, 0x201e, 0x2026, 0x2020, 0x2021,
	0x0088, 0x2030, 0x0160, 0x2039, 0x015a, 0x0164, 0x017d, 0x0179,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x0098, 0x2122, 0x0161, 0x203a, 0x015b, 0x0165, 0x017e, 0x017a,
	0x00a0, 0x02c7, 0x02d8, 0x0141, 0x00a4, 0x0104, 0x00a6, 0x00a7,
	0x00a8, 0x00a9, 0x015e, 0x00ab, 0x00ac, 0x00ad, 0x00ae, 0x017b,
	0x00b0, 0x00b1, 0x02db, 0x0142, 0x00b4, 0x00b5, 0x00b6, 0x00b7,
	0x00b8, 0x0105, 0x015f, 0x00bb, 0x013d, 0x02dd, 0x013e, 0x017c,
	0x0154, 0x00c1, 0x00c2, 0x0102, 0x00c4, 0x0139, 0x0106, 0x00c7,
	0x010c, 0x00c9, 0x0118, 0x00cb, 0x011a, 0x00cd, 0x00ce, 0x010e,
	0x0110, 0x0143, 0x0147, 0x00d3, 0x00d4, 0x0150, 0x00d6, 0x00d7,
	0x0158, 0x016e, 0x00da, 0x0170, 0x00dc, 0x00dd, 0x0162, 0x00df,
	0x0155, 0x00e1, 0x00e2, 0x0103, 0x00e4, 0x013a, 0x0107, 0x00e7,
	0x010d, 0x00e9, 0x0119, 0x00eb, 0x011b, 0x00ed, 0x00ee, 0x010f,
	0x0111, 0x0144, 0x0148, 0x00f3, 0x00f4, 0x0151, 0x00f6, 0x00f7,
	0x0159, 0x016f, 0x00fa, 0x0171, 0x00fc, 0x00fd, 0x0163, 0x02d9
};

static int
is_letter8(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0xc0;
}

/* cp1250 votes minus Latin-1 votes of one byte, prev the byte before. */
static int
cp1250_vote(unsigned char c, unsigned char prev)
{
	switch (c) {
	case 0x8a: case 0x8c: case 0x8d: case 0x8e: case 0x8f:
	case 0x9a: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
		return 2;
	case 0xa3: case 0xa5: case 0xaa: case 0xaf: case 0xb3:
	case 0xb9: case 0xba: case 0xbc: case 0xbe: case 0xbf:
		return is_letter8(prev);
	case 0xc8: case 0xe8: case 0xcc: case 0xec: case 0xd9: case 0xf9:
	case 0xd2: case 0xf2: case 0xcf: case 0xef:
		return 1;
	case 0xc0: case 0xe0: case 0xc3: case 0xe3: case 0xc5: case 0xe5:
	case 0xde: case 0xfe:
		return -1;
	default:
		return 0;
	}
}

/*
 * Raw 8-bit text (raw, n), not UTF-8, as UTF-8 into out (NUL bytes as
 * blanks; cut at a character when out is full).  Returns HDR_CP1250 when
 * it was read as Windows-1250, HDR_LATIN1 when as Latin-1.
 */
int
hdr_8bit_utf8(const unsigned char *raw, size_t n, char *out, size_t outsz)
{
	size_t		 i, o = 0;
	int		 votes = 0, cs;
	unsigned	 u;

	for (i = 0; i < n; i++)
		if (raw[i] >= 0x80)
			votes += cp1250_vote(raw[i], i > 0 ? raw[i - 1] : ' ');
	cs = votes > 0 ? HDR_CP1250 : HDR_LATIN1;
	if (outsz == 0)
		return cs;
	for (i = 0; i < n; i++) {
		u = raw[i];
		if (u >= 0x80 && cs == HDR_CP1250)
			u = cp1250[u - 0x80];
		if (o + (u < 0x80 ? 1 : u < 0x800 ? 2 : 3) >= outsz)
			break;
		if (u == 0)
			out[o++] = ' ';
		else if (u < 0x80)
			out[o++] = (char)u;
		else if (u < 0x800) {
			out[o++] = (char)(0xc0 | (u >> 6));
			out[o++] = (char)(0x80 | (u & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | (u >> 12));
			out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (u & 0x3f));
		}
	}
	out[o] = '\0';
	return cs;
}

/*
 * The lower case of a code point of two UTF-8 bytes (below U+0800), for
 * the capitals of the scripts NDR and auto-reply subjects are written
 * in: Latin-1 Supplement, Latin Extended-A, Greek, Cyrillic.  Every
 * lower case here is two bytes too.  No locale, no towlower().
 */
static unsigned
lower2(unsigned u)
{
	if (u >= 0xc0 && u <= 0xde && u != 0xd7)
		return u + 0x20;
	if (u >= 0x100 && u <= 0x17f) {
		/* dotted I, dotless i, kra, 'n, long s: no pair */
		if (u == 0x130 || u == 0x131 || u == 0x138 || u == 0x149 ||
		    u == 0x17f)
			return u;
		if (u == 0x178)
			return 0xff;
		/* pairs start odd in U+0139..U+0148, U+0179..U+017E */
		if ((u >= 0x139 && u <= 0x148) || (u >= 0x179 && u <= 0x17e))
			return (u & 1) ? u + 1 : u;
		return (u & 1) ? u : u + 1;
	}
	if (u >= 0x391 && u <= 0x3ab && u != 0x3a2)
		return u + 0x20;
	if (u == 0x386)
		return 0x3ac;
	if (u >= 0x388 && u <= 0x38a)
		return u + 0x25;
	if (u == 0x38c)
		return 0x3cc;
	if (u == 0x38e || u == 0x38f)
		return u + 0x3f;
	if (u >= 0x410 && u <= 0x42f)
		return u + 0x20;
	if (u >= 0x400 && u <= 0x40f)
		return u + 0x50;
	return u;
}

/*
 * Fold s, UTF-8, to lower case in place, for phrase matching: ASCII
 * letters and the two-byte capitals lower2() knows ("NEDORU\xc4\x8cITELN\xc3\x89",
 * a capitalised Cyrillic or Greek word).  The length never changes;
 * bytes that are not well-formed two-byte sequences stay as they are.
 */
void
hdr_fold_case(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	unsigned	 u, l;

	for (; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			*p = (unsigned char)(*p + 32);
			continue;
		}
		if (*p < 0xc2 || *p > 0xdf || (p[1] & 0xc0) != 0x80)
			continue;
		u = ((unsigned)(*p & 0x1f) << 6) | (p[1] & 0x3f);
		if ((l = lower2(u)) != u) {
			p[0] = (unsigned char)(0xc0 | (l >> 6));
			p[1] = (unsigned char)(0x80 | (l & 0x3f));
		}
		p++;
	}
}
