/*
 * One form for a mail address.
 *
 * The recipient evidence compares the addresses a report names with the
 * addresses the user wrote to, and the two sides spell one mailbox
 * differently: a Postfix bounce names user@xn--bcher-kva.example where
 * the user typed user@Bücher.example (RFC 5890: the A-label and the
 * U-label of one domain; RFC 6532 lets a header carry the UTF-8 form);
 * the user wrote to grace+news@ and the report names grace@, or the
 * other way round (RFC 5233 subaddresses, Postfix's recipient_delimiter).
 *
 * addr_norm() gives the form both sides are hashed in: ASCII letters in
 * lower case, the capitals of Latin-1, Latin Extended-A, Greek and
 * Cyrillic folded (hdr_fold_case()), each xn-- label of the domain
 * decoded to UTF-8 (RFC 3492).  addr_base() cuts the local part at its
 * first delimiter: both forms are kept for what the user wrote, both are
 * looked up for what a report names, so that a match in either direction
 * is found.  Pure functions of their input.
 */
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "hdr.h"

/* RFC 3492 6.1, with the parameters of 5. */
#define PC_BASE		36
#define PC_TMIN		1
#define PC_TMAX		26
#define PC_SKEW		38
#define PC_DAMP		700
#define PC_BIAS		72
#define PC_N		128
#define PC_MAXCP	64		/* a label is 63 octets */

static uint32_t
adapt(uint32_t delta, uint32_t npoints, int first)
{
	uint32_t k = 0;

	delta = first ? delta / PC_DAMP : delta / 2;
	delta += delta / npoints;
	while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
		delta /= PC_BASE - PC_TMIN;
		k += PC_BASE;
	}
	return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

static int
digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	return PC_BASE;
}

static size_t
utf8_put(uint32_t cp, char *out, size_t o, size_t outsz)
{
	unsigned char	 b[4];
	size_t		 n, i;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (o + n >= outsz)
		return 0;
	for (i = 0; i < n; i++)
		out[o + i] = (char)b[i];
	return n;
}

/*
 * Decode the Punycode of one label (the part after "xn--", n bytes) into
 * UTF-8 in out.  0, or -1 when it is not valid Punycode (then the label
 * stays as written).
 */
int
addr_punycode_decode(const char *in, size_t n, char *out, size_t outsz)
{
	uint32_t	 cp[PC_MAXCP], nn = PC_N, i = 0, bias = PC_BIAS;
	uint32_t	 oldi, w, k, t, d;
	size_t		 ncp = 0, b = 0, j, p, o = 0, u;

	for (j = 0; j < n; j++)
		if (in[j] == '-')
			b = j;
	for (j = 0; j < b; j++) {
		if ((unsigned char)in[j] >= 0x80 || ncp == PC_MAXCP)
			return -1;
		cp[ncp++] = (unsigned char)in[j];
	}
	for (p = b > 0 ? b + 1 : 0; p < n; ) {
		for (oldi = i, w = 1, k = PC_BASE; ; k += PC_BASE) {
			if (p >= n || (d = (uint32_t)digit((unsigned char)
			    in[p++])) >= PC_BASE || d > (UINT32_MAX - i) / w)
				return -1;
			i += d * w;
			t = k <= bias ? PC_TMIN : k >= bias + PC_TMAX ?
			    PC_TMAX : k - bias;
			if (d < t)
				break;
			if (w > UINT32_MAX / (PC_BASE - t))
				return -1;
			w *= PC_BASE - t;
		}
		if (ncp == PC_MAXCP)
			return -1;
		bias = adapt(i - oldi, (uint32_t)ncp + 1, oldi == 0);
		if (i / (ncp + 1) > 0x10ffff - nn)
			return -1;
		nn += i / (uint32_t)(ncp + 1);
		i %= (uint32_t)(ncp + 1);
		if (nn < 0x80 || (nn >= 0xd800 && nn <= 0xdfff))
			return -1;
		memmove(cp + i + 1, cp + i, (ncp - i) * sizeof(*cp));
		cp[i++] = nn;
		ncp++;
	}
	for (j = 0; j < ncp; j++) {
		if ((u = utf8_put(cp[j], out, o, outsz)) == 0)
			return -1;
		o += u;
	}
	out[o] = '\0';
	return 0;
}

