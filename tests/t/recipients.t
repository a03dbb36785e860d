#!/bin/sh
# Recipient evidence (issue 14): a bounce that quotes no Message-ID is
# judged by its counterpart addresses against whom the user wrote to,
# as the sent index records it.
. "$(dirname "$0")/../lib.sh"
scratch; [ -n "$KEEP" ] && trap - EXIT
export HOME="$T/home"
mkdir -p "$HOME/Maildir"

# sent DIR N TO DATE: one sent message N to TO, dated DATE
sent() {
	mkdir -p "$1/cur" "$1/new" "$1/tmp"
	printf 'From: user@example.org\nTo: %s\nDate: %s\nMessage-ID: <sent%s@example.org>\nSubject: hi\n\nhello\n' \
	    "$3" "$4" "$2" > "$1/cur/100000$2.M1P1.host:2,S"
}
# rulesfor NAME SENTDIR [EXTRA]: rules with recipient evidence on
rulesfor() {
	rules "$T/$1.yaml" <<EOR
outbound:
  sent: [ "$2" ]
  sent_index: $T/$1.idx
  recipients: true
$3
EOR
}
verdict() { "$BACKSTOP" scan -r "$T/$1.yaml" "$2" | cut -f2; }
# watched NAME [EPOCH]: the index of rules NAME built at EPOCH (by default
# 1 Jun 2025), as if backstop had watched the sent folder since then: an
# index says "never written to" only for a time it has watched
# (BACKSTOP_TEST_CLOCK: a static binary takes no preloaded clock)
watched() {
	BACKSTOP_TEST_CLOCK=${2:-1748736000} "$BACKSTOP" scan -r "$T/$1.yaml" \
	    "$NDR" > /dev/null
}
NDR=$FIX/ndr-no-msgid-recipient.eml
ALIAS=$FIX/dsn-no-msgid-alias.eml
OLD="Sat, 01 Jan 2000 00:00:00 +0000"	# the history reaches back

# 1. the key needs the sent index
rules "$T/nosent.yaml" <<EOR
outbound:
  message_id: [ '^<x@y>\$' ]
  recipients: true
EOR
"$BACKSTOP" explain -r "$T/nosent.yaml" "$NDR" > "$T/out" 2>&1
grep -q "^rules error: $T/nosent.yaml:3: outbound.recipients needs outbound.sent" "$T/out"
ok $? "outbound.recipients without outbound.sent: refused at FILE:LINE"

# 2. the counterparts: 6th column of scan
is "$("$BACKSTOP" scan "$NDR" "$ALIAS" | cut -f6 | tr '\n' ' ')" \
    "bob@partner.example bob@elsewhere.example,team@partner.example " \
    "scan's 6th column: the failed recipients (Final- and Original-Recipient)"
is "$("$BACKSTOP" scan "$FIX/ham-bugzilla-daemon.eml" | cut -f6)" "-" \
    "scan's 6th column: - for ordinary mail"

# 3. written to 5 days before the bounce: ours
S=$T/s1; sent "$S" 1 "Bob <bob@partner.example>" "Wed, 25 Feb 2026 09:00:00 +0000"
sent "$S" 2 "someone@else.example" "$OLD"
rulesfor r1 "$S"
is "$(verdict r1 "$NDR")" ours "written to 5 days before: ours"
"$BACKSTOP" explain -r "$T/r1.yaml" "$NDR" > "$T/out"
grep -q '^  bob@partner.example (a recipient line of the report.s text): you wrote to it$' "$T/out"
ok $? "explain: where the address was found and what the index said"
grep -q '^header added: X-Backstop: ours; kind=ndr; original=-; rule=sent index .*; evidence=recipient$' "$T/out"
ok $? "X-Backstop names the recipient evidence"
! grep -qa 'partner.example' "$T/r1.idx"
ok $? "the index holds no address in the clear"

# 4. the window: 20 days before is outside it; 1 day after is skew
S=$T/s2; sent "$S" 1 "bob@partner.example" "Tue, 10 Feb 2026 09:00:00 +0000"
sent "$S" 2 "someone@else.example" "$OLD"
rulesfor r2new "$S"
is "$(verdict r2new "$NDR")" unknown "an index built today cannot say never for February"
rulesfor r2 "$S"
watched r2
is "$(verdict r2 "$NDR")" backscatter "written to only 20 days before: backscatter"
S=$T/s3; sent "$S" 1 "bob@partner.example" "Tue, 03 Mar 2026 08:00:00 +0000"
sent "$S" 2 "someone@else.example" "$OLD"
rulesfor r3 "$S"
is "$(verdict r3 "$NDR")" ours "written to a day after (clock skew): ours"

