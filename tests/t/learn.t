#!/bin/sh
# backstop learn, check-rules and the sent evidence (issue 8), on a
# generated Sent folder with four generators' Message-IDs: Thunderbird
# (UUID at the domain), Postfix (timestamp.QUEUEID at the relay), Gmail
# (CA... at mail.gmail.com) and a cron job (timestamp.pid.user at a
# host).  Bounces of some of these messages must be "ours", forged ones
# "backscatter"; a real bounce of the user's own mail never goes to Junk.
# Last, delivery with a sent index of 100,000 Message-IDs (its cost is
# reported as a diagnostic, never asserted).
. "$(dirname "$0")/../lib.sh"
scratch
export HOME="$T/home"
MD=$HOME/Maildir
# learn also asks the host's Postfix (postconf reads $MAIL_CONFIG/main.cf):
# a configuration of the tests' own, whose Message-IDs no sent message has
mkdir -p "$T/pf-other"
echo 'myhostname = relay.elsewhere.example' > "$T/pf-other/main.cf"
export MAIL_CONFIG="$T/pf-other"
POSTCONF=0; [ -x /usr/sbin/postconf ] && POSTCONF=1
mkdir -p "$MD/.Sent/cur" "$MD/.Sent/new" "$MD/.Sent/tmp" \
    "$MD/.Sent Messages/cur" "$MD/.Sent Messages/new" \
    "$MD/.Sent Messages/tmp"

# gen SEED N GENERATOR DIR: N sent messages, their ids on stdout
gen() {
	awk -v seed="$1" -v n="$2" -v g="$3" -v dir="$4" '
	function hex(k, up,   s, i) { s = ""
		for (i = 0; i < k; i++)
			s = s substr("0123456789abcdef", int(rand() * 16) + 1, 1)
		return up ? toupper(s) : s }
	function num(k,   s, i) { s = int(rand() * 9) + 1
		for (i = 1; i < k; i++) s = s int(rand() * 10)
		return s }
	function ts() { return sprintf("2026%02d%02d%02d%02d%02d",
		int(rand() * 12) + 1, int(rand() * 28) + 1, int(rand() * 24),
		int(rand() * 60), int(rand() * 60)) }
	function b64(k,   s, i, a) { s = ""
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_-="
		for (i = 0; i < k; i++) s = s substr(a, int(rand() * 66) + 1, 1)
		return s }
	BEGIN {
		srand(seed)
		for (k = 1; k <= n; k++) {
			if (g == "tb")
				id = hex(8) "-" hex(4) "-4" hex(3) "-a" hex(3) "-" \
				    hex(12) "@example.org"
			else if (g == "postfix")
				id = ts() "." hex(8 + int(rand() * 4), 1) \
				    "@mail.example.org"
			else if (g == "gmail")
				id = "CA" b64(40 + int(rand() * 8)) "@mail.gmail.com"
			else
				id = ts() "." num(3 + int(rand() * 4)) \
				    ".ann@host.example.org"
			f = dir "/" (1760000000 + k) ".M" k "P" seed "." g \
			    ".host:2,S"
			printf "From: Ann <ann@example.org>\nTo: bob%d@example.net\n" \
			    "Subject: message %d\nDate: Mon, 5 Jan 2026 10:00:00 " \
			    "+0000\nMessage-ID: <%s>\nMIME-Version: 1.0\n\n" \
			    "Hello %d.\n", k, k, id, k > f
			close(f)
			print "<" id ">"
		}
	}'
}

# bounce ID: a Postfix-style DSN returning a message with Message-ID ID
bounce() {
	cat <<EOF
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: ann@example.org
Subject: Undelivered Mail Returned to Sender
Date: Tue, 6 Jan 2026 10:00:00 +0000
Message-ID: <20260106100000.B0B0B0@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<bob@example.net>: host mx.example.net said: 550 5.1.1 User unknown

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Tue, 6 Jan 2026 09:59:58 +0000

Final-Recipient: rfc822; bob@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--BOUNDARY
Content-Type: message/rfc822

From: Ann <ann@example.org>
To: bob@example.net
Subject: hello
Date: Tue, 6 Jan 2026 09:59:50 +0000
Message-ID: $1

Hello.

--BOUNDARY--
EOF
}

gen 11 12 tb "$MD/.Sent/cur" > "$T/tb.ids"
gen 12 12 postfix "$MD/.Sent/cur" > "$T/postfix.ids"
gen 13 10 gmail "$MD/.Sent/cur" > "$T/gmail.ids"
gen 14 8 cron "$MD/.Sent Messages/cur" > "$T/cron.ids"
printf 'From: ann@example.org\nSubject: no id\n\nThe MTA added one.\n' \
    > "$MD/.Sent/cur/1760000999.noid.host:2,S"

# 1. learn proposes one pattern per generator, flags the Gmail one
"$BACKSTOP" learn > "$T/learn.out" 2> "$T/learn.err"
ok $? "learn exits 0"
sed 's/^/# /' "$T/learn.out"
grep -q '^backstop learn: 43 sent messages in 2 folders, 42 with a Message-ID$' \
    "$T/learn.out"
ok $? "learn reads the default folders .Sent and .Sent Messages"
is "$(grep -c "^  propose: '" "$T/learn.out")" 3 "three patterns proposed"
grep -qxF "  propose: '^<[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@example\\.org>\$'" \
    "$T/learn.out"
