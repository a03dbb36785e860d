#!/bin/sh
# Bad rule files: scan and explain name the file (and the line, where the
# fault is inside it) and scan exits 78; deliver never loses the message:
# it files it in the inbox (even backscatter) and logs why.  Nothing hangs.
. "$(dirname "$0")/../lib.sh"
scratch
M=$T/Maildir
FORGED=$FIX/dsn-forged.eml	# backscatter with good rules: .Junk
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1
OTHER=54321			# a uid without a passwd entry
# FILE is FORGED after one "X-Backstop: error; rules not used: ..." line
marked() {
	head -n 1 "$1" | grep -q '^X-Backstop: error; rules not used: [ -~]*$' &&
	    tail -n +2 "$1" | cmp -s - "$FORGED"
}

# check NAME FILE REGEX: the three commands on one bad rule file
check() {
	n=$1 f=$2 re=$3
	timeout 60 "$BACKSTOP" scan -r "$f" "$FORGED" > "$T/out" 2> "$T/err"
	is $? 78 "$n: scan exits 78"
	[ ! -s "$T/out" ]; ok $? "$n: scan prints no verdict"
	grep -Eq "^backstop: $re" "$T/err"
	ok $? "$n: scan says $(head -c 150 "$T/err")"
	timeout 60 "$BACKSTOP" explain -r "$f" "$FORGED" > "$T/out" 2>&1
	grep -Eq "^rules error: $re" "$T/out"; ok $? "$n: explain shows the error"
	grep -q '^deliver would file it in: inbox' "$T/out"
	ok $? "$n: explain says deliver would use the inbox"
	rm -rf "$M"
	BACKSTOP_LOG_STDERR=1 timeout 60 \
	    "$BACKSTOP" deliver -d "$M" -r "$f" < "$FORGED" 2> "$T/err"
	ok $? "$n: deliver exits 0"
	# untouched but for the X-Backstop: error line that says why
	marked "$(only_new "$M")"; ok $? "$n: delivered to the inbox, untouched, marked"
	[ ! -d "$M/.Junk" ]; ok $? "$n: not filed as Junk"
	grep -Eq "log: rules not used: $re" "$T/err"; ok $? "$n: deliver logs why"
}
# The good rules, to begin with: the forged DSN goes to .Junk
cp "$FIX/rules.yaml" "$T/good.yaml"; chmod 600 "$T/good.yaml"
"$BACKSTOP" deliver -d "$M" -r "$T/good.yaml" < "$FORGED"
[ -n "$(only_new "$M/.Junk")" ]; ok $? "good rules: the forged DSN goes to Junk"

