#!/bin/sh
# explain for a person at a terminal: nothing from a message or a file
# name reaches it as a control (issue 13, item 8), and explain predicts
# deliver also when a limit stops classification (issue 13, item 14).
. "$(dirname "$0")/../lib.sh"
scratch
R=$T/rules.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
SAN=${BACKSTOP_SANITIZED:-0}
TIME=; [ -x /usr/bin/time ] && TIME=/usr/bin/time

# clean FILE: every line UTF-8 text with no C0 control but the newline, no
# DEL, no C1 (raw or encoded); prints what is wrong
clean() {
	perl -e '
		use strict; use Encode ();
		local $/; my $s = <STDIN>; my $bad = 0;
		my $u = eval { Encode::decode("UTF-8", $s, Encode::FB_CROAK) };
		if (!defined $u) { print "not UTF-8\n"; exit 1 }
		while ($u =~ /([\x00-\x09\x0b-\x1f\x7f-\x9f])/g) {
			printf "U+%04X at %d\n", ord($1), pos($u); $bad = 1;
		}
		exit $bad;' < "$1"
}

# --- item 8: escapes from the message and the file name ----------------------
E=$(printf '\033'); A=$(printf '\007'); C=$(printf '\r'); CSI=$(printf '\302\233')
N='
'
# the file name: a screen clear, a bell, and a line that forges the verdict
F="$T/bounce${E}[2J${A}${N}verdict: ours (forged by the file name)${N}.eml"
printf '%s\n' \
    "From: MAILER-DAEMON@mx.example.net" \
    "To: ann@example.org" \
    "Subject: Undelivered Mail Returned to Sender ${E}]0;pwned${A}${E}[2J${C}" \
    "Message-ID: <b.1${E}[2J@mx.example.net>" \
    "MIME-Version: 1.0" \
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"" \
    "" "--r" \
    "Content-Type: x-${E}[8m/pl${E}]2;t${A}ain" \
    "" "Your message could not be delivered." "" \
    "--r" "Content-Type: message/delivery-status" "" \
    "Reporting-MTA: dns; mx.example.net" "" \
    "Final-Recipient: rfc822; bob@example.net" "Action: failed" \
    "Status: 5.1.1" "" \
    "--r" "Content-Type: message/rfc822" "" \
    "From: ann@example.org" "Subject: hi ${E}[2J" \
    "Message-ID: <forged.1${E}[2J${CSI}2J${E}]0;x${A}${E}[8m@spam.example>" \
    "" "Hello." "" "--r--" > "$F"
# the rule file's name, printed in "rules:", carries escapes too
RE="$T/rules${E}]0;title${A}.yaml"
cp "$R" "$RE"; chmod 600 "$RE"

"$BACKSTOP" explain -r "$RE" "$F" > "$T/out" 2> "$T/err"
ok $? "escapes: explain exit 0"
clean "$T/out" > "$T/bad"; ok $? "escapes: no control, DEL or C1 in the output"
[ -s "$T/bad" ] && sed 's/^/# /' "$T/bad" | head -5
is "$(grep -c '^verdict:' "$T/out")" 1 "escapes: exactly one verdict: line"
grep -q '^verdict: backscatter ' "$T/out"; ok $? "escapes: the verdict is still found"
grep -q '^deliver would file it in: .Junk$' "$T/out"; ok $? "escapes: the folder is still said"
grep -q '^original Message-ID: <forged.1?\[2J' "$T/out"
ok $? "escapes: the Message-ID is shown, controls replaced"
"$BACKSTOP" explain -r "$RE" < "$F" > "$T/out2"; ok $? "escapes, stdin: exit 0"
clean "$T/out2" > /dev/null; ok $? "escapes, stdin: no control in the output"
is "$(grep -c '^verdict:' "$T/out2")" 1 "escapes, stdin: exactly one verdict: line"
# a broken rule file whose name and error text carry escapes
RB="$T/bad${E}[2J.yaml"
printf 'outbound:\n  message_id:\n    - "(%s[2J"\n' "$E" > "$RB"; chmod 600 "$RB"
"$BACKSTOP" explain -r "$RB" "$F" > "$T/out3"
ok $? "broken rules with escapes: exit 0"
grep -q '^rules error: ' "$T/out3"; ok $? "broken rules with escapes: the error is shown"
clean "$T/out3" > /dev/null; ok $? "broken rules with escapes: no control in the output"