ok $? "Thunderbird: an anchored UUID pattern at example.org"
# not the lengths the sample showed ({8,11}): Postfix's whole range, short
# and long queue IDs, since the next queue ID may be one digit longer
grep -qxF "  propose: '^<(?:[0-9]{14}\\.[0-9A-F]{6,21}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,12})@mail\\.example\\.org>\$'" \
    "$T/learn.out"
ok $? "Postfix: timestamp, dot, the queue ID in Postfix's whole range (short and long)"
grep -qE "^  propose: '\\^<\\[0-9\\]\\{14\\}\\\\\\.\\[0-9\\]\\{[0-9]+,[0-9]+\\}\\\\\\.ann@host\\\\\\.example\\\\\\.org>\\\$'\$" \
    "$T/learn.out"
ok $? "cron: timestamp, pid digits, the literal user name"
grep -A1 '^proposed: 12 sent messages, e.g. <[0-9a-f-]*@example.org>$' \
    "$T/learn.out" | grep -q '^  shape:   hex8-hex4-hex4-hex4-hex12 @ example.org$'
ok $? "each proposal shows its coverage, an example and the shape"
grep -q "^  flagged: '\\^<CA.*@mail\\\\.gmail\\\\.com>\\\$'" "$T/learn.out" &&
    grep -q '^  why:     mail.gmail.com is shared by every user of gmail.com' \
    "$T/learn.out"
ok $? "the Gmail pattern is flagged, not proposed"
grep -q 'with them your rules match 32 of 42 sent Message-IDs (76.2%), without them 0 (0.0%)' \
    "$T/learn.out"
ok $? "learn reports the coverage of its proposals"
grep -q '^10 sent messages only flagged patterns match' "$T/learn.out"
ok $? "learn points the flagged messages to the sent index"
if [ $POSTCONF = 1 ]; then
	grep -q '^not proposed: none of your 42 sent Message-IDs was written by it' "$T/learn.out"
	ok $? "the host's Postfix, which wrote none of them: shown, not proposed"
else
	ok 0 "# SKIP no /usr/sbin/postconf"
fi
"$BACKSTOP" learn "$MD/.Sent Messages" > "$T/learn1.out"
grep -q '^backstop learn: 8 sent messages in 1 folder' "$T/learn1.out" &&
    is "$(grep -c "^  propose: " "$T/learn1.out")" 1 \
    "learn FOLDER reads only that folder"

# 2. too broad: a domain-only generator and a local host are flagged
mkdir -p "$T/odd/cur" "$T/odd/new"
i=0
for id in 4f.a1@example.com 2b.bb9c@example.com x7@example.com \
    Zq-1@example.com 9.9.9@example.com qq_r1@example.com \
    1.2@example.com 123ab@example.com 20260101.1@box 20260102.2@box \
    20260103.3@box 3f2504e0-4f89-11d3-9a0c-0305e82c3302@corp.example.com \
    9b2e4c1a7d3f40e8b6a5c2d1e0f98766@corp.example.com \
    Kq7ZtR2mWx9PbN4sLc8W@corp.example.com \
    20240517093015.4C1A27F3B3@corp.example.com; do
	i=$((i + 1))
	printf 'From: ann@example.org\nMessage-ID: <%s>\n\nx\n' "$id" \
	    > "$T/odd/cur/$i.odd:2,S"
done
"$BACKSTOP" learn "$T/odd" > "$T/odd.out"
sed 's/^/# /' "$T/odd.out"
is "$(grep -c '^  propose: ' "$T/odd.out")" 0 \
    "no pattern proposed from unstructured or local Message-IDs"
grep -q '^  why:     too broad: it also matches' "$T/odd.out"
ok $? "a free-form pattern of many shapes is flagged as too broad"
grep -q '^  why:     too short: it accepts left-hand sides of 1 char' \
    "$T/odd.out"
ok $? "a pattern that accepts very short ids is flagged as too short"
grep -q '^  why:     no domain in the Message-ID\|^  why:     box is a local host' \
    "$T/odd.out"
ok $? "a Message-ID at a bare host name is flagged"

# 3. --write appends under outbound.message_id, comments kept
rules "$T/user.yaml" <<'Y'
# Ann's rules
outbound:
  # the old server, retired
  message_id:
    - '^<old-[0-9]+@retired\.example\.org>$'   # keep me
  relays:
    - smtp.example.org

# Junk for 30 days
junk:
  expire_after: 30d
Y
cp "$T/user.yaml" "$T/user.before"
"$BACKSTOP" learn -r "$T/user.yaml" --write > "$T/write.out"
ok $? "learn --write exits 0"
grep -q "^added 3 patterns to $T/user.yaml\$" "$T/write.out"
ok $? "learn --write says what it added"
sed 's/^/# /' "$T/user.yaml"
diff "$T/user.before" "$T/user.yaml" | grep '^[<>]' > "$T/user.diff"
is "$(grep -c '^<' "$T/user.diff")" 0 "no line of the rule file removed or changed"
is "$(grep -c '^>' "$T/user.diff")" 4 "a comment line and three patterns added"
grep -q '^>     # added by backstop learn on [0-9-]*: 43 sent messages$' \
    "$T/user.diff"
