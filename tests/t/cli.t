#!/bin/sh
# The command line behaves the same for every command: --help and -h print
# the usage on stdout and exit 0, --version and -V print the version and
# exit 0, and a bad option prints the usage on stderr with the command's
# usage code: 75 for deliver, filter and record (an MTA runs them, and
# any other code could bounce the message), 64 for the others.  sendmail
# is a drop-in for sendmail(8): only --help and --version are its own,
# every other option goes to the real sendmail.
. "$(dirname "$0")/../lib.sh"
scratch

cmds=$("$BACKSTOP" --help | sed -n 's/^  backstop \([a-z][a-z-]*\) .*/\1/p' | sort -u)
[ -n "$cmds" ]; ok $? "backstop --help lists the commands"
"$BACKSTOP" --help > /dev/null; is $? 0 "backstop --help exits 0"
"$BACKSTOP" --version | grep -q '^backstop [0-9]'; ok $? "backstop --version"
"$BACKSTOP" 2> "$T/err"; is $? 64 "no command: usage error"
grep -q '^usage: backstop COMMAND' "$T/err"; ok $? "no command: usage on stderr"

for c in $cmds; do
	case $c in deliver|filter|record) bad=75 ;; *) bad=64 ;; esac
	short="-h"; ver="-V"
	[ "$c" = sendmail ] && short= && ver=
	for h in --help $short; do
		"$BACKSTOP" "$c" $h > "$T/out" 2> "$T/err" < /dev/null
		is $? 0 "$c $h exits 0"
		grep -q "^usage: backstop $c " "$T/out"
		ok $? "$c $h: usage on stdout"
		[ ! -s "$T/err" ]; ok $? "$c $h: nothing on stderr"
	done
	for v in --version $ver; do
		"$BACKSTOP" "$c" $v > "$T/out" 2> "$T/err" < /dev/null
		is $? 0 "$c $v exits 0"
		grep -q '^backstop [0-9][0-9.]*$' "$T/out"; ok $? "$c $v prints the version"
	done
	for h in --help --version; do
		"$BACKSTOP" "$c" $h > /dev/full 2> "$T/err" < /dev/null
		is $? 74 "$c $h, stdout unwritable: 74, as any write error"
	done
	[ "$c" = sendmail ] && continue
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
# sendmail's own options are the real sendmail's, whatever they are
printf '#!/bin/sh\necho "$@" > "%s/args"\nexit 3\n' "$T" > "$T/sm"
chmod 755 "$T/sm"
BACKSTOP_SENDMAIL=$T/sm "$BACKSTOP" sendmail -bv -V x@y.example < /dev/null
is $? 3 "sendmail: other options go to the real sendmail, its status ours"
is "$(cat "$T/args")" "-bv -V x@y.example" "... as given"
done_testing