# 4b. deliver decides the same: it asks extraction for the counterparts
# only when the rules judge by recipients, so check that it does
rm -rf "$T/dm"
"$BACKSTOP" deliver -d "$T/dm" -r "$T/r1.yaml" < "$NDR"
is $? 0 "deliver, recipients on, written to: exit 0"
f=$(only_new "$T/dm")
head -1 "$f" | grep -q '^X-Backstop: ours; kind=ndr; original=-; rule=sent index .*; evidence=recipient$'
ok $? "deliver, written to: inbox, X-Backstop: ours by the recipient evidence"
"$BACKSTOP" deliver -d "$T/dm" -r "$T/r2.yaml" < "$NDR"
f=$(only_new "$T/dm/.Junk")
head -1 "$f" | grep -q '^X-Backstop: backscatter; kind=ndr; original=-; rule=.*evidence=recipient$'
ok $? "deliver, never written to in the window: .Junk by the recipient evidence"

# 5. never written to, but the policy says unknown
rulesfor r4 "$T/s2" "  recipients_unmatched: unknown"
watched r4
is "$(verdict r4 "$NDR")" unknown "recipients_unmatched: unknown keeps it unknown"

# 6. a sent history that starts inside the window cannot say "never"
S=$T/s5; sent "$S" 1 "carol@third.example" "Sat, 28 Feb 2026 09:00:00 +0000"
rulesfor r5 "$S"
is "$(verdict r5 "$NDR")" unknown "sent folder younger than the window: unknown"

# 7. aliases: the Original-Recipient is what the user wrote to
S=$T/s6; sent "$S" 1 "team@partner.example" "Sun, 01 Mar 2026 09:00:00 +0000"
sent "$S" 2 "someone@else.example" "$OLD"
rulesfor r6 "$S"
is "$(verdict r6 "$ALIAS")" ours "alias expanded: Original-Recipient matches: ours"

# 8. the domain, when the rules say so
S=$T/s7; sent "$S" 1 "carol@partner.example" "Sun, 01 Mar 2026 09:00:00 +0000"
sent "$S" 2 "someone@else.example" "$OLD"
rulesfor r7 "$S"
watched r7
is "$(verdict r7 "$NDR")" unknown "another address of the domain: unknown by default (an alias may have expanded)"
rulesfor r8 "$S" "  recipients_domain: true"
is "$(verdict r8 "$NDR")" ours "recipients_domain: true: the domain is enough"

# 9. the Message-ID stays the stronger evidence
rules "$T/r9.yaml" <<EOR
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]+@mail\.example\.org>\$'
  sent: [ "$T/s2" ]
  sent_index: $T/r9.idx
  recipients: true
EOR
is "$(verdict r9 "$FIX/dsn-ours.eml")" ours "a Message-ID of ours stays ours whoever the recipient"

# 10. real mail is never taken for a bounce (the ham corpus, the fixtures)
for d in "$CORPUS/ham" "$FIX"/ham-*.eml; do [ -e "$d" ] && set -- "$@" "$d"; done
n=$("$BACKSTOP" scan -r "$T/r2.yaml" "$@" | awk -F'\t' '$2 != "not-bounce"' | wc -l)
is "$n" 0 "ham: nothing is a bounce, so nothing is judged by recipient"

# 11. check-rules counts what the recipient evidence would decide
M=$HOME/Maildir
mkdir -p "$M/cur" "$M/new" "$M/tmp"
cp "$NDR" "$M/new/1.M1P1.host"
cp "$ALIAS" "$M/new/2.M1P1.host"
cp "$FIX/ham-bugzilla-daemon.eml" "$M/new/3.M1P1.host"
cp -r "$T/s1" "$M/.Sent"
rules "$T/cr.yaml" <<EOR
outbound:
  sent: true
  sent_index: $T/cr.idx
  recipients: true
EOR
watched cr
"$BACKSTOP" check-rules -r "$T/cr.yaml" > "$T/out" 2>"$T/err"; cat "$T/err" >&2
# the second names team@partner.example, and bob@partner.example was
# written to: an alias may have expanded, so it stays unknown
grep -q '^recipient evidence: decides 1 of the 2 bounces in your inbox and .Junk (ours 1, backscatter 0); 1 stay unknown$' "$T/out"
ok $? "check-rules: how many bounces the recipient evidence decides"