ok $? "the added block starts with a dated comment"
is "$(sed -n '6p' "$T/user.yaml")" \
    "    # added by backstop learn on $(date +%Y-%m-%d): 43 sent messages" \
    "it sits right after the existing patterns, at their indentation"
is "$(stat -c %a "$T/user.yaml")" 600 "the rule file stays mode 600"
"$BACKSTOP" learn -r "$T/user.yaml" > "$T/again.out"
is "$(grep -c '^  propose: ' "$T/again.out")" 0 "learn again: nothing new"
is "$(grep -c '^already in your rules' "$T/again.out")" 3 \
    "learn again: the groups are already in the rules"

rm -f "$T/new.yaml"
"$BACKSTOP" learn -r "$T/new.yaml" --write > /dev/null
ok $? "learn --write creates a missing rule file"
is "$(stat -c %a "$T/new.yaml")" 600 "created with mode 600"
is "$(grep -c "^    - '^<" "$T/new.yaml")" 3 "with the three patterns"
printf 'junk:\n  folder: .Spam' > "$T/bare.yaml"
chmod 600 "$T/bare.yaml"
"$BACKSTOP" learn -r "$T/bare.yaml" --write > /dev/null &&
    "$BACKSTOP" scan -r "$T/bare.yaml" /dev/null > /dev/null
ok $? "a file without outbound: (nor a final newline) gets a section"
grep -q '^  folder: .Spam$' "$T/bare.yaml"
ok $? "and keeps its own lines"

# 3b. --write run 8 times at once: one lock, the file re-read under it, so
# each pattern goes in once (issue 13)
rules "$T/race.yaml" <<'Y'
outbound:
  message_id:
    - '^<old-[0-9]+@retired\.example\.org>$'
Y
# a sent folder big enough that the runs overlap: each reads it for a while
mkdir -p "$T/racesent/cur" "$T/racesent/new"
gen 21 4000 postfix "$T/racesent/cur" > /dev/null
pids=
for i in 1 2 3 4 5 6 7 8; do
	"$BACKSTOP" learn -r "$T/race.yaml" --write "$T/racesent" \
	    > "$T/race.$i" 2>&1 &
	pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "8 concurrent learn --write: every one exits 0"
is "$(grep -c "^    - '" "$T/race.yaml")" 2 \
    "8 concurrent learn --write: the old pattern and the new one, once each"
is "$(grep -c '# added by backstop learn' "$T/race.yaml")" 1 \
    "8 concurrent learn --write: one block added"
is "$(cat "$T"/race.[1-8] | grep -c '^added 1 pattern ')" 1 \
    "8 concurrent learn --write: one run added it"
is "$(cat "$T"/race.[1-8] | grep -c '^nothing added: .* has it already$')" 7 \
    "8 concurrent learn --write: the seven others found it there"
is "$(ls "$T" | grep -c '^race\.yaml\.')" 0 "8 concurrent learn --write: no temporary file left"
"$BACKSTOP" scan -r "$T/race.yaml" /dev/null > /dev/null
ok $? "8 concurrent learn --write: the rule file loads"

# a CRLF rule file gets CRLF lines, and still loads
printf "# CRLF rules\r\noutbound:\r\n  message_id:\r\n    - '^<old-[0-9]+@retired\\\\.example\\\\.org>\$'\r\n" \
    > "$T/crlf.yaml"
chmod 600 "$T/crlf.yaml"
"$BACKSTOP" scan -r "$T/crlf.yaml" /dev/null > /dev/null
ok $? "CRLF rule file: loads before"
"$BACKSTOP" learn -r "$T/crlf.yaml" --write > "$T/crlf.out"
ok $? "CRLF rule file: learn --write exits 0"
is "$(grep -c "^    - '" "$T/crlf.yaml")" 4 "CRLF rule file: three patterns added"
is "$(grep -c "$(printf '\r')\$" "$T/crlf.yaml")" "$(wc -l < "$T/crlf.yaml")" \
    "CRLF rule file: every line still ends in CRLF"
"$BACKSTOP" scan -r "$T/crlf.yaml" /dev/null > /dev/null
ok $? "CRLF rule file: loads after"

# the file's mode and group are kept (root can give it another group)
if [ "$(id -u)" = 0 ]; then
	rules "$T/grp.yaml" <<'Y'
outbound:
  message_id:
    - '^<old-[0-9]+@retired\.example\.org>$'
Y
	chmod 640 "$T/grp.yaml"; chgrp 65534 "$T/grp.yaml"
	"$BACKSTOP" learn -r "$T/grp.yaml" --write > /dev/null
	ok $? "group 65534, mode 640: learn --write exits 0"
	is "$(stat -c '%a %g' "$T/grp.yaml")" "640 65534" \
	    "group 65534, mode 640: both kept"
fi

# 4. check-rules: share matched, the unmatched listed, dead patterns
"$BACKSTOP" check-rules -r "$T/user.yaml" > "$T/check.out"
is $? 1 "check-rules exits 1 when sent mail is not covered"
sed 's/^/# /' "$T/check.out"
grep -q '^matched by an outbound pattern: 32 of 42 (76.2%)$' "$T/check.out"
ok $? "check-rules reports the share of sent messages matched"
grep '^  unmatched' "$T/check.out" | cut -f2 | sort > "$T/unm"
sort "$T/gmail.ids" > "$T/gm"
cmp -s "$T/unm" "$T/gm"
ok $? "the unmatched sent messages are exactly the Gmail ones"
grep -q 'a bounce of one of these would be filed as backscatter' \
    "$T/check.out"
