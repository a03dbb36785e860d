#!/bin/sh
# Sound verdicts (issue 20): no real bounce or auto-reply of the user's
# own mail goes to Junk, whatever the evidence says.  The rule checked:
# positive evidence wins; "backscatter" needs every configured source
# that could vouch to have answered, none vouching, and a strong bounce
# signal -- on the recipients alone, a delivery report from a mail
# system.  One realistic scenario per way the evidence can be wrong:
# real MIME, a Sent folder written the way clients write it, dates
# relative to now, the user's rules with outbound: {sent: true,
# recipients: true} as docs/evidence.md suggests.  Each of them landed
# in .Junk with the code before issue 20.
. "$(dirname "$0")/../lib.sh"
scratch; [ -n "$KEEP" ] && trap - EXIT
export TZ=UTC LC_ALL=C
unset BACKSTOP_LOG_STDERR
NOW=$(date +%s)
WATCHED=$((NOW - 90 * 86400))	# backstop has watched the folders 90 days
day() { date -R -d "@$(($NOW + $1))"; }	# day SECONDS-FROM-NOW
D=86400

# user NAME [EXTRA-RULES]: a fresh home with ~/Maildir/.Sent and rules
user() {
	U=$T/$1
	export HOME=$U
	S=$U/Maildir/.Sent
	mkdir -p "$S/cur" "$S/new" "$S/tmp" "$U/Maildir/cur" "$U/Maildir/new" \
	    "$U/Maildir/tmp"
	rules "$U/rules.yaml" <<EOR
outbound:
  sent: true
  recipients: true
$2
EOR
	n=0
	# an older copy with a Message-ID: the index holds ids at all
	sent_copy "<old.1@laptop.example.org>" "someone@else.example" \
	    "$(day $((-80 * D)))"
}
# sent_copy ID|- TO DATE: a copy in the Sent folder as a client saves it
sent_copy() {
	n=$((n + 1))
	f=$S/cur/$((NOW - 100000 + n)).M${n}P1.laptop:2,S
	{
		printf 'From: User <user@example.org>\nTo: %s\nDate: %s\n' "$2" "$3"
		[ "$1" = - ] || printf 'Message-ID: %s\n' "$1"
		printf 'Subject: hello\nMIME-Version: 1.0\nContent-Type: text/plain\n\nhi\n'
	} > "$f"
	# listed before, not in the racy second
	touch -d "@$((NOW - 3600))" "$S/cur" "$S/new"
}
# watch: the index, built 90 days ago (as if backstop had run since)
watch() {
	BACKSTOP_TEST_CLOCK=$WATCHED "$BACKSTOP" check-rules \
	    -r "$U/rules.yaml" > /dev/null 2>&1
	[ -f "$U/.backstop-sent.idx" ]
}
# dsn RCPT DATE [ID [ODATE]]: a Postfix-like DSN for RCPT, with the
# returned header (its Message-ID and Date when given)
dsn() {
	cat <<EOF
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.partner.example>
To: user@example.org
Date: $2
Subject: Undelivered Mail Returned to Sender
Message-ID: <$$.$(date +%N).report@mx.partner.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

This is the mail system at host mx.partner.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<$1>: host mx.partner.example said: 550 5.1.1 User unknown

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.partner.example

Final-Recipient: rfc822; $1
Action: failed
Status: 5.1.1

--b1
Content-Type: text/rfc822-headers

From: User <user@example.org>
To: $1
Subject: hello
${4:+Date: $4
}${3:+Message-ID: $3
}
--b1--
EOF
}
# verdict FILE: where deliver filed it: inbox, junk, or "exit N"
verdict() {
	"$BACKSTOP" deliver -r "$U/rules.yaml" < "$1" 2> "$T/err"
	rc=$?
	[ $rc -eq 0 ] || { echo "exit $rc"; return; }
	f=$(ls -t "$U"/Maildir/new/* "$U"/Maildir/.Junk/new/* 2>/dev/null |
	    head -n 1)
	case $f in */.Junk/*) echo junk ;; *) echo inbox ;; esac
	head -n 1 "$f" > "$T/xb"
}
notjunk() {	# notjunk FILE DESCRIPTION
	v=$(verdict "$1")
	case $v in inbox) ok 0 "$2 ($(cut -c1-60 "$T/xb"))" ;;
	*) ok 1 "$2"; diag "got: $v: $(cat "$T/xb")" ;; esac
}

# 1. an out-of-office reply from a member of a list the user posted to:
# a normal sender, Auto-Submitted, no In-Reply-To; the user never wrote
# to the member
user ooo
sent_copy "<post.1@laptop.example.org>" "team-list@lists.example" "$(day $((-2 * D)))"
watch
cat > "$T/ooo.eml" <<EOF
Return-Path: <dana@member.example>
From: Dana Member <dana@member.example>
To: User <user@example.org>
Date: $(day -600)
Subject: Out of Office: [team] hello
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Message-ID: <oof.1@member.example>
Content-Type: text/plain

I am out of the office until Monday.
EOF
notjunk "$T/ooo.eml" "an out-of-office reply of a list member: not in Junk"

# 2. a vendor's auto-acknowledgement from support@ after the user wrote
# to help@
user ack
sent_copy "<ask.1@laptop.example.org>" "help@vendor.example" "$(day -7200)"
watch
cat > "$T/ack.eml" <<EOF
Return-Path: <support@vendor.example>
From: Vendor Support <support@vendor.example>
To: user@example.org
Date: $(day -3600)
Subject: [Ticket #4711] We have received your request
Auto-Submitted: auto-replied
Message-ID: <ticket.4711@vendor.example>
Content-Type: text/plain

Thank you, your request has been received.
EOF
notjunk "$T/ack.eml" "a vendor's auto-acknowledgement: not in Junk"

# 3. a read receipt for a message sent five weeks earlier, whose
# Message-ID the submission server rewrote
user mdn
sent_copy "<client.7@laptop.example.org>" "carol@partner.example" "$(day $((-35 * D)))"
watch
cat > "$T/mdn.eml" <<EOF
From: Carol <carol@partner.example>
To: user@example.org
Date: $(day -60)
Subject: Read: hello
Message-ID: <mdn.1@partner.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="m1"

--m1
Content-Type: text/plain

Your message was displayed.
--m1
Content-Type: message/disposition-notification

Reporting-UA: partner.example; Mail
Final-Recipient: rfc822; carol@partner.example
Original-Message-ID: <20261001.ABCDEF@submit.example.org>
Disposition: manual-action/MDN-sent-manually; displayed
--m1--
EOF
notjunk "$T/mdn.eml" "a read receipt weeks later, the id rewritten: not in Junk"

# 4. the submission server added the Message-ID (the client sent none)
user added
sent_copy - "bob@partner.example" "$(day -5400)"
watch
dsn bob@partner.example "$(day -600)" "<20261207.1A2B3C@submit.example.org>" \
    "$(day -5400)" > "$T/added.eml"
notjunk "$T/added.eml" "the server added the Message-ID: ours by the recipient"
grep -q '^X-Backstop: ours;' "$T/xb"; ok $? "... and ours, not only unknown"

# 5. the submission server rewrote the Message-ID
user rewritten
sent_copy "<client.9@laptop.example.org>" "bob@partner.example" "$(day -5400)"
watch
dsn bob@partner.example "$(day -600)" "<20261207.9F8E7D@submit.example.org>" \
    "$(day -5400)" > "$T/rewritten.eml"
notjunk "$T/rewritten.eml" "the server rewrote the Message-ID: ours by the recipient"

# 6. the report's own Date is 30 days old (a remote clock, a long queue)
user oldclock
sent_copy "<c.10@laptop.example.org>" "erin@partner.example" "$(day $((-2 * D)))"
watch
dsn erin@partner.example "$(day $((-30 * D)))" > "$T/oldclock.eml"
notjunk "$T/oldclock.eml" "a report dated 30 days ago, arriving now: not in Junk"

# 7. the Sent copy is dated two days after the report (the user's clock
# fast)
user fastclock
sent_copy "<c.11@laptop.example.org>" "frank@partner.example" "$(day $((2 * D)))"
watch
dsn frank@partner.example "$(day -60)" > "$T/fastclock.eml"
notjunk "$T/fastclock.eml" "a Sent copy dated after the report: not in Junk"

# 8. an internationalised domain, in both directions
user idn
sent_copy "<c.12@laptop.example.org>" "Kai <kai@Bücher.example>" "$(day -5400)"
sent_copy "<c.13@laptop.example.org>" "lena@xn--mnchen-3ya.example" "$(day -5400)"
watch
dsn kai@xn--bcher-kva.example "$(day -600)" > "$T/idn1.eml"
notjunk "$T/idn1.eml" "written to the U-label, the report names the A-label"
dsn lena@münchen.example "$(day -600)" > "$T/idn2.eml"
notjunk "$T/idn2.eml" "written to the A-label, the report names the U-label"

# 9. subaddresses, in both directions
user plus
sent_copy "<c.14@laptop.example.org>" "grace+news@partner.example" "$(day -5400)"
sent_copy "<c.15@laptop.example.org>" "hugo@partner.example" "$(day -5400)"
watch
dsn grace@partner.example "$(day -600)" > "$T/plus1.eml"
notjunk "$T/plus1.eml" "written to grace+news@, the report names grace@"
dsn hugo+lists@partner.example "$(day -600)" > "$T/plus2.eml"
notjunk "$T/plus2.eml" "written to hugo@, the report names hugo+lists@"

# 10. an alias that expanded: written to team@corp, the report names
# ivan@corp
user alias
sent_copy "<c.16@laptop.example.org>" "team@corp.example" "$(day -5400)"
watch
dsn ivan@corp.example "$(day -600)" > "$T/alias.eml"
notjunk "$T/alias.eml" "an alias expanded to an address never typed: not in Junk"

# 11. the Sent copy archived after the index was rebuilt (by hand, or
# after damage): a thinned folder is no proof
user thinned
sent_copy "<c.17@laptop.example.org>" "jo@partner.example" "$(day $((-3 * D)))"
rm -f "$S"/cur/*M2P1*	# archived 3 days later ...
rm -f "$U/.backstop-sent.idx"
"$BACKSTOP" check-rules -r "$U/rules.yaml" > /dev/null 2>&1	# ... rebuilt today
dsn jo@partner.example "$(day -600)" "<c.17@laptop.example.org>" \
    "$(day $((-3 * D)))" > "$T/thinned.eml"
notjunk "$T/thinned.eml" "a copy deleted before the index was rebuilt: not in Junk"

# 12. a report about a message sent a minute ago, whose copy the client
# has not saved yet (a message-too-large rejection during the APPEND)
user unsaved
watch
dsn kim@partner.example "$(day -10)" "<big.1@laptop.example.org>" \
    "$(day -60)" > "$T/unsaved.eml"
notjunk "$T/unsaved.eml" "a report of a message a minute old, not saved yet: not in Junk"
# ... and ten minutes into the IMAP APPEND of a big message: the IMAP
# server writes it in the Sent folder's tmp/ until it is whole
head -c 300000 /dev/zero | tr '\0' x > "$S/tmp/$NOW.M1P99.imap"
dsn kim@partner.example "$(day -10)" "<big.2@laptop.example.org>" \
    "$(day -600)" > "$T/uploading.eml"
notjunk "$T/uploading.eml" "a report while the Sent copy is being uploaded: not in Junk"
rm -f "$S/tmp/$NOW.M1P99.imap"
is "$(verdict "$T/uploading.eml")" junk "the upload over and no copy of it: Junk"

# 13. the index's data damaged on disk, its header and stamps intact:
# the hash of the one Message-ID replaced by garbage where it stands
user damaged
sent_copy "<c.18@laptop.example.org>" "lou@partner.example" "$(day $((-20 * D)))"
watch
python3 - "$U/.backstop-sent.idx" "c.18@laptop.example.org" <<'EOP'
import sys, struct
M = (1 << 64) - 1
def mix(h):
    h ^= h >> 33; h = (h * 0xff51afd7ed558ccd) & M
    h ^= h >> 33; h = (h * 0xc4ceb9fe1a85ec53) & M
    return h ^ (h >> 33)
h = 0xcbf29ce484222325
for c in sys.argv[2].encode():
    h = ((h ^ c) * 0x100000001b3) & M
h = mix(h) or 1
b = bytearray(open(sys.argv[1], "rb").read())
k = struct.pack("<Q", h)
i = b.find(k)
assert i > 0, "hash not found"
b[i:i + 8] = struct.pack("<Q", h ^ 0x5a5a5a5a5a5a5a5a)
open(sys.argv[1], "wb").write(b)
EOP
ok $? "the index's entry for the message overwritten in place"
dsn lou@partner.example "$(day -600)" "<c.18@laptop.example.org>" \
    "$(day $((-20 * D)))" > "$T/damaged.eml"
notjunk "$T/damaged.eml" "an index with damaged data: not in Junk"

# 14. a change to the Sent folder whose directory mtime was set back
# (a restore, rsync -t): the ctime still tells
user mtime
sent_copy "<c.19@laptop.example.org>" "max@partner.example" "$(day $((-20 * D)))"
watch
old=$(stat -c %Y "$S/cur")
printf 'From: user@example.org\nTo: nina@partner.example\nDate: %s\nMessage-ID: <c.20@laptop.example.org>\n\nx\n' \
    "$(day -5400)" > "$S/cur/$NOW.M99P1.laptop:2,S"
touch -d "@$old" "$S/cur"
dsn nina@partner.example "$(day -600)" "<c.20@laptop.example.org>" \
    "$(day -5400)" > "$T/mtime.eml"
notjunk "$T/mtime.eml" "a Sent folder changed with its mtime set back: not in Junk"

# 15. outbound.sent_index naming a file that is not an index: never
# overwritten; the message is delivered as with broken rules
user notes "  sent_index: ~/notes.txt"
echo "my notes, keep them" > "$U/notes.txt"
cp "$U/notes.txt" "$T/notes.copy"
dsn olga@partner.example "$(day -600)" "<x.1@spam.example>" \
    "$(day -3600)" > "$T/notes.eml"
v=$(verdict "$T/notes.eml")
is "$v" inbox "sent_index naming ~/notes.txt: the bounce in the inbox"
grep -q '^X-Backstop: error; rules not used: .*rules.yaml:4: .*notes.txt exists and is not a backstop sent index' "$T/xb"
ok $? "... X-Backstop: error naming FILE:LINE$(cut -c1-50 "$T/xb" | sed 's/^/: /')"
cmp -s "$U/notes.txt" "$T/notes.copy"; ok $? "... and the notes are as they were"
"$BACKSTOP" check-config -r "$U/rules.yaml" > /dev/null 2> "$T/cc"
is $? 78 "check-config: exit 78"
grep -q 'rules.yaml:4: outbound.sent_index: .*notes.txt exists and is not a backstop sent index' "$T/cc"
ok $? "check-config names it"
user selfidx "  sent_index: ~/rules.yaml"
cp "$U/rules.yaml" "$T/rules.copy"
verdict "$T/notes.eml" > /dev/null
cmp -s "$U/rules.yaml" "$T/rules.copy"
ok $? "sent_index naming the rule file itself: the rules are as they were"

# 16. a dangling symlink in the Sent folder: skipped with a log line, the
# other evidence still answers
user dangling
ln -s /nonexistent/gone "$S/cur/$NOW.M77P1.laptop:2,S"
touch -h -d "@$((NOW - 3600))" "$S/cur"
touch -d "@$((NOW - 3600))" "$S/cur"
watch
dsn pat@partner.example "$(day -600)" "<x.2@spam.example>" \
    "$(day -3600)" > "$T/dangling.eml"
is "$(verdict "$T/dangling.eml")" junk \
    "a dangling link in Sent: a forged bounce still judged (Junk)"
"$BACKSTOP" check-config -r "$U/rules.yaml" > "$T/cc.out" 2> "$T/cc"
grep -q "warning: sent folder file .*M77P1.laptop:2,S: a dangling link: skipped" "$T/cc"
ok $? "check-config lists the dangling link"
grep -q '^  holds .* 1 files skipped$' "$T/cc.out"
ok $? "check-config: the index counts it skipped"

# 17. a Sent copy that crashes or hangs the reader: that bounce at most
# unknown (stored, exit 0, never deferred), a log line naming the copy;
# the copy is left out of the next try, and counted as skipped
user crash
sent_copy "<c.21@laptop.example.org>" "quinn@partner.example" "$(day -5400)"
sed -i 's/^Subject: hello$/Subject: hello\nX-Backstop-Test: inject/' "$f"
touch -d "@$((NOW - 3600))" "$S/cur"
dsn rita@partner.example "$(day -600)" "<x.3@spam.example>" \
    "$(day -3600)" > "$T/crash.eml"
BACKSTOP_TEST_INJECT=sent-crash BACKSTOP_LOG_STDERR=1 "$BACKSTOP" deliver \
    -r "$U/rules.yaml" < "$T/crash.eml" 2> "$T/crash.err"
is $? 0 "deliver with a copy that crashes the reader: exit 0, not deferred"
f=$(ls -t "$U"/Maildir/new/* "$U"/Maildir/.Junk/new/* 2>/dev/null | head -n 1)
case $f in */Maildir/new/*) r=0 ;; *) r=1 ;; esac
ok $r "... stored in the inbox"
grep -q 'the reader crashed reading .*M2P1.laptop' "$T/crash.err"
ok $? "... and the crash logged with the file"
"$BACKSTOP" check-config -r "$U/rules.yaml" > "$T/cc.out" 2>&1
grep -q '^  holds .* 1 files skipped$' "$T/cc.out"
ok $? "the copy is left out afterwards, counted skipped"
user hang
rules "$U/rules.yaml" <<EOR
outbound:
  sent: true
  recipients: true
limits:
  timeout: 4s
EOR
sent_copy "<c.22@laptop.example.org>" "quinn@partner.example" "$(day -5400)"
sed -i 's/^Subject: hello$/Subject: hello\nX-Backstop-Test: inject/' "$f"
touch -d "@$((NOW - 3600))" "$S/cur"
t0=$(date +%s)
BACKSTOP_TEST_INJECT=sent-hang "$BACKSTOP" deliver -r "$U/rules.yaml" \
    < "$T/crash.eml"
is $? 0 "deliver with a copy that hangs the reader: exit 0"
[ $(($(date +%s) - t0)) -lt 30 ]
ok $? "... within the deadline, not the 600 s of a delivery"
f=$(ls -t "$U"/Maildir/new/* "$U"/Maildir/.Junk/new/* 2>/dev/null | head -n 1)
case $f in */Maildir/new/*) r=0 ;; *) r=1 ;; esac
ok $r "... stored in the inbox"

# 18. an enumerated key with a value it does not know is refused
user maybe "  recipients_unmatched: maybe"
"$BACKSTOP" check-config -r "$U/rules.yaml" > /dev/null 2> "$T/cc"
grep -q "rules.yaml:4:.*'maybe' is neither" "$T/cc"; ok $? "recipients_unmatched: maybe is refused"

# 19. what must still be junked: a forged DSN naming a recipient never
# written to, from a mature index; the same with the original's id
user forged
sent_copy "<c.23@laptop.example.org>" "sam@partner.example" "$(day $((-20 * D)))"
watch
dsn victim@random.example "$(day -600)" > "$T/forged1.eml"
is "$(verdict "$T/forged1.eml")" junk "a forged DSN without a Message-ID: Junk"
dsn victim2@random.example "$(day -600)" "<f00d.1@spam.example>" \
    "$(day -7200)" > "$T/forged2.eml"
is "$(verdict "$T/forged2.eml")" junk "a forged DSN with the spam's Message-ID: Junk"
done_testing
