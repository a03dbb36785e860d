#!/bin/sh
# make install and make uninstall into a DESTDIR, then the man pages as a
# new user would read them (issue 4).
#
# The Makefile runs in a copy of the tree (Makefile, man/, rules/ and the
# binary under test), with -o backstop so that make takes the binary as up
# to date: nothing is compiled, and nothing is written in the source tree,
# where other builds may run at the same time.
. "$(dirname "$0")/../lib.sh"
scratch
command -v make >/dev/null 2>&1 || skip_all "make not installed"
command -v man >/dev/null 2>&1 || skip_all "man not installed"
[ -x "$BACKSTOP" ] || skip_all "no binary at $BACKSTOP"
unset MANPATH MANOPT MANSECT PAGER BACKSTOP_LOG_STDERR
export MANPAGER=cat MANWIDTH=80 LC_ALL=C.UTF-8

SRC=$T/src
mkdir -p "$SRC"
cp "$TOP/Makefile" "$SRC/" && cp -R "$TOP/man" "$TOP/rules" "$SRC/" &&
    cp "$BACKSTOP" "$SRC/backstop"
ok $? "a copy of the tree to install from"

mk() {	# mk TARGET VAR=VALUE...: make in the copy, output in $T/make.out
	make -C "$SRC" -o backstop "$@" > "$T/make.out" 2>&1
}
mode() { stat -c %a "$1" 2>/dev/null; }

# --- install with PREFIX=/usr --------------------------------------------
D=$T/dest
mk install DESTDIR="$D" PREFIX=/usr
ok $? "make install DESTDIR=... PREFIX=/usr"
is "$(mode "$D/usr/bin/backstop")" 755 "usr/bin/backstop, mode 755"
is "$(mode "$D/usr/share/man/man1/backstop.1")" 644 "usr/share/man/man1/backstop.1, mode 644"
is "$(mode "$D/usr/share/man/man5/backstop.yaml.5")" 644 \
    "usr/share/man/man5/backstop.yaml.5, mode 644"
is "$(mode "$D/etc/backstop/rules.yaml")" 644 \
    "etc/backstop/rules.yaml (SYSCONFDIR stays /etc), mode 644"
cmp -s "$D/etc/backstop/rules.yaml" "$TOP/rules/rules.yaml"
ok $? "... the example rules"
cmp -s "$D/usr/bin/backstop" "$BACKSTOP"
ok $? "the binary is the one under test"
out=$("$D/usr/bin/backstop" --version)
ok $? "the installed binary runs: $out"

# the installed system file is a valid rule file
printf 'From: a@example.org\nSubject: hi\n\nhello\n' > "$T/msg"
BACKSTOP_SYSTEM_RULES="$D/etc/backstop/rules.yaml" HOME="$T" \
    "$D/usr/bin/backstop" explain "$T/msg" > "$T/explain.out" 2>&1
ok $? "the installed binary explains a message: exit 0"
# loaded, and from that file: an explain that failed or printed nothing
# must not pass for "no rules error"
grep -q "^rules: $D/etc/backstop/rules.yaml\$" "$T/explain.out" &&
    ! grep -q 'rules error' "$T/explain.out" &&
    grep -q '^verdict: not-bounce ' "$T/explain.out"
ok $? "the installed rules.yaml loads"
[ $? = 0 ] || sed 's/^/# /' "$T/explain.out"

# --- the man pages, as a new user would read them -------------------------
for p in man1/backstop.1 man5/backstop.yaml.5; do
	man --warnings -l "$D/usr/share/man/$p" > "$T/man.out" 2> "$T/man.err"
	ok $? "man -l $p"
	is "$(cat "$T/man.err")" "" "man -l $p: no warning"
	grep -q '^NAME' "$T/man.out" && grep -q '^DESCRIPTION' "$T/man.out"
	ok $? "man -l $p: rendered"
done
for s in SYNOPSIS COMMANDS "DELIVERY SET-UPS" ENVIRONMENT FILES "EXIT STATUS" \
    LIMITS "SEE ALSO"; do
	man -l "$D/usr/share/man/man1/backstop.1" 2>/dev/null | grep -q "^$s\$"
	ok $? "backstop(1) has $s"
done
page=$(man -l "$D/usr/share/man/man1/backstop.1" 2>/dev/null)
for c in deliver filter explain scan expire junk restore learn check-rules; do
	case $page in
	*"backstop $c "*) ok 0 "backstop(1) documents $c" ;;
	*) ok 1 "backstop(1) documents $c" ;;
	esac
done
page5=$(man -l "$D/usr/share/man/man5/backstop.yaml.5" 2>/dev/null)
for k in message_id relays folder expire_after not-bounce ours backscatter \
    unknown parse_bytes timeout; do
	case $page5 in
	*"$k"*) ok 0 "backstop.yaml(5) documents $k" ;;
	*) ok 1 "backstop.yaml(5) documents $k" ;;
	esac
done

MANPATH=$D/usr/share/man man backstop > "$T/man.out" 2>&1
ok $? "man backstop finds the installed page by MANPATH"
MANPATH=$D/usr/share/man man 5 backstop.yaml > "$T/man.out" 2>&1
ok $? "man 5 backstop.yaml finds the installed page by MANPATH"
grep -q 'SYSTEM AND USER FILES' "$T/man.out"
ok $? "... and it is the rule-file page"

if command -v mandoc >/dev/null 2>&1; then
	for p in man1/backstop.1 man5/backstop.yaml.5; do
		out=$(mandoc -T lint -W warning "$D/usr/share/man/$p" 2>&1)
		is "$out" "" "mandoc -T lint $p: no warning"
	done
fi

# --- a second install keeps the administrator's rules --------------------
echo "# changed by the administrator" >> "$D/etc/backstop/rules.yaml"
mk install DESTDIR="$D" PREFIX=/usr
ok $? "a second make install"
grep -q 'changed by the administrator' "$D/etc/backstop/rules.yaml"
ok $? "... does not overwrite an existing rules.yaml"
grep -q 'keeping existing' "$T/make.out"
ok $? "... and says so"

# --- uninstall -----------------------------------------------------------
mk uninstall DESTDIR="$D" PREFIX=/usr
ok $? "make uninstall"
test ! -e "$D/usr/bin/backstop" && test ! -e "$D/usr/share/man/man1/backstop.1" \
    && test ! -e "$D/usr/share/man/man5/backstop.yaml.5"
ok $? "... removes the binary and the man pages"
test -f "$D/etc/backstop/rules.yaml"
ok $? "... keeps a rules.yaml changed locally"
cp "$TOP/rules/rules.yaml" "$D/etc/backstop/rules.yaml"
mk uninstall DESTDIR="$D" PREFIX=/usr
ok $? "make uninstall again"
test ! -e "$D/etc/backstop"
ok $? "... removes an unchanged rules.yaml and its directory"
is "$(find "$D" -type f | wc -l | tr -d ' ')" 0 "nothing that install put there is left"

# --- the default PREFIX --------------------------------------------------
D2=$T/dest2
mk install DESTDIR="$D2"
ok $? "make install with the default PREFIX"
test -x "$D2/usr/local/bin/backstop" && \
    test -f "$D2/usr/local/share/man/man1/backstop.1" && \
    test -f "$D2/usr/local/share/man/man5/backstop.yaml.5" && \
    test -f "$D2/etc/backstop/rules.yaml"
ok $? "... into /usr/local, rules in /etc/backstop"
mk uninstall DESTDIR="$D2"
ok $? "make uninstall with the default PREFIX"
is "$(find "$D2" -type f | wc -l | tr -d ' ')" 0 "... leaves no file"

done_testing