ok $? "and it says what that means"
grep -q "^  pattern	$T/user.yaml:5	0	.*	matches nothing sent\$" \
    "$T/check.out"
ok $? "the retired server's pattern matches nothing sent"
grep -q '^sent messages without a Message-ID: 1 ' "$T/check.out"
ok $? "the message without a Message-ID is reported"

# 5. the sent evidence
cp "$T/user.yaml" "$T/both.yaml"
printf 'outbound:\n  sent: true\n  sent_index: %s\n' "$T/sent.idx" \
    > "$T/sent-only.yaml"
awk -v idx="$T/sent.idx" '{ print } /^outbound:$/ {
    print "  sent: true"; print "  sent_index: " idx }' "$T/user.yaml" \
    > "$T/both.yaml"
chmod 600 "$T/sent-only.yaml" "$T/both.yaml"
# built on 1 Dec 2025, as if backstop had watched the folders since: an
# index says "not sent" for no time before it first read them
# (BACKSTOP_TEST_CLOCK: a static binary takes no preloaded clock)
WATCHED=1764547200
BACKSTOP_TEST_CLOCK=$WATCHED "$BACKSTOP" check-rules -r "$T/both.yaml" \
    > "$T/check2.out"
is $? 1 "check-rules exits 1 while a sent copy has no Message-ID, sent index or not"
grep -q '^sent messages without a Message-ID: 1 .*1 of them no reply shows the Message-ID of, so nothing here proves a bounce of them ours$' \
    "$T/check2.out"
ok $? "and says that nothing proves a bounce of it ours"
mv "$MD/.Sent/cur/1760000999.noid.host:2,S" "$T/noid.saved"
"$BACKSTOP" check-rules -r "$T/both.yaml" > "$T/check3.out"
ok $? "check-rules exits 0 when the sent index proves the rest"
mv "$T/noid.saved" "$MD/.Sent/cur/1760000999.noid.host:2,S"
grep -q "^sent index: $T/sent.idx: 42 Message-IDs of 43 messages in 2 folders\$" \
    "$T/check2.out"
ok $? "check-rules builds the sent index and says what it holds"
is "$(stat -c %a "$T/sent.idx")" 600 "the index is mode 600"

mkdir "$T/b"
bounce "$(sed -n 3p "$T/tb.ids")" > "$T/b/1-tb.eml"
bounce "$(sed -n 5p "$T/postfix.ids")" > "$T/b/2-postfix.eml"
bounce "$(sed -n 7p "$T/gmail.ids")" > "$T/b/3-gmail.eml"
bounce "$(sed -n 2p "$T/cron.ids")" > "$T/b/4-cron.eml"
bounce '<CAOfOrGeD7xk3Q9w4pJm2Rk5vT1nYbaaaaaaaaaaaa@mail.gmail.com>' \
    > "$T/b/5-forged-gmail.eml"
bounce '<0f3c2a1b-9d8e-4f7a-b6c5-d4e3f2a1b0c9@spammer.example>' \
    > "$T/b/6-forged-uuid.eml"
bounce '<20260106095950.DEADBEEF@mail.example.net>' > "$T/b/7-forged.eml"

verdicts() {	# verdicts RULES: "name verdict" per bounce
	"$BACKSTOP" scan -r "$1" "$T/b" | tee -a "$T/scan.log" |
	    awk -F'\t' '{ n = $1; sub(/.*\//, "", n); sub(/\.eml$/, "", n)
	    printf "%s=%s ", n, $2 }'
}
is "$(verdicts "$T/user.yaml")" "1-tb=ours 2-postfix=ours 3-gmail=backscatter 4-cron=ours 5-forged-gmail=backscatter 6-forged-uuid=backscatter 7-forged=backscatter " \
    "patterns alone: the Gmail bounce would be junk (why learn flags it)"
is "$(verdicts "$T/both.yaml")" "1-tb=ours 2-postfix=ours 3-gmail=ours 4-cron=ours 5-forged-gmail=backscatter 6-forged-uuid=backscatter 7-forged=backscatter " \
    "patterns and sent index: every real bounce ours, every forged one not"
is "$(verdicts "$T/sent-only.yaml")" "1-tb=ours 2-postfix=ours 3-gmail=ours 4-cron=ours 5-forged-gmail=backscatter 6-forged-uuid=backscatter 7-forged=backscatter " \
    "sent index alone: the same"
sed 's/^/# /' "$T/scan.log"
grep -q "3-gmail.eml	ours	dsn	$(sed -n 7p "$T/gmail.ids")	original Message-ID is in the sent index: you sent it	" \
    "$T/scan.log"
ok $? "scan names the sent index as the reason"
"$BACKSTOP" explain -r "$T/both.yaml" "$T/b/3-gmail.eml" > "$T/explain"
grep -q "^rule: sent index $T/sent.idx\$" "$T/explain" &&
    grep -q '^sent evidence: sent by you' "$T/explain"
ok $? "explain shows the sent evidence and names the index as the rule"