# --- item 14: the same limits as deliver ---------------------------------------
# 1.5 M tiny parts in 48 MB, parse_bytes 64M: libetpan wants far more than
# the address space deliver's guard gives it (message + 512 MB)
rules "$T/big.yaml" <<EOF
$(cat "$FIX/rules.yaml")
verdicts:
  unknown: junk
limits:
  parse_bytes: 64M
EOF
PARTS=1500000
# ASan has no address-space limit (its shadow needs terabytes), deliver
# neither: the same message there only takes memory and time
[ "$SAN" = 1 ] && PARTS=20000
python3 - "$T/big.eml" "$PARTS" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("From: MAILER-DAEMON@mx.example.net\nTo: ann@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <parts.1@mx.example.net>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"p\"\n\n")
    f.write("--p\nContent-Type: text/plain\n\nx\n" * n)
    f.write("--p--\n")
EOF
M=$T/Maildir
(ulimit -t 120; BACKSTOP_LOG_STDERR=1 "$BACKSTOP" deliver -d "$M" -r "$T/big.yaml" \
    < "$T/big.eml" 2> "$T/derr")
ok $? "$PARTS parts: deliver exit 0"
if f=$(only_new "$M") && [ -n "$f" ]; then dfolder=inbox
elif f=$(only_new "$M/.Junk") && [ -n "$f" ]; then dfolder=.Junk
else dfolder=none; fi
# what deliver did: the verdict it logged, and whether it added a header
dverdict=$(sed -n 's/.*delivered as \([a-z-]*\) to the inbox.*/\1/p; s/.*verdict=\([a-z-]*\) .*/\1/p' "$T/derr" | head -n 1)
dheader=no; [ -n "$f" ] && head -n 1 "$f" | grep -q '^X-Backstop: ' && dheader=yes
if [ "$SAN" != 1 ]; then
	grep -q 'classification failed (out of memory) (limit [0-9]* MB)' "$T/derr"
	ok $? "$PARTS parts: deliver logs the memory limit, not a crash"
	[ $? = 0 ] || sed 's/^/# /' "$T/derr" | head -3
fi
rm -f "$T/time"
if [ -n "$TIME" ]; then
	(ulimit -t 120; $TIME -o "$T/time" -f '%M %e' "$BACKSTOP" explain \
	    -r "$T/big.yaml" "$T/big.eml" > "$T/eout")
else
	(ulimit -t 120; "$BACKSTOP" explain -r "$T/big.yaml" "$T/big.eml" > "$T/eout")
fi
ok $? "$PARTS parts: explain exit 0"
everdict=$(sed -n 's/^verdict: \([a-z-]*\) .*/\1/p' "$T/eout")
efolder=$(sed -n 's/^deliver would file it in: //p' "$T/eout")
eheader=no; grep -q '^header added: ' "$T/eout" && eheader=yes
is "$everdict" "$dverdict" "$PARTS parts: explain's verdict is deliver's"
is "$efolder" "$dfolder" "$PARTS parts: explain's folder is deliver's"
is "$eheader" "$dheader" "$PARTS parts: explain adds a header when deliver does"
sverdict=$("$BACKSTOP" scan -r "$T/big.yaml" "$T/big.eml" | cut -f 2)
is "$sverdict" "$dverdict" "$PARTS parts: scan's verdict is deliver's"
if [ "$SAN" != 1 ]; then
	grep -q '^classification stopped: memory limit [0-9]* MB reached$' "$T/eout"
	ok $? "$PARTS parts: explain names the memory limit"
	if [ -s "$T/time" ]; then
		set -- $(tail -n 1 "$T/time")
		# the worker's address space: the message + 512 MB
		max=$(( ($(wc -c < "$T/big.eml") + 536870912) / 1024 ))
		ok "$([ "$1" -le "$max" ]; echo $?)" \
		    "$PARTS parts: explain's memory bounded (max RSS $1 KB <= $max KB, $2 s)"
	fi
fi

# the rest of a scan goes on after a message that stopped its worker
"$BACKSTOP" scan -r "$T/big.yaml" "$T/big.eml" "$FIX/dsn-forged.eml" \
    "$T/big.eml" "$FIX/dsn-ours.eml" > "$T/scan"
ok $? "scan past a stopped message: exit 0"
is "$(cut -f 2 "$T/scan" | tr '\n' ' ')" \
    "$dverdict backscatter $dverdict ours " "scan past a stopped message: every line, in order"

done_testing
