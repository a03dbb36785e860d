/*
 * backstop scan and backstop explain: classify without delivering.
 *
 * scan prints one line per message, tab-separated, no header line:
 *	path	verdict	kind	original-Message-ID-or-"-"	reason
 * This format is documented and stays stable: audits and scripts read it.
 * scan classifies in-process (nothing is at stake but the line), which
 * keeps a whole corpus fast.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backstop.h"

static int
read_file(const char *path, char **buf_r, size_t *len_r)
{
	int	 fd, rc, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	rc = read_all_fd(fd, buf_r, len_r, 0);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static size_t
skip_from(const char *p, size_t n)
{
	const char *nl;

	if (n >= 5 && memcmp(p, "From ", 5) == 0 &&
	    (nl = memchr(p, '\n', n)) != NULL)
		return (size_t)(nl - p) + 1;
	return 0;
}

/*
 * The 6th column: the counterpart addresses, comma-separated, lower
 * case, printable ASCII (8-bit bytes and separators escaped by
 * sanitize()), "-" when none.
 */
static void
print_addrs(const struct extract *ex)
{
	char	 a[LIM_ADDR * 4 + 1];
	size_t	 i;

	if (ex == NULL || ex->naddrs == 0) {
		fputs("-", stdout);
		return;
	}
	for (i = 0; i < ex->naddrs; i++) {
		sanitize(a, sizeof(a), ex->addrs[i].addr,
		    strlen(ex->addrs[i].addr));
		printf("%s%s", i ? "," : "", a);
	}
}

static void
print_line(const char *path, const struct result *res,
    const struct extract *ex)
{
	char	 id[LIM_MSGID + 1], reason[sizeof(res->reason)];

	sanitize(id, sizeof(id), res->msgid, strlen(res->msgid));
	sanitize(reason, sizeof(reason), res->reason, strlen(res->reason));
	printf("%s\t%s\t%s\t%s\t%s\t", path, verdict_name(res->verdict),
	    kind_name(res->kind), id[0] ? id : "-", reason);
	print_addrs(ex);
	putchar('\n');
}