# deliver: the real Gmail bounce to the inbox, the forged one to Junk
D=$T/deliver
"$BACKSTOP" deliver -d "$D" -r "$T/both.yaml" < "$T/b/3-gmail.eml"
ok $? "deliver of the real Gmail bounce exits 0"
f=$(only_new "$D")
grep -q "^X-Backstop: ours; kind=dsn; original=$(sed -n 7p "$T/gmail.ids"); rule=sent index $T/sent.idx\$" \
    "$f"
ok $? "it is in the inbox, X-Backstop naming the sent index"
"$BACKSTOP" deliver -d "$D" -r "$T/both.yaml" < "$T/b/5-forged-gmail.eml"
ok $? "deliver of the forged Gmail bounce exits 0"
grep -q '^X-Backstop: backscatter; ' "$(only_new "$D/.Junk")"
ok $? "it is in Junk"

# deliver -d: a relative sent folder is looked for in that maildir first
A=$T/alt-maildir
mkdir -p "$A/.Sent/cur" "$A/.Sent/new" "$A/.Sent/tmp"
printf 'From: ann@example.org\nMessage-ID: <only-in-alt-1@laptop.example.org>\n\nx\n' \
    > "$A/.Sent/cur/1770000001.M1P1.laptop:2,S"
printf 'outbound:\n  sent: [.Sent]\n  sent_index: %s\n' "$T/alt.idx" > "$T/alt.yaml"
chmod 600 "$T/alt.yaml"
bounce '<only-in-alt-1@laptop.example.org>' > "$T/alt-bounce.eml"
"$BACKSTOP" deliver -d "$A" -r "$T/alt.yaml" < "$T/alt-bounce.eml"
ok $? "deliver -d with the sent folder in that maildir exits 0"
grep -q '^X-Backstop: ours; kind=dsn; original=<only-in-alt-1@laptop.example.org>' \
    "$(only_new "$A")"
ok $? "... ours: the -d maildir's .Sent was read"
"$BACKSTOP" deliver -d "$T/no-sent-here" -r "$T/alt.yaml" < "$T/b/2-postfix.eml"
grep -q '^X-Backstop: ours; ' "$(only_new "$T/no-sent-here")"
ok $? "a -d maildir without .Sent: ~/Maildir/.Sent is used"

# 6. a stale index is brought up to date; one new file costs one read
printf 'From: ann@example.org\nMessage-ID: <just-sent-1@laptop.example.org>\n\nx\n' \
    > "$MD/.Sent/new/1770000000.M1P1.laptop"
bounce '<just-sent-1@laptop.example.org>' > "$T/just.eml"
is "$("$BACKSTOP" scan -r "$T/sent-only.yaml" "$T/just.eml" | cut -f2)" ours \
    "a message sent after the index was built: ours"
mv "$MD/.Sent/new/1770000000.M1P1.laptop" \
    "$MD/.Sent/cur/1770000000.M1P1.laptop:2,S"
is "$("$BACKSTOP" scan -r "$T/sent-only.yaml" "$T/just.eml" | cut -f2)" ours \
    "still ours once the client moved it to cur/ with flags"

# 7. never a crash, never a real bounce in Junk
# an index of an older version, or damaged: rebuilt from the folders;
# what they hold vouches at once, but the new index has watched nothing
# before today, so nothing is "not sent" (see docs/evidence.md)
printf 'BSSENT1\ngarbage' > "$T/sent.idx"
chmod 600 "$T/sent.idx"
is "$(verdicts "$T/sent-only.yaml")" "1-tb=ours 2-postfix=ours 3-gmail=ours 4-cron=ours 5-forged-gmail=unknown 6-forged-uuid=unknown 7-forged=unknown " \
    "a corrupt index is rebuilt: ours stays ours, nothing is junked"
rm -f "$T/sent.idx"
BACKSTOP_TEST_CLOCK=$WATCHED "$BACKSTOP" check-rules -r "$T/both.yaml" > /dev/null
is "$(verdicts "$T/sent-only.yaml")" "1-tb=ours 2-postfix=ours 3-gmail=ours 4-cron=ours 5-forged-gmail=backscatter 6-forged-uuid=backscatter 7-forged=backscatter " \
    "an index that has watched long enough junks the forged ones again"
# a file that is no index at all (outbound.sent_index naming another
# file) is never overwritten: the rules are in error
head -c 65536 /dev/urandom > "$T/sent.idx"
cp "$T/sent.idx" "$T/random.copy"
is "$(verdicts "$T/sent-only.yaml")" "1-tb=unknown 2-postfix=unknown 3-gmail=unknown 4-cron=unknown 5-forged-gmail=unknown 6-forged-uuid=unknown 7-forged=unknown " \
    "a file of random bytes at the index path: nothing judged by it"
cmp -s "$T/sent.idx" "$T/random.copy"
ok $? "... and it is left as it was, never replaced"
rm -f "$T/sent.idx"
BACKSTOP_TEST_CLOCK=$WATCHED "$BACKSTOP" check-rules -r "$T/both.yaml" > /dev/null
printf 'outbound:\n  sent: true\n  sent_index: %s/no/such/dir/idx\n' "$T" \
    > "$T/ro.yaml"
chmod 600 "$T/ro.yaml"
is "$(verdicts "$T/ro.yaml")" "1-tb=ours 2-postfix=ours 3-gmail=ours 4-cron=ours 5-forged-gmail=unknown 6-forged-uuid=unknown 7-forged=unknown " \
    "an index that cannot be written: answered from memory (watched from now)"
