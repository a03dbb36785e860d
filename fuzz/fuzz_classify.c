/*
 * libFuzzer target for the classification step: message bytes plus a
 * fixed rule file in, a verdict out.  This is everything deliver runs on
 * hostile input before the maildir write (normalisation, the nesting
 * guard, libetpan's MIME parser, decoding, the inline-original scanner,
 * header parsing, PCRE2 matching under limits, the X-Backstop: field),
 * run in-process so that ASan, UBSan and the leak checker see it all.
 *
 * Build (fuzz/run.sh does it):
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -DBACKSTOP_SANITIZE
 *	    fuzz/fuzz_classify.c filter/ *.c but main.c, static libs
 * The rule file is $BACKSTOP_FUZZ_RULES, else fuzz/rules.yaml.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../filter/backstop.h"
#include "../filter/extract.h"
#include "../filter/judge.h"
#include "../filter/rules.h"
#include "../filter/util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct rules *fuzz_rules;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*path = getenv("BACKSTOP_FUZZ_RULES");
	char		 err[512];

	(void)argc;
	(void)argv;
	if (path == NULL || *path == '\0')
		path = "fuzz/rules.yaml";
	fuzz_rules = rules_new(NULL);
	if (rules_load(fuzz_rules, path, 1, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_classify: %s\n", err);
		exit(2);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result	 res;
	struct trace	 t = { NULL, 0, 0 };
	char		 hdr[1024];

	/* the explain path (with a trace) and the envelope-sender signal,
	 * chosen by the input's length so that a crash reproduces */
	judge_message(NULL, (const char *)data, size, fuzz_rules, (int)(size & 1), &res,
	    (size & 2) ? &t : NULL);
	if ((unsigned)res.verdict >= V_COUNT)
		abort();
	judge_header(&res, hdr, sizeof(hdr));
	trace_free(&t);
	return 0;
}
