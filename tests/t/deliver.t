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

# qmail: RPLINE and DTLINE prepended, exit 99
RPLINE='Return-Path: <>
' DTLINE='Delivered-To: ann@example.org
' deliver < "$FIX/ham-plain.eml"
is $? 99 "qmail: exit 99 after delivery"
f=$(only_new "$M")
printf 'Return-Path: <>\nDelivered-To: ann@example.org\n' | cat - "$FIX/ham-plain.eml" > "$T/want"
cmp -s "$f" "$T/want"; ok $? "qmail: Return-Path and Delivered-To prepended"
rm -f "$M"/new/*
deliver --qmail < "$FIX/ham-plain.eml"; is $? 99 "--qmail: exit 99"
rm -f "$M"/new/*

# SENDER= (Postfix, qmail: null envelope sender) counts as a signal
# broken rules: inbox, untouched, a log line; never a lost message
printf 'outbound:\n  message_id: [\n' > "$T/broken.yaml"; chmod 600 "$T/broken.yaml"
BACKSTOP_LOG_STDERR=1 "$BACKSTOP" deliver -d "$M" -r "$T/broken.yaml" < "$FIX/dsn-forged.eml" 2> "$T/err"
ok $? "broken rules: exit 0"
cmp -s "$(only_new "$M")" "$FIX/dsn-forged.eml"; ok $? "broken rules: forged DSN in the inbox, untouched"
grep -q "rules not used: $T/broken.yaml:" "$T/err"; ok $? "broken rules: logged with file and line"
rm -f "$M"/new/*
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
"$BACKSTOP" scan 2>/dev/null; is $? 64 "scan: no path is a usage error"
"$BACKSTOP" scan -r "$T/broken.yaml" "$FIX/ham-plain.eml" 2> "$T/err"; is $? 78 "scan: broken rules is 78"
grep -q "$T/broken.yaml:3:" "$T/err"; ok $? "scan: the error names file and line"

"$BACKSTOP" --version | grep -q '^backstop [0-9]'; ok $? "--version"
"$BACKSTOP" --help | grep -q 'backstop deliver'; ok $? "--help"
"$BACKSTOP" frobnicate 2>/dev/null; is $? 64 "unknown command is 64"
done_testing