# 12. the decisions on the corpus: a Sent folder that wrote to every
# other no-Message-ID bounce's first counterpart, at its own Date:
B=$CORPUS/sisimai/bounces
if [ -d "$B" ]; then
	"$BACKSTOP" scan "$B" | awk -F'\t' '$4 == "-" && $6 != "-" && $3 != "none"' \
	    > "$T/nomsgid.tsv"
	S=$T/corp; sent "$S" 0 "someone@else.example" "$OLD"
	i=0; : > "$T/written"
	while IFS='	' read -r f v k id why addrs; do
		i=$((i + 1))
		[ $((i % 2)) -eq 0 ] || continue
		d=$(sed -n '/^$/q; s/^[Dd]ate:[ 	]*//p' "$f" | head -n 1 | tr -d '\r')
		[ -n "$d" ] || d=$(date -R)
		sent "$S" "$i" "${addrs%%,*}" "$d"
		echo "$f" >> "$T/written"
	done < "$T/nomsgid.tsv"
	rulesfor corp "$S"
	watched corp 631152000	# 1 Jan 1990: before every report's Date
	# each report judged as it arrived: an hour after its own Date
	: > "$T/corp.out"
	while IFS='	' read -r f rest; do
		d=$(sed -n '/^$/q; s/^[Dd]ate:[ 	]*//p' "$f" | head -n 1 | tr -d '\r')
		c=$(date -d "$d" +%s 2>/dev/null) || c=
		BACKSTOP_TEST_CLOCK=${c:+$((c + 3600))} "$BACKSTOP" scan \
		    -r "$T/corp.yaml" "$f" >> "$T/corp.out"
	done < "$T/nomsgid.tsv"
	total=$(wc -l < "$T/nomsgid.tsv")
	# right: ours when written to; when not, backscatter -- or unknown
	# where the rule says so: an auto-reply or a complaint is never junked
	# on its recipients alone, nor a report naming a domain written to
	spec='never junked on its recipients alone|alias or a list may have expanded'
	right=$(awk -F'\t' -v spec="$spec" 'NR == FNR { w[$1] = 1; next }
	    ($1 in w && $2 == "ours") || (!($1 in w) && $2 == "backscatter") ||
	    (!($1 in w) && $2 == "unknown" && $5 ~ spec)' \
	    "$T/written" "$T/corp.out" | wc -l)
	junked=$(awk -F'\t' '$2 == "backscatter"' "$T/corp.out" | wc -l)
	byrule=$(awk -F'\t' -v spec="$spec" '$2 == "unknown" && $5 ~ spec' \
	    "$T/corp.out" | wc -l)
	diag "corpus: filed backscatter $junked, unknown by the rule $byrule"
	wrong=$(awk -F'\t' 'NR == FNR { w[$1] = 1; next }
	    $1 in w && $2 == "backscatter"' "$T/written" "$T/corp.out" | wc -l)
	diag "corpus: $total no-Message-ID bounces with a counterpart, $(wc -l < "$T/written") written to, $right decided right, $wrong of the written filed backscatter"
	[ "$total" -gt 0 ] && [ $((right * 100)) -ge $((total * 90)) ]
	ok $? "corpus: >= 90% of the no-Message-ID bounces decided right ($right of $total)"
	is "$wrong" 0 "corpus: no bounce of mail the user sent filed as backscatter"
fi
# 13. a large index: the lookups start from an interpolated guess (the
# hashes spread evenly) and must find every id and every recipient that
# is there, and nothing that is not
S=$T/big; mkdir -p "$S/cur" "$S/new" "$S/tmp"
python3 - "$S/cur" <<'EOP'
import sys
d = sys.argv[1]
for i in range(3000):
    with open("%s/2%09d.M1P1.host:2,S" % (d, i), "w") as f:
        f.write("From: user@example.org\nTo: r%d@big%d.example\n"
                "Date: Wed, 25 Feb 2026 09:00:00 +0000\n"
                "Message-ID: <big%d.x@sent.example>\nSubject: s\n\nb\n"
                % (i, i % 97, i))
# runs of equal keys, longer than a read block: "hot" written to in 2025
# and once inside the window (its last date), "cold" 2,000 times in 2025,
# "early" once inside the window (its first date) and then after it
for w in ("hot", "cold", "early"):
    for i in range(2000 if w == "cold" else 301):
        day = "Wed, 25 Feb 2026" if i == 300 and w != "cold" else \
            "Mon, 15 Jun 2026" if w == "early" else \
            "Mon, %02d May 2025" % (1 + i // 100)
        with open("%s/3%s%05d.M1P1.host:2,S" % (d, w, i), "w") as f:
            f.write("From: user@example.org\nTo: %s@%s.example\n"
                    "Date: %s %02d:%02d:00 +0000\n"
                    "Message-ID: <%s%d.x@sent.example>\nSubject: s\n\nb\n"
                    % (w, "frost" if w == "cold" else "run", day,
                       i // 60 % 24, i % 60, w, i))
EOP
sent "$S" 9999 "someone@else.example" "$OLD"
rulesfor big "$S"
watched big
# ndr ID RCPT: a DSN of 3 Mar 2026 returning ID, failed for RCPT
ndr() {
	printf 'Return-Path: <>\nFrom: MAILER-DAEMON@mx.example\nTo: user@example.org\nDate: Tue, 03 Mar 2026 10:00:00 +0000\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: text/plain\n\nnot delivered\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n--B\nContent-Type: text/rfc822-headers\n\n%sFrom: user@example.org\nTo: %s\nSubject: s\n\n--B--\n' \
	    "$2" "${1:+Message-ID: $1\n}" "$2"
}
mkdir -p "$T/bigq"
for i in 0 1 2 17 499 1500 2222 2998 2999; do
	ndr "<big$i.x@sent.example>" "r$i@big$((i % 97)).example" > "$T/bigq/id$i.eml"
	ndr "" "r$i@big$((i % 97)).example" > "$T/bigq/rc$i.eml"
	ndr "<nobig$i.x@sent.example>" "n$i@nowhere.example" > "$T/bigq/no$i.eml"
done
ndr "" "hot@run.example" > "$T/bigq/hot.eml"
ndr "" "cold@frost.example" > "$T/bigq/cold.eml"
ndr "" "early@run.example" > "$T/bigq/early.eml"
"$BACKSTOP" scan -r "$T/big.yaml" "$T/bigq" > "$T/big.out"
is "$(grep -c '/id[0-9]*\.eml	ours	' "$T/big.out")" 9 \
    "3,000 sent: every returned id that was sent is found (ours)"
is "$(grep -c '/rc[0-9]*\.eml	ours	' "$T/big.out")" 9 \
    "3,000 sent: every failed recipient written to is found (ours)"
is "$(grep -c '/no[0-9]*\.eml	backscatter	' "$T/big.out")" 9 \
    "3,000 sent: ids and recipients never sent are not found (backscatter)"
is "$(grep '/hot\.eml	' "$T/big.out" | cut -f2)" ours \
    "a run of 301 dates of one recipient: the one inside the window is found"
is "$(grep '/cold\.eml	' "$T/big.out" | cut -f2)" backscatter \
    "a run of 2,000 dates all before the window: never written to in it"
is "$(grep '/early\.eml	' "$T/big.out" | cut -f2)" ours \
    "a run of 301 dates, the first inside the window and the rest after: found"
# 14. an index cut short (its header says more than the file holds) or
# with its data damaged is rebuilt: the same answers, never a crash
size=$(stat -c %s "$T/big.idx")
truncate -s $((size - 16)) "$T/big.idx"
"$BACKSTOP" scan -r "$T/big.yaml" "$T/bigq" > "$T/big2.out"
# rebuilt today, it has lost what it saw before: what it holds still
# vouches, but it says "never" for no time before today
grep '	ours	' "$T/big.out" > "$T/ours1"; grep '	ours	' "$T/big2.out" > "$T/ours2"
cmp -s "$T/ours1" "$T/ours2"
ok $? "an index 16 bytes short: rebuilt, every ours still ours"
is "$(grep -c '	backscatter	' "$T/big2.out")" 0 \
    "... and nothing backscatter: the rebuilt index watched nothing before today"
is "$(stat -c %s "$T/big.idx")" "$size" "... and written again whole"
# the recipients' array, its middle zeroed: out of order, so a search that
# reads it may see a lie; the id search checks the order it reads
dd if=/dev/zero of="$T/big.idx" bs=1 seek=$((size - 40000)) count=4096 \
    conv=notrunc 2>/dev/null
"$BACKSTOP" scan -r "$T/big.yaml" "$T/bigq" > "$T/big3.out"
is "$?" 0 "an index with 4 KiB of its data zeroed: scan exits 0"
is "$(cut -f1 "$T/big3.out" | wc -l)" "$(wc -l < "$T/big.out")" \
    "... with a line for every bounce"
done_testing