printf 'outbound:\n  sent: [".Nope"]\n  sent_index: %s/nope.idx\n' "$T" \
    > "$T/nope.yaml"
chmod 600 "$T/nope.yaml"
is "$(verdicts "$T/nope.yaml")" "1-tb=unknown 2-postfix=unknown 3-gmail=unknown 4-cron=unknown 5-forged-gmail=unknown 6-forged-uuid=unknown 7-forged=unknown " \
    "sent evidence with no sent folder: unknown, never backscatter"
"$BACKSTOP" scan -r "$T/nope.yaml" "$T/b/3-gmail.eml" | cut -f5 |
    grep -q 'sent index cannot answer: no sent folder found'
ok $? "and the reason says why"
printf 'outbound:\n  sent: maybe\n' > "$T/bad.yaml"
chmod 600 "$T/bad.yaml"
"$BACKSTOP" scan -r "$T/bad.yaml" "$T/just.eml" 2> "$T/bad.err" > /dev/null
is $? 78 "outbound.sent: neither a boolean nor a list is refused"
grep -q 'bad.yaml:2:9: outbound.sent' "$T/bad.err"
ok $? "with FILE:LINE:COLUMN"

# 7b. the sent folders that outbound.sent names are the ones read
O=$T/o; mkdir -p "$O/Maildir/.Outbox/cur" "$O/Maildir/.Outbox/new"
gen 31 6 postfix "$O/Maildir/.Outbox/cur" > "$T/outbox.ids"
printf 'outbound:\n  sent: [".Outbox"]\n  sent_index: %s/o.idx\n' "$T" > "$T/o.yaml"
chmod 600 "$T/o.yaml"
HOME=$O "$BACKSTOP" learn -r "$T/o.yaml" > "$T/o.out" 2> "$T/o.err"
ok $? "learn with outbound.sent: [.Outbox]: exit 0"
grep -q '^backstop learn: 6 sent messages in 1 folder, 6 with a Message-ID$' "$T/o.out" &&
    grep -qx "  folder: $O/Maildir/.Outbox" "$T/o.out"
ok $? "learn reads the folder outbound.sent names"
[ -s "$T/o.err" ] && sed 's/^/# /' "$T/o.err"
HOME=$O "$BACKSTOP" check-rules -r "$T/o.yaml" > "$T/o2.out" 2> "$T/o.err"
ok $? "check-rules with outbound.sent: [.Outbox]: exit 0 (the sent index proves them)"
grep -q '^sent messages: 6 in 1 folder, 6 with a Message-ID$' "$T/o2.out"
ok $? "check-rules reads the folder outbound.sent names"
printf 'outbound:\n  sent: [".Nowhere"]\n  sent_index: %s/o.idx\n' "$T" > "$T/o3.yaml"
chmod 600 "$T/o3.yaml"
HOME=$O "$BACKSTOP" check-rules -r "$T/o3.yaml" > /dev/null 2> "$T/o.err"
is $? 66 "check-rules, the folder outbound.sent names missing: exit 66"
grep -q 'no sent folder found (looked for ".Nowhere" in ~/Maildir, as outbound.sent names them): name one' "$T/o.err"
ok $? "and it says which folder it looked for"

