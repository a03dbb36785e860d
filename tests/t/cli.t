#!/bin/sh
# The command line behaves the same for every command: --help and -h print
# the usage on stdout and exit 0, --version and -V print the version and
# exit 0, and a bad option prints the usage on stderr with the command's
# usage code: 75 for deliver and filter (an MTA runs them, and any other
# code could bounce the message), 64 for the others.
. "$(dirname "$0")/../lib.sh"
scratch

cmds=$("$BACKSTOP" --help | sed -n 's/^  backstop \([a-z][a-z-]*\) .*/\1/p' | sort -u)
[ -n "$cmds" ]; ok $? "backstop --help lists the commands"
"$BACKSTOP" --help > /dev/null; is $? 0 "backstop --help exits 0"
"$BACKSTOP" --version | grep -q '^backstop [0-9]'; ok $? "backstop --version"
"$BACKSTOP" 2> "$T/err"; is $? 64 "no command: usage error"
grep -q '^usage: backstop COMMAND' "$T/err"; ok $? "no command: usage on stderr"

for c in $cmds; do
	case $c in deliver|filter) bad=75 ;; *) bad=64 ;; esac
	for h in --help -h; do
		"$BACKSTOP" "$c" $h > "$T/out" 2> "$T/err" < /dev/null
		is $? 0 "$c $h exits 0"
		grep -q "^usage: backstop $c " "$T/out"
		ok $? "$c $h: usage on stdout"
		[ ! -s "$T/err" ]; ok $? "$c $h: nothing on stderr"
	done
	for v in --version -V; do
		"$BACKSTOP" "$c" $v > "$T/out" 2> "$T/err" < /dev/null
		is $? 0 "$c $v exits 0"
		grep -q '^backstop [0-9][0-9.]*$' "$T/out"; ok $? "$c $v prints the version"
	done
	for h in --help --version; do
		"$BACKSTOP" "$c" $h > /dev/full 2> "$T/err" < /dev/null
		is $? 74 "$c $h, stdout unwritable: 74, as any write error"
	done
	"$BACKSTOP" "$c" --no-such-option > "$T/out" 2> "$T/err" < /dev/null
	is $? $bad "$c: a bad option exits $bad"
	[ ! -s "$T/out" ]; ok $? "$c: bad option, nothing on stdout"
	if [ $bad = 75 ]; then
		# an MTA runs it: one line, as for every failure (the docs)
		is "$(wc -l < "$T/err" | tr -d ' ')" 1 "$c: bad option, one line on stderr"
		grep -q "^backstop: $c: bad option .*--no-such-option; usage: backstop $c .*, temporary failure\$" "$T/err"
		ok $? "$c: ... naming the option, the usage and the outcome"
	else
		grep -q "^usage: backstop $c " "$T/err"; ok $? "$c: bad option, usage on stderr"
	fi
done
for h in --help --version; do
	"$BACKSTOP" $h > /dev/full 2>/dev/null
	is $? 74 "backstop $h, stdout unwritable: 74"
done
done_testing