static int
scan_file(const char *path, const struct rules *r)
{
	char		*buf;
	size_t		 len, skip;
	struct result	 res;
	static struct extract ex;	/* 30 KiB: not on the stack */
	int		 maybe;

	if (read_file(path, &buf, &len) == -1) {
		warnx_("%s: %s", path, strerror(errno));
		return -1;
	}
	skip = skip_from(buf, len);
	maybe = extract_maybe_bounce(buf + skip, len - skip,
	    rules_parse_bytes(r), 0);
	if (maybe) {
		/* judge_message() in two steps, for the counterparts */
		extract(buf + skip, len - skip, rules_parse_bytes(r), 0, &ex,
		    NULL);
		judge(r, &ex, &res, NULL);
	} else {
		memset(&res, 0, sizeof(res));
		snprintf(res.reason, sizeof(res.reason), "not a bounce");
	}
	print_line(path, &res, maybe ? &ex : NULL);
	free(buf);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of dir, sorted, dot files skipped. */
static int
scan_dir(const char *dir, const struct rules *r)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, path[4096];
	size_t		 n = 0, i;
	int		 rc = 0;
	struct stat	 st;

	if ((d = opendir(dir)) == NULL) {
		warnx_("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    scan_file(path, r) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
scan_path(const char *path, const struct rules *r)
{
	struct stat	 st;
	char		 sub[4096];
	int		 rc = 0, maildir = 0;
	static const char *const subs[] = { "new", "cur" };
	size_t		 i;

	if (stat(path, &st) == -1) {
		warnx_("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return scan_file(path, r);
	for (i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, subs[i]);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			maildir = 1;
			if (scan_dir(sub, r) == -1)
				rc = -1;
		}
	}
	if (!maildir)
		rc = scan_dir(path, r);
	return rc;
}

static int
load_rules(struct rules *r, const char *file)
{
	char	 err[512];

	if (rules_load_default(r, file, err, sizeof(err)) == -1) {
		warnx_("%s", err);
		return -1;
	}
	return 0;
}

int
cmd_scan(int argc, char **argv)
{
	struct rules	*r;
	const char	*rulesfile = NULL;
	int		 ch, i, rc = EXIT_OK;

	optind = 1;
	while ((ch = getopt(argc, argv, "r:h")) != -1)
		switch (ch) {
		case 'r':
			rulesfile = optarg;
			break;
		case 'h':
			printf("usage: backstop scan [-r RULES] PATH...\n");
			return EXIT_OK;
		default:
			fprintf(stderr, "usage: backstop scan [-r RULES] "
			    "PATH...\n");
			return EXIT_USAGE;
		}
	if (optind == argc) {
		fprintf(stderr, "usage: backstop scan [-r RULES] PATH...\n");
		return EXIT_USAGE;
	}
	r = rules_new();
	if (load_rules(r, rulesfile) == -1) {
		rules_free(r);
		return EXIT_USAGE + 14;	/* 78 EX_CONFIG */
	}
	for (i = optind; i < argc; i++)
		if (scan_path(argv[i], r) == -1)
			rc = 74;	/* EX_IOERR: a file could not be read */
	rules_free(r);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warnx_("write error on stdout");
		return 74;
	}
	return rc;
}

/* The pattern at FILE:LINE, for a person reading explain. */
static void
print_pattern(const struct rules *r, const char *rule)
{
	const char	*src, *file;
	char		 at[400];
	size_t		 i;
	int		 line;

	for (i = 0; (src = rules_pattern(r, i, &file, &line)) != NULL; i++) {
		snprintf(at, sizeof(at), "%s:%d", file, line);
		if (strcmp(at, rule) == 0) {
			printf("pattern: %s\n", src);
			return;
		}
	}
}

int
cmd_explain(int argc, char **argv)
{
	struct rules	*r;
	const char	*rulesfile = NULL, *file, *folder;
	char		*buf, err[512];
	size_t		 len, skip;
	struct result	 res;
	struct trace	 t = { NULL, 0, 0 };
	int		 ch, rok;

	optind = 1;
	while ((ch = getopt(argc, argv, "r:h")) != -1)
		switch (ch) {
		case 'r':
			rulesfile = optarg;
			break;
		case 'h':
			printf("usage: backstop explain [-r RULES] [FILE]\n");
			return EXIT_OK;
		default:
			fprintf(stderr, "usage: backstop explain [-r RULES] "
			    "[FILE]\n");
			return EXIT_USAGE;
		}
	if (argc - optind > 1) {
		fprintf(stderr, "usage: backstop explain [-r RULES] [FILE]\n");
		return EXIT_USAGE;
	}
	file = optind < argc ? argv[optind] : NULL;
	if ((file ? read_file(file, &buf, &len) :
	    read_all_fd(0, &buf, &len, 0)) == -1) {
		warnx_("%s: %s", file ? file : "stdin", strerror(errno));
		return 74;
	}
	r = rules_new();
	rok = rules_load_default(r, rulesfile, err, sizeof(err)) == 0;
	printf("rules: %s\n", rules_files(r));
	if (!rok)
		printf("rules error: %s\n  (deliver would log this and put "
		    "the message in the inbox)\n", err);
	skip = skip_from(buf, len);
	judge_message(buf + skip, len - skip, rok ? r : NULL, 0, &res, &t);
	printf("message: %s, %zu bytes\n", file ? file : "stdin", len);
	if (t.buf != NULL)
		fputs(t.buf, stdout);
	printf("kind: %s\n", kind_name(res.kind));
	printf("original Message-ID: %s\n", res.msgid[0] ? res.msgid : "-");
	if (res.where[0])
		printf("found in: %s\n", res.where);
	printf("rule: %s\n", res.rule[0] ? res.rule : "-");
	print_pattern(r, res.rule);
	printf("verdict: %s (%s)\n", verdict_name(res.verdict), res.reason);
	folder = rok ? rules_folder(r, res.verdict) : NULL;
	printf("deliver would file it in: %s\n", folder ? folder : "inbox");
	if (!rok || res.verdict != V_NOT_BOUNCE) {
		char h[900];

		if (rok) {
			judge_header(&res, h, sizeof(h));
			printf("header added: X-Backstop: %s\n", h);
		}
	}
	trace_free(&t);
	free(buf);
	rules_free(r);
	return EXIT_OK;
}
