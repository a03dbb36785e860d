/* Rule files: errors name file, line and column; lists add up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "backstop.h"
#include "rules.h"
#include "util.h"

static char dir[] = "/tmp/backstop-unit.XXXXXX";

static const char *
write_rules(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void
expect_error(const char *text, const char *want, mode_t mode)
{
	struct rules	*r = rules_new(NULL);
	char		 err[512] = "";
	const char	*p = write_rules("bad.yaml", text, mode);

	assert_int_equal(rules_load(r, p, 1, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
	rules_free(r);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "bogus: 1\n", "bad.yaml:1:1: unknown key 'bogus'" },
		{ "outbound:\n  message_id: x\n", "bad.yaml:2:15: outbound.message_id: expected a list" },
		{ "outbound:\n  message_id:\n    - '^(<'\n", "bad.yaml:3:7: bad pattern '^(<': missing closing parenthesis" },
		{ "junk:\n  expire_after: soon\n", "bad.yaml:2:17: junk.expire_after: 'soon' is not an age" },
		{ "junk:\n  folder: ../../etc\n", "invalid folder name" },
		{ "verdicts:\n  backscatter: a/b\n", "invalid folder name" },
		{ "verdicts:\n  maybe: inbox\n", "unknown verdict 'maybe'" },
		{ "outbound: [\n", "bad.yaml:2:1: did not find expected node content" },
		{ "limits:\n  timeout: 3000s\n", "limits.timeout" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		expect_error(rows[i].in, rows[i].want, 0600);
	expect_error("outbound: {}\n", "writable by group or others", 0620);
	expect_error("outbound: {}\n", "writable by group or others", 0602);
}

/*
 * An alias is a node visited again at each use: 20001 uses of one
 * anchored host under outbound.relays (a real key, valid YAML, a flat
 * list, well under the 64 KiB file limit, and no limit of relays of its
 * own) are refused by the limit on nodes visited, aliases counted at each
 * use, before they are all read.  (Nested "billion laughs" lists are
 * refused earlier: an item of outbound.* must be a string.)
 */
static void
test_alias_bomb(void **state)
{
	static const char head[] = "outbound:\n  relays: [&h mx.example.org";
	size_t	 n = sizeof(head) - 1 + 20001 * 3 + 3, o, i;
	char	*bomb = malloc(n);

	(void)state;
	assert_non_null(bomb);
	memcpy(bomb, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (i = 0; i < 20001; i++) {
		memcpy(bomb + o, ",*h", 3);
		o += 3;
	}
	memcpy(bomb + o, "]\n", 3);
	assert_true(o + 2 < 64 * 1024);
	expect_error(bomb, "bad.yaml:2:11: too many nodes", 0600);
	free(bomb);
}

static void
test_merge(void **state)
{
	struct rules	*r = rules_new(NULL);
	char		 err[512] = "", sys[256], rule[320];

	snprintf(sys, sizeof(sys), "%s", write_rules("sys.yaml",
	    "outbound:\n  message_id: ['^<a@x>$']\njunk:\n  folder: .Spam\n"
	    "  expire_after: 2w\n", 0644));
	assert_int_equal(rules_load(r, sys, 1, err, sizeof(err)), 0);
	assert_int_equal(rules_load(r, write_rules("user.yaml",
	    "# mine\noutbound:\n  message_id:\n    - '^<b@y>$'\n"
	    "verdicts:\n  unknown: junk\n", 0600), 1, err, sizeof(err)), 0);
	assert_int_equal(rules_count(r, RULES_EV_PATTERNS), 2);
	assert_int_equal(rules_match_msgid(r, "<a@x>", rule, sizeof(rule)),
	    1);
	assert_int_equal(rules_match_msgid(r, "b@y", rule, sizeof(rule)), 1);
	assert_non_null(strstr(rule, "user.yaml:4"));
	assert_int_equal(rules_match_msgid(r, "<c@z>", rule, sizeof(rule)),
	    0);
	assert_string_equal(rules_folder(r, V_BACKSCATTER), ".Spam");
	assert_string_equal(rules_folder(r, V_UNKNOWN), ".Spam");
	assert_null(rules_folder(r, V_OURS));
	assert_int_equal(rules_expire_secs(r), 14L * 86400);
	rules_free(r);
}

static void
test_missing(void **state)
{
	struct rules	*r = rules_new(NULL);
	char		 err[512] = "";

	assert_int_equal(rules_load(r, "/nonexistent/x.yaml", 0, err,
	    sizeof(err)), 0);
	assert_int_equal(rules_load(r, "/nonexistent/x.yaml", 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_false(rules_has_evidence(r));
	assert_string_equal(rules_folder(r, V_BACKSCATTER), ".Junk");
	rules_free(r);
}

static void
test_hostile_pattern(void **state)
{
	struct rules	*r = rules_new(NULL);
	char		 err[512] = "", rule[320], id[600];

	assert_int_equal(rules_load(r, write_rules("h.yaml",
	    "outbound:\n  message_id: ['^<(a+)+$']\n", 0600), 1, err,
	    sizeof(err)), 0);
	memset(id, 'a', sizeof(id) - 1);
	id[0] = '<';
	id[sizeof(id) - 2] = 'b';
	id[sizeof(id) - 1] = '\0';
	/* the match limit stops catastrophic backtracking: an error, never
	 * a hang, and never "not ours" */
	assert_int_equal(rules_match_msgid(r, id, rule, sizeof(rule)), -1);
	rules_free(r);
}

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	 cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_hostile_pattern),
	};

	return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}
