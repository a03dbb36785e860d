#!/bin/sh
# backstop deliver and filter on real temporary maildirs, byte for byte.
. "$(dirname "$0")/../lib.sh"
scratch
R=$T/rules.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
M=$T/Maildir

deliver() { "$BACKSTOP" deliver -d "$M" -r "$R" "$@"; }

# ordinary mail: inbox, untouched, silent
deliver < "$FIX/ham-plain.eml" > "$T/out" 2> "$T/err"
ok $? "ham: exit 0"
f=$(only_new "$M")
ok "$([ -n "$f" ]; echo $?)" "ham: one file in Maildir/new"
cmp -s "$f" "$FIX/ham-plain.eml"; ok $? "ham: stored byte for byte"
ok "$([ ! -s "$T/out" ] && [ ! -s "$T/err" ]; echo $?)" "ham: nothing on stdout or stderr"
for d in cur new tmp; do [ -d "$M/$d" ] || bad=1; done
ok "${bad:-0}" "missing maildir created with cur/ new/ tmp/"
[ -z "$(ls "$M/tmp")" ]; ok $? "nothing left in tmp/"
rm -f "$M"/new/*

# the mbox From_ line that Postfix and Exim prepend is dropped
deliver < "$FIX/ham-mbox-from-line.eml"
f=$(only_new "$M")
tail -n +2 "$FIX/ham-mbox-from-line.eml" > "$T/want"
cmp -s "$f" "$T/want"; ok $? "From_ line dropped, the rest byte for byte"
rm -f "$M"/new/*

# NUL bytes and 8-bit: stored as given
deliver < "$FIX/ham-nul-and-8bit.eml"; ok $? "NUL and 8-bit: exit 0"
cmp -s "$(only_new "$M")" "$FIX/ham-nul-and-8bit.eml"; ok $? "NUL and 8-bit: byte for byte"
rm -f "$M"/new/*

# backscatter: .Junk, one header added, the rest byte for byte
deliver < "$FIX/dsn-forged.eml"; ok $? "forged DSN: exit 0"
f=$(only_new "$M/.Junk")
ok "$([ -n "$f" ]; echo $?)" "forged DSN: in .Junk/new"
[ -f "$M/.Junk/maildirfolder" ]; ok $? "Junk folder has its maildirfolder file"
[ -z "$(ls "$M/new")" ]; ok $? "forged DSN: nothing in the inbox"
is "$(head -n 1 "$f")" "X-Backstop: backscatter; kind=dsn; original=<a1b2c3d4e5f6.7788@spam-cannon.example>; rule=-" \
    "forged DSN: X-Backstop header"
tail -n +2 "$f" | cmp -s - "$FIX/dsn-forged.eml"; ok $? "forged DSN: the rest byte for byte"

# our own bounce: inbox, with the header naming the rule
deliver < "$FIX/dsn-ours.eml"; ok $? "our DSN: exit 0"
f=$(only_new "$M")
is "$(head -n 1 "$f")" "X-Backstop: ours; kind=dsn; original=<20261101093000.4F1A2B3C@mail.example.org>; rule=$R:4" \
    "our DSN: X-Backstop names the rule file and line"
rm -f "$M"/new/* "$M"/.Junk/new/*

# CRLF message: the added header ends in CRLF too
deliver < "$FIX/dsn-ours-crlf.eml"
f=$(only_new "$M")
head -n 1 "$f" | grep -q "$(printf '\r')\$"; ok $? "CRLF DSN: header line ends in CRLF"
tail -n +2 "$f" | cmp -s - "$FIX/dsn-ours-crlf.eml"; ok $? "CRLF DSN: the rest byte for byte"
rm -f "$M"/new/*

# CR-only bounce is still recognised
deliver < "$FIX/dsn-forged-cr-only.eml"
ok "$([ -n "$(only_new "$M/.Junk")" ]; echo $?)" "CR-only forged DSN: in .Junk"
rm -f "$M"/.Junk/new/*

# qmail: --qmail, RPLINE and DTLINE prepended, exit 99
RPLINE='Return-Path: <>
' DTLINE='Delivered-To: ann@example.org
' deliver --qmail < "$FIX/ham-plain.eml"
is $? 99 "qmail: exit 99 after delivery"
f=$(only_new "$M")
printf 'Return-Path: <>\nDelivered-To: ann@example.org\n' | cat - "$FIX/ham-plain.eml" > "$T/want"
cmp -s "$f" "$T/want"; ok $? "qmail: Return-Path and Delivered-To prepended"
rm -f "$M"/new/*
deliver --qmail < "$FIX/ham-plain.eml"; is $? 99 "--qmail: exit 99"
rm -f "$M"/new/*
# qmail-local -> procmail or maildrop -> "| backstop deliver": RPLINE and
# DTLINE are inherited, and 99 would be a failure there (delivered twice)
RPLINE='Return-Path: <>
' DTLINE='Delivered-To: ann@example.org
' deliver < "$FIX/ham-plain.eml"
is $? 0 "inherited RPLINE/DTLINE without --qmail: exit 0, not 99"
cmp -s "$(only_new "$M")" "$FIX/ham-plain.eml"
ok $? "inherited RPLINE/DTLINE without --qmail: nothing prepended"
rm -f "$M"/new/*
# --qmail, the lines without their newline: never two fields on one line
RPLINE='Return-Path: <>' DTLINE='Delivered-To: ann@example.org' \
    deliver --qmail < "$FIX/ham-plain.eml"
is $? 99 "--qmail, RPLINE/DTLINE without newline: exit 99"
cmp -s "$(only_new "$M")" "$T/want"
ok $? "--qmail, RPLINE/DTLINE without newline: one field per line"
rm -f "$M"/new/*

# only a real mbox From_ line is dropped: "From : x" (obsolete syntax of a
# From: field) and a bare "From " are the message, byte for byte
printf 'From : Bob <bob@nowhere.example>\nSubject: obs\n\nhi\n' > "$T/in"
deliver < "$T/in"; ok $? "'From :' first: exit 0"
cmp -s "$(only_new "$M")" "$T/in"; ok $? "'From :' header field kept, byte for byte"
rm -f "$M"/new/*
"$BACKSTOP" filter -r "$R" < "$T/in" | cmp -s - "$T/in"
ok $? "filter: 'From :' header field kept"
printf 'From \n' > "$T/in"
deliver < "$T/in"; cmp -s "$(only_new "$M")" "$T/in"; ok $? "bare 'From ' line kept, not an empty message"
rm -f "$M"/new/*
for l in 'From ann@example.org Thu Nov  5 10:00:00 2026' \
    'From MAILER-DAEMON Thu Nov 12 10:00:00 2026 +0000' \
    'From () 2019-10-02 05:04:34 +0000'; do
	printf '%s\nSubject: mbox\n\nhi\n' "$l" > "$T/in"
	deliver < "$T/in"
	printf 'Subject: mbox\n\nhi\n' | cmp -s - "$(only_new "$M")"
	ok $? "From_ line dropped: $l"
	rm -f "$M"/new/*
done

# SENDER= (Postfix, qmail: null envelope sender) counts as a signal
# broken rules: inbox, marked, a log line; never a lost message
printf 'outbound:\n  message_id: [\n' > "$T/broken.yaml"; chmod 600 "$T/broken.yaml"
BACKSTOP_LOG_STDERR=1 "$BACKSTOP" deliver -d "$M" -r "$T/broken.yaml" < "$FIX/dsn-forged.eml" 2> "$T/err"
ok $? "broken rules: exit 0"
f=$(only_new "$M")
tail -n +2 "$f" | cmp -s - "$FIX/dsn-forged.eml"; ok $? "broken rules: forged DSN in the inbox, untouched but for X-Backstop"
grep -q "rules not used: $T/broken.yaml:" "$T/err"; ok $? "broken rules: logged with file and line"
rm -f "$M"/new/*
# and without a syslog: one line on stderr, X-Backstop: error in the mail
"$BACKSTOP" deliver -d "$M" -r "$T/broken.yaml" < "$FIX/ham-plain.eml" 2> "$T/err"
ok $? "broken rules, no syslog: exit 0"
is "$(wc -l < "$T/err" | tr -d ' ')" 1 "broken rules: one line on stderr"
grep -q "^backstop: rules not used: $T/broken.yaml:3:" "$T/err"
ok $? "broken rules: stderr says filtering stopped, with file and line"
f=$(only_new "$M")
head -n 1 "$f" | grep -q "^X-Backstop: error; rules not used: $T/broken.yaml:3:[ -~]*\$"
ok $? "broken rules: X-Backstop: error in the delivered message"
tail -n +2 "$f" | cmp -s - "$FIX/ham-plain.eml"; ok $? "broken rules: the rest byte for byte"
rm -f "$M"/new/*
"$BACKSTOP" filter -r "$T/broken.yaml" < "$FIX/ham-plain.eml" > "$T/out" 2> "$T/err"
ok $? "broken rules, filter: exit 0"
head -n 1 "$T/out" | grep -q "^X-Backstop: error; rules not used: "
ok $? "broken rules, filter: X-Backstop: error added"
grep -q "^backstop: rules not used: " "$T/err"; ok $? "broken rules, filter: said on stderr"
cp "$R" "$T/gw.yaml"; chmod 620 "$T/gw.yaml"
BACKSTOP_LOG_STDERR=1 "$BACKSTOP" deliver -d "$M" -r "$T/gw.yaml" < "$FIX/dsn-forged.eml" 2> "$T/err"
ok $? "group-writable rules: exit 0"
grep -q "writable by group or others" "$T/err"; ok $? "group-writable rules: refused and logged"
[ -n "$(only_new "$M")" ]; ok $? "group-writable rules: message in the inbox"
rm -f "$M"/new/*

# verdict policy: unknown bounces to a folder of the rules
rules "$T/pol.yaml" <<'Y'
outbound:
  message_id: ['^<[0-9]{14}\.[0-9A-F]+@mail\.example\.org>$']
verdicts:
  unknown: .Bounces
junk:
  folder: Spam
Y
"$BACKSTOP" deliver -d "$M" -r "$T/pol.yaml" < "$FIX/dsn-forged.eml"
[ -n "$(only_new "$M/.Spam")" ]; ok $? "junk.folder: Spam means .Spam"
printf 'Return-Path: <>\nFrom: MAILER-DAEMON@x.example\nSubject: Undelivered Mail Returned to Sender\n\nno copy here, sorry\n' |
    "$BACKSTOP" deliver -d "$M" -r "$T/pol.yaml"
f=$(only_new "$M/.Bounces")
ok "$([ -n "$f" ]; echo $?)" "verdicts.unknown: a bounce without its original goes to .Bounces"

# a Junk folder that is a symbolic link: deliver follows it only as
# junk, expire and restore do (the link and its directory the maildir
# owner's), so that it never files mail where they refuse to look
if [ "$(id -u)" = 0 ]; then
	S=$T/sym/Maildir; mkdir -p "$S/new" "$S/cur" "$S/tmp" "$T/sym/elsewhere"
	ln -s "$T/sym/elsewhere" "$S/.Junk"
	deliver_s() { "$BACKSTOP" deliver -d "$S" -r "$R" < "$FIX/dsn-forged.eml" 2> "$T/err"; }
	deliver_s; is $? 0 "Junk a symbolic link of the maildir's owner: followed"
	is "$(find "$T/sym/elsewhere/new" -type f | wc -l | tr -d ' ')" 1 "... filed behind the link"
	"$BACKSTOP" junk -r "$R" "$S" > "$T/out" 2>/dev/null
	is "$?:$(wc -l < "$T/out" | tr -d ' ')" "0:1" "... where junk lists it"
	rm -f "$T"/sym/elsewhere/new/*
	chown -h nobody "$S/.Junk"
	deliver_s; is $? 75 "Junk a symbolic link of another owner: exit 75"
	grep -q 'symbolic link of another owner' "$T/err"; ok $? "... saying why"
	is "$(find "$T/sym/elsewhere/new" "$T/sym/elsewhere/tmp" "$S/new" -type f | wc -l | tr -d ' ')" 0 "... nothing filed, not in the inbox either"
	chown -h root "$S/.Junk"; chown nobody "$T/sym/elsewhere"
	deliver_s; is $? 75 "Junk a symbolic link to a directory of another owner: exit 75"
	is "$(find "$T/sym/elsewhere/new" "$T/sym/elsewhere/tmp" "$S/new" -type f | wc -l | tr -d ' ')" 0 "... nothing filed"
else
	for i in 1 2 3 4 5 6 7 8; do ok 0 "# SKIP chown needs root"; done
fi

# usage errors never give a permanent code
"$BACKSTOP" deliver -x < /dev/null 2>/dev/null; is $? 75 "deliver: bad option is 75, not 64"
"$BACKSTOP" deliver extra < /dev/null 2>/dev/null; is $? 75 "deliver: extra argument is 75"

# no HOME and no -d: the passwd entry's home; HOME relative: same
HOME=$T/home; mkdir -p "$HOME"; export HOME
"$BACKSTOP" deliver -r "$R" < "$FIX/ham-plain.eml"; ok $? "default maildir \$HOME/Maildir"
[ -n "$(only_new "$HOME/Maildir")" ]; ok $? "delivered to \$HOME/Maildir/new"
cp "$R" "$HOME/.backstop.yaml"; chmod 600 "$HOME/.backstop.yaml"
"$BACKSTOP" deliver < "$FIX/dsn-forged.eml"
[ -n "$(only_new "$HOME/Maildir/.Junk")" ]; ok $? "~/.backstop.yaml is read by default"

# filter: stdout is the message with the header; the From_ line is dropped
# (maildrop would store it, procmail stores the same either way)
"$BACKSTOP" filter -r "$R" < "$FIX/ham-mbox-from-line.eml" > "$T/out"
ok $? "filter: exit 0"
tail -n +2 "$FIX/ham-mbox-from-line.eml" | cmp -s - "$T/out"
ok $? "filter: ham passes untouched but for the From_ line"
{ printf 'From MAILER-DAEMON  Sun Nov  1 09:31:00 2026\n'; cat "$FIX/dsn-forged.eml"; } > "$T/in"
"$BACKSTOP" filter -r "$R" < "$T/in" > "$T/out"
is "$(sed -n 1p "$T/out")" "X-Backstop: backscatter; kind=dsn; original=<a1b2c3d4e5f6.7788@spam-cannon.example>; rule=-" \
    "filter: X-Backstop first"
tail -n +2 "$T/out" | cmp -s - "$FIX/dsn-forged.eml"; ok $? "filter: the rest byte for byte"

# an X-Backstop: field that comes with the message is renamed, so that
# recipes filing on it cannot be fooled; nothing else changes
printf 'From: spammer@x.example\nX-Backstop: backscatter; kind=dsn\nx-backstop: ours\nSubject: hi\n\nX-Backstop: in the body stays\n' > "$T/in"
"$BACKSTOP" deliver -d "$M" -r "$R" < "$T/in"
printf 'From: spammer@x.example\nX-Backstop-Incoming: backscatter; kind=dsn\nX-Backstop-Incoming: ours\nSubject: hi\n\nX-Backstop: in the body stays\n' > "$T/want"
cmp -s "$(only_new "$M")" "$T/want"; ok $? "deliver: incoming X-Backstop fields renamed X-Backstop-Incoming"
rm -f "$M"/new/*
"$BACKSTOP" filter -r "$R" < "$T/in" | cmp -s - "$T/want"; ok $? "filter: incoming X-Backstop fields renamed"
# any spelling a mail client or Sieve reads as X-Backstop: whitespace
# before the colon (obsolete syntax), any case; X-Backstopper is another
printf 'From: spammer@x.example\nX-Backstop : backscatter\nX-BACKSTOP\t:ours\nX-Backstopper: kept\nSubject: hi\n\n' > "$T/in"
printf 'From: spammer@x.example\nX-Backstop-Incoming : backscatter\nX-Backstop-Incoming\t:ours\nX-Backstopper: kept\nSubject: hi\n\n' > "$T/want"
"$BACKSTOP" deliver -d "$M" -r "$R" < "$T/in"
cmp -s "$(only_new "$M")" "$T/want"; ok $? "deliver: 'X-Backstop :' renamed too"
rm -f "$M"/new/*
"$BACKSTOP" filter -r "$R" < "$T/in" | cmp -s - "$T/want"; ok $? "filter: 'X-Backstop :' renamed too"
# after a very long header: past the 256 KiB scanned for classification,
# and past what deliver reads before classifying (limits.parse_bytes)
long_hdr() {	# LINES: Received: fields, then X-Backstop:, then a body
	printf 'From: spammer@x.example\n'
	perl -e 'printf "Received: from relay%d.example by mx.example; padding padding padding\n", $_ for 1 .. $ARGV[0]' "$1"
	printf 'X-Backstop: backscatter\nSubject: long\n\nbody\n'
}
rules "$T/small.yaml" <<'Y'
outbound:
  message_id: ['^<[0-9]{14}\.[0-9A-F]+@mail\.example\.org>$']
limits: {parse_bytes: 4096}
Y
for n in 4000 12000; do	# ~300 KB, ~900 KB
	long_hdr $n > "$T/in"
	sed 's/^X-Backstop:/X-Backstop-Incoming:/' "$T/in" > "$T/want"
	for r in "$R" "$T/small.yaml"; do
		"$BACKSTOP" deliver -d "$M" -r "$r" < "$T/in"
		cmp -s "$(only_new "$M")" "$T/want"
		ok $? "deliver: X-Backstop after $(wc -c < "$T/in") bytes of header renamed ($(basename "$r"))"
		rm -f "$M"/new/*
	done
	cat "$T/in" | "$BACKSTOP" filter -r "$T/small.yaml" | cmp -s - "$T/want"
	ok $? "filter: X-Backstop after $(wc -c < "$T/in") bytes of header renamed"
done

# explain and scan
"$BACKSTOP" explain -r "$R" "$FIX/dsn-forged.eml" > "$T/out"; ok $? "explain: exit 0"
grep -q '^verdict: backscatter' "$T/out"; ok $? "explain: says the verdict"
grep -q 'message/rfc822 part 3' "$T/out"; ok $? "explain: says which part held the original"
grep -q '^deliver would file it in: .Junk' "$T/out"; ok $? "explain: says the folder"
"$BACKSTOP" explain -r "$R" < "$FIX/dsn-ours.eml" | grep -q "^rule: $R:4"; ok $? "explain: reads stdin, names the rule"
"$BACKSTOP" scan -r "$R" "$HOME/Maildir" > "$T/out"; ok $? "scan of a maildir: exit 0"
is "$(wc -l < "$T/out")" 1 "scan of a maildir: new/ and cur/, one line per message"
is "$(awk -F'\t' '{print NF}' "$T/out")" 6 "scan: six tab-separated fields (the 6th: counterparts)"
"$BACKSTOP" scan -r "$R" "$T/does-not-exist" 2>/dev/null; is $? 74 "scan: unreadable path is 74"
# a name with control bytes is escaped in the error (as in scan's PATH)
"$BACKSTOP" scan -r "$R" "$T/no$(printf '\033')]0;x$(printf '\007')" 2>"$T/err"
is "$(cat "$T/err")" "backstop: $T/no\\033]0;x\\007: No such file or directory" \
    "scan: a missing file's name is escaped on stderr"
"$BACKSTOP" explain -r "$R" "$T/$(printf 'no\nsuch')" 2>"$T/err"
is "$?:$(cat "$T/err")" "74:backstop: $T/no\\nsuch: No such file or directory" \
    "explain: a missing file's name is escaped, one line on stderr"
printf 'outbound:\n  message_id: [\n' > "$T/br$(printf '\033')k.yaml"; chmod 600 "$T/br$(printf '\033')k.yaml"
"$BACKSTOP" scan -r "$T/br$(printf '\033')k.yaml" "$FIX/ham-plain.eml" 2>"$T/err"
tr -d '\n' < "$T/err" | LC_ALL=C grep -q '[^ -~]'; is $? 1 "scan: a rule file's name with control bytes is printable on stderr"
"$BACKSTOP" scan 2>/dev/null; is $? 64 "scan: no path is a usage error"
"$BACKSTOP" scan -r "$T/broken.yaml" "$FIX/ham-plain.eml" 2> "$T/err"; is $? 78 "scan: broken rules is 78"
grep -q "$T/broken.yaml:3:" "$T/err"; ok $? "scan: the error names file and line"

# Maildir++ quota (maildirquota(7)): where the root maildir has a
# maildirsize, deliver honours its quota as maildrop does (over: exit 75,
# maildrop's "maildir over quota" deferral) and adds "SIZE 1" once the
# message is stored; the name in new/ carries ,S=SIZE
Q=$T/quota/Maildir
mkdir -p "$Q/new" "$Q/cur" "$Q/tmp"
hsize=$(wc -c < "$FIX/ham-plain.eml" | tr -d ' ')
printf '100000S,10C\n  1000 2\n' > "$Q/maildirsize"
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml" 2> "$T/err"
ok $? "quota: under it, exit 0"
f=$(only_new "$Q")
cmp -s "$f" "$FIX/ham-plain.eml"; ok $? "quota: under it, stored byte for byte"
case $f in *,S=$hsize) ok 0 "quota: the name ends in ,S=$hsize" ;;
*) ok 1 "quota: the name ends in ,S=$hsize"; diag "$f" ;; esac
is "$(tail -n 1 "$Q/maildirsize")" "$hsize 1" "quota: maildirsize gets '$hsize 1'"
is "$(wc -l < "$Q/maildirsize" | tr -d ' ')" 3 "quota: one line appended"
# backscatter filed in .Junk counts against the root's maildirsize
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/dsn-forged.eml"
f=$(only_new "$Q/.Junk"); jsize=$(wc -c < "$f" | tr -d ' ')
is "$(tail -n 1 "$Q/maildirsize")" "$jsize 1" "quota: a message filed in .Junk is counted in the root maildirsize"
[ ! -e "$Q/.Junk/maildirsize" ]; ok $? "quota: no maildirsize made in the folder"
# over the byte quota: 75, one line saying so, nothing stored, no count.
# (No Junk here: what backstop filed there would be pruned first, see
# tests/t/flood.t.)  The use is what the maildir holds, in one fresh
# line: maildirquota(7) trusts it
rm -rf "$Q/.Junk" "$Q"/new/*
printf '%sS\n0 0\n' $((hsize - 1)) > "$T/q2"; cp "$T/q2" "$Q/maildirsize"
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml" 2> "$T/err"
is $? 75 "quota: one byte over, exit 75 (deferred, as maildrop)"
is "$(wc -l < "$T/err" | tr -d ' ')" 1 "quota: one line on stderr"
grep -q '^backstop: maildir over quota' "$T/err"; ok $? "quota: stderr says over quota"
[ -z "$(ls -A "$Q/new")$(ls -A "$Q/tmp")" ]; ok $? "quota: over it, nothing in new/ or tmp/"
cmp -s "$Q/maildirsize" "$T/q2"; ok $? "quota: over it, maildirsize unchanged"
# over the message count
printf '0S,3C\n0 0\n' > "$Q/maildirsize"
for i in 1 2 3; do
	"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml"; ok $? "quota: message $i of 3, exit 0"
done
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml" 2> "$T/err"
is $? 75 "quota: 4th of 3 messages, exit 75"
is "$(ls "$Q/new" | wc -l | tr -d ' ')" 3 "quota: only 3 stored"
# maildirquota(7): over quota by a file of several lines (or older than
# 15 minutes, or past 5120 bytes), the use is counted again from what is
# on disk before a message is refused, and maildirsize rewritten with it
printf '0S,3C\n1000 2\n0 1\n' > "$Q/maildirsize"
rm -f "$Q"/new/*
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml" 2> "$T/err"
ok $? "quota: over by a stale count only, recounted: delivered"
is "$(cat "$Q/maildirsize")" "0S,3C
0 0
$hsize 1" "quota: maildirsize recounted (the quota line kept), then the message counted"
printf '100000S\n0 1\n' > "$Q/maildirsize"
perl -e 'print "0 0\n" x 1300' >> "$Q/maildirsize"
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml"
is "$(cat "$Q/maildirsize")" "100000S
$hsize 1
$hsize 1" "quota: a maildirsize past 5120 bytes is recounted"
# one writer, and a line that a crash cut short does not swallow ours
rm -f "$Q"/new/*
printf '100000S\n%s 1\n12' "$hsize" > "$Q/maildirsize"
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml"
is "$(sed -n '$p' "$Q/maildirsize")" "$hsize 1" "quota: a last line cut short: ours is a line of its own"
printf '100000S\n%s 1\n12' "$hsize" > "$Q/maildirsize"
BACKSTOP_TEST_INJECT=crash "$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/dsn-forged.eml" 2>/dev/null
is "$(sed -n '$p' "$Q/maildirsize")" "$(wc -c < "$FIX/dsn-forged.eml" | tr -d ' ') 1" \
    "quota, the guard's rescue: a last line cut short, ours is a line of its own"
rm -f "$Q"/new/*
# a usage line that is not two numbers, or holds one out of range, is a
# broken file (maildirquota(7)): counted again from the disk, not summed
for bad in '12 x' '99999999999999999999 1' '1 -99999999999999999999' '- 1'; do
	printf '100000S\n0 0\n%s\n' "$bad" > "$Q/maildirsize"
	"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml"
	is "$(cat "$Q/maildirsize")" "100000S
0 0
$hsize 1" "quota: a usage line '$bad' has maildirsize recounted"
	rm -f "$Q"/new/*
done
# blanks and signs as strtoll() reads them are a usage line like any other
printf '100000S\n\t+0  -0 \n' > "$Q/maildirsize"
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml"
is "$(cat "$Q/maildirsize")" "100000S
	+0  -0 
$hsize 1" "quota: a usage line with blanks and signs is kept, the message added"
rm -f "$Q"/new/*
# no maildirsize: no quota, none made
rm -f "$Q/maildirsize"
"$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/ham-plain.eml"; ok $? "no maildirsize: exit 0"
[ ! -e "$Q/maildirsize" ]; ok $? "no maildirsize: none created"
# the guard's rescue (classifier crash) counts its message too
rm -f "$Q"/new/*
printf '100000S\n%s 1\n' "$hsize" > "$Q/maildirsize"
BACKSTOP_TEST_INJECT=crash "$BACKSTOP" deliver -d "$Q" -r "$R" < "$FIX/dsn-forged.eml" 2>/dev/null
ok $? "quota, classifier crash: exit 0"
f=$(only_new "$Q"); fsize=$(wc -c < "$FIX/dsn-forged.eml" | tr -d ' ')
case $f in *,S=$fsize) ok 0 "quota, classifier crash: ,S=$fsize" ;;
*) ok 1 "quota, classifier crash: ,S=$fsize"; diag "$f" ;; esac
is "$(tail -n 1 "$Q/maildirsize")" "$fsize 1" "quota, classifier crash: counted in maildirsize"

"$BACKSTOP" --version | grep -q '^backstop [0-9]'; ok $? "--version"
"$BACKSTOP" --help | grep -q 'backstop deliver'; ok $? "--help"
"$BACKSTOP" frobnicate 2>/dev/null; is $? 64 "unknown command is 64"
done_testing
