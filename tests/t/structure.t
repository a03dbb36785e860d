#!/bin/sh
# The structure the design promises, read from the objects the build made
# (nm -u: the names each file takes from elsewhere).
#  - Hostile input is parsed in two places, each contained: extraction,
#    under the guard (it opens, writes, renames and removes no file and
#    knows neither the rules nor the sent index: judge.c asks those,
#    through evidence.c), and the reading of Sent copies, in a child
#    process of sent.c's with a deadline and a memory limit.
#  - Lower layers never call up: the helpers (util.c, hdr.c) and the
#    Maildir protocol (maildir.c) know nothing of the guard or the stages
#    above them; the guard registers its out-of-memory hook instead.
. "$(dirname "$0")/../lib.sh"
command -v nm > /dev/null || skip_all "no nm(1)"
scratch
O=$TOP/filter
[ -f "$O/extract.o" ] || skip_all "no filter/extract.o: run make first"

undef() { nm -u "$O/$1" | awk '{print $2}'; }

# takes NAME OBJ REGEX: OBJ uses no symbol matching REGEX
takes_none() {
	hits=$(undef "$2" | grep -E "$3" | tr '\n' ' ')
	[ -z "$hits" ]; ok $? "$1${hits:+ (uses: $hits)}"
}
takes_none "extraction opens, writes, renames or removes no file" \
    extract.o '^(open|open64|openat|fopen|fopen64|creat|write|writev|pwrite|rename|renameat|renameat2|link|linkat|unlink|unlinkat|mkdir|mkdirat|ftruncate|fsync)$'
takes_none "extraction does not read the rules or the sent index" \
    extract.o '^(rules_|sent_|judge_)'
takes_none "extraction neither logs nor delivers" extract.o '^(log_|maildir_)'
undef judge.o | grep -q '^evidence_gather$' &&
    undef evidence.o | grep -q '^sent_query$'
ok $? "the sent index is asked by the judge stage, through evidence.c"
takes_none "rules.c reads rules, it asks no evidence" rules.o '^(sent_query|sent_refresh|evidence_)'
takes_none "the sent index knows no rules" sent.o '^(rules_|evidence_|judge)'
takes_none "the index file format knows no folder, rule or mail" sentfile.o '^(rules_|evidence_|judge|extract|hdr_|sent_)'
undef sent.o | grep -q '^fork$'
ok $? "sent.c reads Sent copies in a child process (fork)"

for o in util.o hdr.o maildir.o; do
	takes_none "$o calls nothing above it" "$o" \
	    '^(guard_|extract|judge|rules_|sent_|cmd_|opts_)'
done
undef guard.o | grep -q '^xmalloc_on_oom$'
ok $? "the guard registers its out-of-memory hook"

# No command module calls another's: deliver.c, scan.c, expire.c, learn.c
# and checkconfig.c share what they need through the modules below them
# (path_escape() in util.c, not expire.c's), and include no command's
# header but commands.h, which main.c alone calls through.
cmds="deliver.o scan.o expire.o learn.o checkconfig.o"
for o in $cmds; do
	for x in $cmds; do [ "$x" = "$o" ] || nm --defined-only "$O/$x"; done |
	    awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u > "$T/others"
	hits=$(undef "$o" | sort -u | comm -12 - "$T/others" | tr '\n' ' ')
	[ -z "$hits" ]; ok $? "$o calls no other command's module${hits:+ (uses: $hits)}"
done
for c in deliver scan expire learn checkconfig; do
	hits=$(grep -o '#include "[a-z]*\.h"' "$O/$c.c" | sed 's/.*"\(.*\)\.h"/\1/' |
	    grep -E '^(deliver|scan|expire|learn|checkconfig)$' | tr '\n' ' ')
	[ -z "$hits" ]; ok $? "$c.c includes no other command's header${hits:+ ($hits)}"
done

# No mutable global crosses modules: no object exports data but util.o's
# progname, which nothing assigns after its definition.
globals=$(for o in "$O"/*.o; do nm "$o" | awk -v o="${o##*/}" '$2 ~ /^[BDCGS]$/ { print o ":" $3 }'; done | tr '\n' ' ')
is "$globals" "util.o:progname " "no module exports data but progname"
! grep -n 'progname[[:space:]]*=' "$TOP"/filter/*.c | grep -v 'filter/util.c:.*const char \*progname = '
ok $? "nothing assigns progname"

# No function over 100 lines in filter/, unless a comment in it says why
# ("longer than 100 lines because").
long=$(for f in "$TOP"/filter/*.c; do
	awk -v f="${f##*/}" '/^[a-z_][a-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name); start = NR; why = 0 }
	    start && /longer than 100 lines because/ { why = 1 }
	    /^}/ && start { if (NR - start > 100 && !why) print f ":" name "(" NR - start ")"; start = 0 }' "$f"
done | tr '\n' ' ')
[ -z "$long" ]; ok $? "no function over 100 lines without a reason${long:+ ($long)}"

# The subject is folded to lower case once and compared byte for byte
# (extract.c, match_folded): every subject phrase must be lower case, or
# it never matches.
bad=$(perl -CS -MEncode -0777 -ne '
	for my $list (qw(bounce_subject autoreply_subject oof_phrase)) {
		/const char \*const $list\[\] = \{(.*?)\};/s or
		    do { print "$list: not found\n"; next };
		my $body = $1;
		while ($body =~ /"((?:[^"\\]|\\.)*)"/g) {
			(my $b = $1) =~ s/\\x([0-9a-fA-F]{2})/chr hex $1/ge;
			$b =~ s/\\(.)/$1/g;
			my $u = decode("UTF-8", $b);
			print "$list: $1\n" if lc($u) ne $u;
		}
	}' "$TOP/filter/extract.c")
[ -z "$bad" ]
ok $? "every subject phrase is written in lower case${bad:+ ($bad)}"
done_testing