f=$T/malformed.yaml
rules "$f" <<'EOF'
outbound:
  message_id: [
    '^<[0-9]{14}@mail\.example\.org>$'
  - 'y'
EOF
check "malformed YAML" "$f" "$f:4:3: did not find expected"

f=$T/unknown.yaml
rules "$f" <<'EOF'
outbound:
  message_id:
    - '^<[0-9]{14}@mail\.example\.org>$'
  relay:
    - smtp.example.org
EOF
check "unknown key" "$f" "$f:4:3: unknown key 'outbound.relay'"

f=$T/type.yaml
rules "$f" <<'EOF'
outbound:
  message_id:
    - '^<[0-9]{14}@mail\.example\.org>$'
limits:
  timeout: [1, 2]
EOF
check "wrong type" "$f" "$f:5:12: timeout: expected a string"

f=$T/type2.yaml
rules "$f" <<'EOF'
outbound:
  message_id: '^<[0-9]{14}@mail\.example\.org>$'
EOF
check "scalar for a list" "$f" "$f:2:15: outbound.message_id: expected a list"

f=$T/pcre.yaml
rules "$f" <<'EOF'
outbound:
  message_id:
    - '^<[0-9]{14}@mail\.example\.org>$'
    - '^<(unclosed@mail\.example\.org>$'
EOF
check "bad PCRE2 pattern" "$f" "$f:4:7: bad pattern .*missing closing parenthesis"

f=$T/value.yaml
rules "$f" <<'EOF'
limits:
  parse_bytes: 100G
EOF
check "value out of range" "$f" "$f:2:16: limits.parse_bytes"

f=$T/huge.yaml
perl -e 'print "outbound:\n  message_id:\n", "    # filler line\n" x 130000' > "$f"
chmod 600 "$f"
check "2 MB file" "$f" "$f: larger than 65536 bytes"

# billion laughs: libyaml keeps an alias as a reference, and the walk
# stops at the first list where a string belongs
f=$T/bomb.yaml
rules "$f" <<'EOF'
outbound:
  relays: &a [r.example, r.example, r.example, r.example, r.example, r.example, r.example, r.example, r.example]
  message_id: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
junk: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
verdicts: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
limits: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
x: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
y: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
z: [*g, *g, *g, *g, *g, *g, *g, *g, *g]
EOF
check "YAML alias bomb" "$f" "$f:2:11: outbound.message_id: expected a string"
# a flat one: 21000 aliases of one name, where names are allowed (in
# less than the 64 KiB a rule file may have)
f=$T/bomb2.yaml
perl -e 'print "outbound:\n  relays: [&r relay.example", ",*r" x 21000, "]\n"' > "$f"
chmod 600 "$f"
check "21000 aliases" "$f" "$f:2:11: too many nodes"

# what PCRE2 holds, whatever the file's size: at most 256 patterns (an
# alias is compiled at each use) and 4 MiB compiled
f=$T/manypats.yaml
perl -e 'print "outbound:\n  message_id: [&p \x27^<a>\$\x27", ", *p" x 300, "]\n"' > "$f"
chmod 600 "$f"
check "300 patterns" "$f" "$f:2:[0-9]*: more than 256 patterns"
f=$T/bigpats.yaml
perl -e 'print "outbound:\n  message_id:\n", "    - \x27(a(b)){3000}\x27\n" x 100' > "$f"
chmod 600 "$f"
check "6 MB of compiled patterns" "$f" "$f:[0-9]*:7: patterns compile to more than 4194304 bytes"

f=$T/wrap.yaml
rules "$f" <<'EOF'
limits:
  parse_bytes: 18014398509481988k
EOF
check "parse_bytes that wraps round" "$f" "$f:2:16: limits.parse_bytes"

f=$T/twodocs.yaml
rules "$f" <<'EOF'
outbound:
  message_id: ['^<[0-9]+@mail\.example\.org>$']
---
outbound:
  relay: [smtp.example.org]
EOF
check "a second YAML document" "$f" "$f:4:1: a second YAML document"

f=$T/groupw.yaml
cp "$T/good.yaml" "$f"; chmod 620 "$f"
check "group-writable" "$f" "$f: writable by group or others"
chmod 602 "$f"
check "other-writable" "$f" "$f: writable by group or others"

if [ $ROOT = 1 ]; then
	f=$T/other.yaml
	cp "$T/good.yaml" "$f"; chown $OTHER "$f"
	check "owned by another user" "$f" "$f: owned by uid $OTHER"
else
	ok 0 "# SKIP chown to another user needs root"
fi

f=$T/dir.yaml
mkdir "$f"
check "a directory" "$f" "$f: not a regular file"
check "missing file" "$T/none.yaml" "$T/none.yaml: No such file"

# unreadable: as root, run as a uid that cannot read a root-owned 0600 file
f=$T/unreadable.yaml
cp "$T/good.yaml" "$f"
if [ $ROOT = 1 ] && command -v setpriv > /dev/null &&
    ! getent passwd $OTHER > /dev/null; then
	# The other uid runs nothing from the checkout or the scratch
	# directory: either may lie under a directory only root can enter
	# (a checkout in a mktemp -d): exec would fail with 126.  What it
	# runs and reads is copied to a directory of its own that it can
	# reach, mode 755 under /tmp; the rule file there stays root's 0600.
	U=$(mktemp -d /tmp/backstop-other.XXXXXX)
	trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T" "$U"' EXIT
	chmod 755 "$U"
	cp "$BACKSTOP" "$U/backstop"; chmod 755 "$U/backstop"
	cp "$FORGED" "$U/forged.eml"; chmod 644 "$U/forged.eml"
	f=$U/unreadable.yaml
	cp "$T/good.yaml" "$f"; chmod 600 "$f"
	mkdir "$U/u"; chown $OTHER "$U/u"
	as() { setpriv --reuid=$OTHER --regid=$OTHER --clear-groups "$@"; }
	as "$U/backstop" --version > /dev/null 2>&1
	ok $? "unreadable: the other uid can run the copied binary"
	as "$U/backstop" scan -r "$f" "$U/forged.eml" > /dev/null 2> "$T/err"
	is $? 78 "unreadable: scan exits 78"
	grep -q "^backstop: $f: Permission denied" "$T/err"
	ok $? "unreadable: scan says $(cat "$T/err")"
	as env BACKSTOP_LOG_STDERR=1 "$U/backstop" deliver -d "$U/u/Maildir" \
	    -r "$f" < "$FORGED" 2> "$T/err"
	ok $? "unreadable: deliver exits 0"
	marked "$(only_new "$U/u/Maildir")"
	ok $? "unreadable: delivered to the inbox, untouched, marked"
	grep -q "log: rules not used: $f: Permission denied" "$T/err"
	ok $? "unreadable: deliver logs why"
elif [ $ROOT = 0 ]; then
	chmod 000 "$f"
	check "unreadable" "$f" "$f: Permission denied"
else
	ok 0 "# SKIP setpriv to a uid without a passwd entry"
fi

# a broken system file costs nothing either
BACKSTOP_SYSTEM_RULES=$T/pcre.yaml BACKSTOP_LOG_STDERR=1 \
    "$BACKSTOP" deliver -d "$T/sys" -r "$T/good.yaml" < "$FORGED" 2> "$T/err"
ok $? "bad system rules: deliver exits 0"
marked "$(only_new "$T/sys")"; ok $? "bad system rules: inbox, untouched, marked"
grep -q "log: rules not used: $T/pcre.yaml:4:7" "$T/err"; ok $? "bad system rules: logged"

done_testing