/*
 * The one form of the address in (see above) into out.  Its length, or
 * 0 when it does not fit (out is then "").
 */
size_t
addr_norm(const char *in, char *out, size_t outsz)
{
	const char	*at = strrchr(in, '@'), *l, *e;
	char		 lab[256];
	size_t		 o, n;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	n = at != NULL ? (size_t)(at - in) + 1 : strlen(in);
	if (n >= outsz)
		return 0;
	memcpy(out, in, n);
	o = n;
	out[o] = '\0';
	for (l = at != NULL ? at + 1 : NULL; l != NULL && *l != '\0'; ) {
		if ((e = strchr(l, '.')) == NULL)
			e = l + strlen(l);
		n = (size_t)(e - l);
		if (n > 4 && (l[0] | 0x20) == 'x' && (l[1] | 0x20) == 'n' &&
		    l[2] == '-' && l[3] == '-' &&
		    addr_punycode_decode(l + 4, n - 4, lab, sizeof(lab)) == 0) {
			n = strlen(lab);
			l = lab;
		}
		if (o + n + 1 >= outsz) {
			out[0] = '\0';
			return 0;
		}
		memcpy(out + o, l, n);
		o += n;
		if (*e == '.')
			out[o++] = '.';
		out[o] = '\0';
		l = *e == '.' ? e + 1 : e;
	}
	hdr_fold_case(out);
	return strlen(out);
}

/*
 * The address (normalised) without its subaddress: the local part cut
 * at the first of the delimiter characters (not at its first byte: a
 * local part that starts with one is not a subaddress).  Its length, or
 * 0 when there is no subaddress or it does not fit.
 */
size_t
addr_base(const char *norm, const char *delims, char *out, size_t outsz)
{
	const char	*at = strrchr(norm, '@');
	size_t		 cut, n;

	if (at == NULL || at == norm || delims == NULL || *delims == '\0')
		return 0;
	cut = strcspn(norm + 1, delims) + 1;
	if (cut >= (size_t)(at - norm))
		return 0;
	n = cut + strlen(at);
	if (n >= outsz)
		return 0;
	memcpy(out, norm, cut);
	memcpy(out + cut, at, strlen(at) + 1);
	return n;
}

/* "@domain" of the normalised address; its length, 0 without one. */
size_t
addr_domain(const char *norm, char *out, size_t outsz)
{
	const char	*at = strrchr(norm, '@');
	size_t		 n;

	if (at == NULL || at[1] == '\0' || (n = strlen(at)) >= outsz)
		return 0;
	memcpy(out, at, n + 1);
	return n;
}

/*
 * Is domain one where unrelated people have mailboxes (a mail provider)?
 * Having written to someone there says nothing of an alias that expanded
 * to someone else there.
 */
int
addr_shared_domain(const char *domain)
{
	static const char *const providers[] = {
		"gmail.com", "googlemail.com", "outlook.com", "hotmail.com",
		"hotmail.co.uk", "hotmail.fr", "live.com", "msn.com",
		"yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
		"ymail.com", "aol.com", "icloud.com", "me.com", "mac.com",
		"gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de",
		"mail.ru", "yandex.ru", "yandex.com", "protonmail.com",
		"proton.me", "zoho.com", "fastmail.com", "qq.com", "163.com",
		"126.com", "naver.com", "orange.fr", "free.fr", "laposte.net",
		"libero.it", "comcast.net", "att.net", "verizon.net",
		"seznam.cz", "wp.pl", "o2.pl", "rambler.ru", "mail.com",
		NULL
	};
	size_t	 i;

	for (i = 0; providers[i] != NULL; i++)
		if (strcmp(domain, providers[i]) == 0)
			return 1;
	return 0;
}