# 7c. what the world saw: replies in the inbox from people written to
# quote the Message-IDs as they left the submission server.  Three sent
# copies lack the ID the server added or rewrote; replies show it.
W=$T/w; WS=$W/Maildir/.Sent/cur; WI=$W/Maildir/cur
mkdir -p "$WS" "$W/Maildir/.Sent/new" "$WI" "$W/Maildir/new"
sent() {	# sent NAME TO SUBJECT DATE [ID]
	{ printf 'From: Ann <ann@example.org>\nTo: %s\nSubject: %s\nDate: %s\n' "$2" "$3" "$4"
	  [ -n "${5:-}" ] && printf 'Message-ID: %s\n' "$5"
	  printf '\nHello.\n'; } > "$WS/$1:2,S"
}
reply() {	# reply NAME FROM SUBJECT DATE IN-REPLY-TO [REFERENCES]
	{ printf 'From: %s\nTo: ann@example.org\nSubject: %s\nDate: %s\n' "$2" "$3" "$4"
	  printf 'Message-ID: <r-%s@mx.example.net>\nIn-Reply-To: %s\n' "$1" "$5"
	  printf 'References: %s\n\nThanks.\n' "${6:-$5}"; } > "$WI/$1:2,S"
}
sent 1.kept bob@example.net plans 'Mon, 5 Jan 2026 10:00:00 +0000' '<k1-20260105@laptop.example.org>'
sent 2.added 'Carol <carol@example.net>' 'lunch on friday' 'Mon, 5 Jan 2026 11:00:00 +0000'
sent 3.added erin@example.com 'invoice 42' 'Mon, 5 Jan 2026 11:05:00 +0000'
sent 4.rewritten dave@example.net report 'Mon, 5 Jan 2026 12:00:00 +0000' '<c1-20260105@laptop.example.org>'
sent 5.noreply frank@example.com 'hello frank' 'Mon, 5 Jan 2026 13:00:00 +0000'
sent 6.thread gina@example.org trip 'Mon, 5 Jan 2026 14:00:00 +0000' '<t1-20260105@laptop.example.org>'
reply a bob@example.net 'Re: plans' 'Mon, 5 Jan 2026 15:00:00 +0000' '<k1-20260105@laptop.example.org>'
reply b 'Carol <Carol@Example.NET>' 'RE: Lunch  on Friday' 'Tue, 6 Jan 2026 09:00:00 +0000' '<20260105110001.4C1A27F3B2@smtp.example.org>'
reply c erin@example.com 'AW: [billing] invoice 42' 'Tue, 6 Jan 2026 09:10:00 +0000' '<20260105110502.7D3E91A0C@smtp.example.org>'
reply d dave@example.net 'Re: report' 'Tue, 6 Jan 2026 09:20:00 +0000' '<20260105120001.AB12CD34E5@smtp.example.org>'
# not evidence: a reply in gina's thread to someone else's message (the
# References name ann's own ID), and a stranger quoting a made-up ID
reply e gina@example.org 'Re: trip' 'Tue, 6 Jan 2026 09:30:00 +0000' '<x77@elsewhere.example>' '<t1-20260105@laptop.example.org> <x77@elsewhere.example>'
reply f spam@spammer.example 'Re: plans' 'Tue, 6 Jan 2026 09:40:00 +0000' '<20260105110001.DEADBEEF01@smtp.example.org>'
HOME=$W "$BACKSTOP" learn -r "$T/w.yaml" > "$T/w.out" 2> "$T/w.err"
ok $? "learn with replies in the inbox: exit 0"
sed 's/^/# /' "$T/w.out"
grep -qx "replies in $W/Maildir from people you wrote to: 5 of 6 messages" "$T/w.out"
ok $? "the replies of people written to are read, the stranger's not"
grep -qx '  1 quote a Message-ID as your sent copy has it' "$T/w.out"
ok $? "a reply quoting the copy's own ID: the server kept it"
grep -qx '  2 answer a sent copy that has no Message-ID: your submission server adds it; the world saw e.g. <20260105110001.4C1A27F3B2@smtp.example.org>' "$T/w.out"
ok $? "replies to copies without an ID: the server adds them, and the ID the world saw"
grep -qx '  1 answer a sent copy by another Message-ID: your submission server rewrites it; e.g. your copy has <c1-20260105@laptop.example.org>, the world saw <20260105120001.AB12CD34E5@smtp.example.org>' "$T/w.out"
ok $? "a reply quoting another ID than the copy's: the server rewrites (a reply in the thread to another message is not one)"
grep -A2 '^proposed: 3 sent messages, e.g. <2026010511.*@smtp.example.org>$' "$T/w.out" |
    grep -qxF "  propose: '^<(?:[0-9]{14}\\.[0-9A-F]{6,21}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,12})@smtp\\.example\\.org>\$'"
ok $? "the server's pattern is proposed from the IDs the world saw"
HOME=$W "$BACKSTOP" learn -r "$T/w.yaml" --write > /dev/null
ok $? "learn --write"
HOME=$W "$BACKSTOP" check-rules -r "$T/w.yaml" > "$T/wc.out"
is $? 1 "check-rules: a sent copy without an ID that no reply shows: exit 1"
sed 's/^/# /' "$T/wc.out"
grep -q '^matched by an outbound pattern: 6 of 6 (100.0%)$' "$T/wc.out"
ok $? "check-rules matches the IDs the world saw too"
grep -q '^sent messages without a Message-ID: 3 .*; 1 of them no reply shows the Message-ID of, so nothing here proves a bounce of them ours$' "$T/wc.out"
ok $? "check-rules: 3 without an ID, 1 of them unproven"
rm "$WS/5.noreply:2,S"
HOME=$W "$BACKSTOP" check-rules -r "$T/w.yaml" > "$T/wc.out"
ok $? "check-rules: once every copy without an ID has a reply showing it: exit 0"

# 7d. no sent folder: the pattern of the host's own mail system, from its
# configuration (Postfix's myhostname; both queue-ID forms)
if [ $POSTCONF = 1 ]; then
	M2=$T/m; mkdir -p "$M2" "$T/pf-vm" "$T/pf-mx"
	echo 'myhostname = vm' > "$T/pf-vm/main.cf"
	printf 'myhostname = mx1.example.net\nenable_long_queue_ids = yes\n' > "$T/pf-mx/main.cf"
	HOME=$M2 MAIL_CONFIG=$T/pf-mx "$BACKSTOP" learn -r "$T/m.yaml" > "$T/m.out" 2> "$T/m.err"
	ok $? "no sent folder, Postfix on the host: learn exits 0"
	sed 's/^/# /' "$T/m.out" "$T/m.err"
	grep -qx 'the local mail system, Postfix (postconf): myhostname = mx1.example.net, enable_long_queue_ids = yes' "$T/m.out"
	ok $? "learn says what it read of Postfix's configuration"
	grep -qxF "  propose: '^<(?:[0-9]{14}\\.[0-9A-F]{6,21}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,12})@mx1\\.example\\.net>\$'" "$T/m.out"
	ok $? "and proposes Postfix's pattern at myhostname"
	HOME=$M2 MAIL_CONFIG=$T/pf-vm "$BACKSTOP" learn -r "$T/m.yaml" > "$T/m.out" 2> "$T/m.err"
	ok $? "myhostname = vm: learn exits 0"
	grep -q '^  why:     vm is a local host name that other machines use too (if every machine that may write it is yours: learn --accept-local)$' "$T/m.out" &&
	    grep -q '^0 patterns proposed' "$T/m.out"
	ok $? "a local host name is flagged, and the way to accept it shown"
	HOME=$M2 MAIL_CONFIG=$T/pf-vm "$BACKSTOP" learn -r "$T/m.yaml" --accept-local --write > "$T/m.out" 2> "$T/m.err"
	ok $? "learn --accept-local --write: exit 0"
	grep -q '^  note:    accepted with --accept-local, although vm is a local host name' "$T/m.out" &&
	    grep -q "^added 1 pattern to $T/m.yaml\$" "$T/m.out"
	ok $? "the accepted pattern is written, the reason shown"
	sed 's/^/# /' "$T/m.out" "$T/m.yaml"
	mkdir "$T/mb"
	bounce '<20260107080910.1A2B3C4D5E@vm>' > "$T/mb/1-short.eml"
	bounce '<4bQ9Xk1BcDz3Gh@vm>' > "$T/mb/2-long.eml"
	bounce '<20260107080910.1A2B3C4D5E@vm.example.com>' > "$T/mb/3-forged.eml"
	is "$("$BACKSTOP" scan -r "$T/m.yaml" "$T/mb" | cut -f2 | tr '\n' ' ')" "ours ours backscatter " \
	    "bounces of Postfix's short and long queue IDs are ours, another host's not"
else
	for i in 1 2 3 4 5 6 7 8; do ok 0 "# SKIP no /usr/sbin/postconf"; done
fi

# 8. 100,000 sent Message-IDs: delivery still works, and what it costs
BIG=${BACKSTOP_TEST_SENT_IDS:-100000}
# 100,000 small files are 400 MB of ext4 blocks whose writeback would
# stall every fsync of the deliveries measured below: on tmpfs if we can
H=$T/big
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    H=$(mktemp -d /dev/shm/backstop-test.XXXXXX); then
	trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T" "$H"' EXIT
else
	H=$T/big
fi
mkdir -p "$H/Maildir/.Sent/cur"
gen 21 "$BIG" tb "$H/Maildir/.Sent/cur" > "$T/big.ids"
printf 'outbound:\n  sent: true\n  sent_index: %s/big.idx\n' "$T" \
    > "$T/big.yaml"
printf 'outbound:\n  message_id:\n    - %s\n' \
    "'^<[0-9]{14}\\.[0-9A-F]{6,13}@mail\\.example\\.org>\$'" \
    > "$T/pat.yaml"
chmod 600 "$T/big.yaml" "$T/pat.yaml"
HOME=$H BACKSTOP_TEST_CLOCK=$WATCHED "$BACKSTOP" check-rules \
    -r "$T/big.yaml" > "$T/big.out"
ok $? "check-rules on $BIG sent messages builds the index"
grep -q "^sent index: $T/big.idx: $BIG Message-IDs" "$T/big.out"
ok $? "the index holds $BIG Message-IDs ($(stat -c %s "$T/big.idx") bytes)"
bounce "$(sed -n "$((BIG / 2))p" "$T/big.ids")" > "$T/big-ours.eml"
HOME=$H "$BACKSTOP" deliver -d "$T/bigmd" -r "$T/big.yaml" \
    < "$T/big-ours.eml"
ok $? "deliver with the big index exits 0"
grep -q '^X-Backstop: ours; .*rule=sent index' "$(only_new "$T/bigmd")"
ok $? "a bounce of one of the $BIG sent messages is ours"
HOME=$H "$BACKSTOP" deliver -d "$T/bigmd" -r "$T/big.yaml" \
    < "$T/b/6-forged-uuid.eml"
grep -q '^X-Backstop: backscatter; ' "$(only_new "$T/bigmd/.Junk")"
ok $? "a forged bounce is backscatter"
# cost: N deliveries of the forged bounce, with the index and with a
# pattern only (reported, never asserted: timing depends on the machine)
ms() { echo $(( $(date +%s%N) / 1000000 )); }
N=20
sync
for rules in big pat; do
	t0=$(ms)
	i=0
	while [ $i -lt $N ]; do
		HOME=$H "$BACKSTOP" deliver -d "$T/cost-$rules" \
		    -r "$T/$rules.yaml" < "$T/b/6-forged-uuid.eml" || break
		i=$((i + 1))
	done
	t1=$(ms)
	eval "cost_$rules=\$(( (t1 - t0) * 1000 / N ))"
done
diag "deliver of a forged bounce, mean of $N: with a sent index of $BIG" \
    "ids ${cost_big} us, with a pattern only ${cost_pat} us"
printf 'From: ann@example.org\nMessage-ID: <late-1@laptop.example.org>\n\nx\n' \
    > "$H/Maildir/.Sent/cur/1780000000.late:2,S"
bounce '<late-1@laptop.example.org>' > "$T/late.eml"
t0=$(ms)
HOME=$H "$BACKSTOP" deliver -d "$T/bigmd" -r "$T/big.yaml" < "$T/late.eml"
t1=$(ms)
grep -q '^X-Backstop: ours; ' "$(ls -t "$T"/bigmd/new/* | head -1)"
ok $? "one message added to the $BIG: its bounce is ours"
diag "that delivery, which extended the index: $((t1 - t0)) ms"

done_testing
