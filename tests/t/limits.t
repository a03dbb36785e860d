#!/bin/sh
# Limits degrade classification, never delivery.  For each limit, an input
# just under it (the original is found) and one just over it (it is not,
# or the rest is cut): the message is delivered whole, and the time and
# memory stay bounded.  Then every hostile fixture, delivered and scanned.
. "$(dirname "$0")/../lib.sh"
scratch
R=$T/rules.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
M=$T/Maildir
HOST=$FIX/hostile
TIME=; [ -x /usr/bin/time ] && TIME=/usr/bin/time
[ -n "$TIME" ] || diag "no /usr/bin/time (Debian: time): memory not measured, CPU still bounded by ulimit -t"
SAN=${BACKSTOP_SANITIZED:-0}
# the bound on the memory of one delivery (KB of resident memory); ASan
# keeps shadow memory and quarantine, so it gets more room
MAXRSS=262144; [ "$SAN" = 1 ] && MAXRSS=1048576

# Build a message: gen KIND N.  Every one is a bounce of ours
# (mail.example.org) unless cut by the limit under test.
gen() {
	perl - "$@" <<'EOF'
use strict;
my ($kind, $n) = @ARGV;
my $top = "From: MAILER-DAEMON\@mx.example.net\nTo: ann\@example.org\n" .
    "Subject: Undelivered Mail Returned to Sender\n" .
    "Message-ID: <bounce.9\@mx.example.net>\nMIME-Version: 1.0\n";
my $orig = "From: ann\@example.org\nTo: bob\@example.net\n" .
    "Subject: hello\nMessage-ID: <20261101093000.4F1A2B3C\@mail.example.org>\n" .
    "\nHello.\n";
my $report = "Content-Type: multipart/report; report-type=delivery-status; " .
    "boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nYour message could " .
    "not be delivered.\n\n--r\nContent-Type: message/delivery-status\n\n" .
    "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; " .
    "bob\@example.net\nAction: failed\nStatus: 5.1.1\n\n--r\n" .
    "Content-Type: message/rfc822\n\n$orig\n--r--\n";
if ($kind eq 'bytes') {		# n bytes of text before the report
	print $top, "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\n",
	    "Content-Type: text/plain\n\n", "x" x 75 . "\n" x 1;
	print "x" x 75, "\n" for 1 .. int($n / 76);
	print "--m\n", $report, "--m--\n";
} elsif ($kind eq 'depth') {	# the report inside n multipart levels
	print $top;
	print "Content-Type: multipart/mixed; boundary=\"d$_\"\n\n--d$_\n"
	    for 1 .. $n;
	print $report;
	print "--d$_--\n" for reverse 1 .. $n;
} elsif ($kind eq 'comment') {	# n nested comments in a part's field
	print $top, "Content-Type: multipart/mixed; boundary=\"c\"\n\n--c\n",
	    "Content-Type: text/plain; x=y ", "(" x $n, ")" x $n, "\n\nhi\n",
	    "--c\n", $report, "--c--\n";
} elsif ($kind eq 'parts') {	# n text parts before the report
	print $top, "Content-Type: multipart/mixed; boundary=\"p\"\n\n";
	print "--p\nContent-Type: text/plain\n\npart $_\n" for 1 .. $n;
	print "--p\n", $report, "--p--\n";
} elsif ($kind eq 'header') {	# n bytes of fields before the signals
	print "X-Filler: ", "y" x 70, "\n" for 1 .. int($n / 81);
	print $top, $report;
} elsif ($kind eq 'field') {	# an auto-reply, References of n bytes
	print "From: bob\@example.net\nTo: ann\@example.org\n",
	    "Subject: Out of office\nAuto-Submitted: auto-replied\n",
	    "Message-ID: <reply.1\@example.net>\nReferences:";
	my $len = 13;
	while ($len < $n) { print " <ref.$len\@lists.example.com>\n";
	    $len += 30; }
	print " <20261101093000.4F1A2B3C\@mail.example.org>\n\nI am away.\n";
} elsif ($kind eq 'msgid') {	# an original whose Message-ID is n bytes
	my $id = "<" . ("a" x ($n - 24)) . "\@mail.example.org>";
	$report =~ s/<20261101093000\.4F1A2B3C\@mail\.example\.org>/$id/;
	print $top, $report;
} elsif ($kind eq 'pcre') {	# "<aaaa...ab>": catastrophic for (a+)+$
	my $id = "<" . ("a" x $n) . "b>";
	$report =~ s/<20261101093000\.4F1A2B3C\@mail\.example\.org>/$id/;
	print $top, $report;
}
EOF
}

# deliver FILE [RULES]: exit 0, the message whole in the inbox or .Junk,
# memory and time bounded; prints the verdict scan gives
LAST_RSS=
bounded() {	# WHAT FILE RULES
	rm -rf "$M"
	if [ -n "$TIME" ]; then
		(ulimit -t 120; timeout 300 $TIME -o "$T/time" -f '%M %e' \
		    "$BACKSTOP" deliver -d "$M" -r "$3" < "$2" 2> "$T/err")
	else
		(ulimit -t 120; timeout 300 \
		    "$BACKSTOP" deliver -d "$M" -r "$3" < "$2" 2> "$T/err")
	fi
	ok $? "$1: delivered, exit 0"
	f=$(only_new "$M"); [ -n "$f" ] || f=$(only_new "$M/.Junk")
	if [ -n "$f" ] && { cmp -s "$f" "$2" ||
	    { head -n 1 "$f" | grep -q '^X-Backstop: ' &&
	    tail -n +2 "$f" | cmp -s - "$2"; }; }; then
		ok 0 "$1: stored whole"
	else
		ok 1 "$1: stored whole"
	fi
	if [ -n "$TIME" ]; then
		set -- "$1" $(tail -n 1 "$T/time")
		LAST_RSS=$2
		ok "$([ "$2" -lt $MAXRSS ]; echo $?)" \
		    "$1: memory bounded (max RSS $2 KB, $3 s)"
	fi
}
verdict() { "$BACKSTOP" scan -r "$2" "$1" | cut -f 2,4; }
OURS="ours	<20261101093000.4F1A2B3C@mail.example.org>"

# --- limits.parse_bytes (rules; default 4 MB): the report after the cut ---
rules "$T/parse64k.yaml" <<EOF
$(cat "$FIX/rules.yaml")
limits: {parse_bytes: 64k}
EOF
gen bytes 60000 > "$T/m"; bounded "parse_bytes 64k, report at 60k" "$T/m" "$T/parse64k.yaml"
is "$(verdict "$T/m" "$T/parse64k.yaml")" "$OURS" "just under parse_bytes: original found"
gen bytes 66000 > "$T/m"; bounded "parse_bytes 64k, report at 66k" "$T/m" "$T/parse64k.yaml"
is "$(verdict "$T/m" "$T/parse64k.yaml" | cut -f 1)" unknown "just over parse_bytes: no original, unknown"
"$BACKSTOP" explain -r "$T/parse64k.yaml" "$T/m" | grep -q 'classifying the first 65536'
ok $? "explain says the message was cut at parse_bytes"
gen bytes 4200000 > "$T/m"; bounded "default parse_bytes 4 MB, report at 4.2 MB" "$T/m" "$R"
is "$(verdict "$T/m" "$R" | cut -f 1)" unknown "just over 4 MB: no original, unknown"

# --- MIME depth walked (32) --------------------------------------------------
# past it the report is not walked: the body is then read as text
kind() { "$BACKSTOP" scan -r "$2" "$1" | cut -f 3; }
gen depth 30 > "$T/m"; bounded "report 30 levels deep" "$T/m" "$R"
is "$(kind "$T/m" "$R")" dsn "depth 30: the report is walked"
gen depth 33 > "$T/m"; bounded "report 33 levels deep" "$T/m" "$R"
is "$(kind "$T/m" "$R")" ndr "depth 33: the report is not walked (read as text)"

# --- composite Content-Type fields handed to libetpan (200) -----------------
# gen depth N has N + 3 of them (the report, its status and its original)
gen depth 196 > "$T/m"; bounded "199 composite parts" "$T/m" "$R"
"$BACKSTOP" explain -r "$R" "$T/m" | grep -q 'nesting limit'
ok "$([ $? -ne 0 ]; echo $?)" "199 composite parts: handed over whole"
gen depth 197 > "$T/m"; bounded "200 composite parts" "$T/m" "$R"
"$BACKSTOP" explain -r "$R" "$T/m" | grep -q 'nesting limit: parsing the first'
ok $? "200 composite parts: cut before the 200th"

# --- nested comments in one field (100): libetpan recurses per level ---------
gen comment 98 > "$T/m"; bounded "98 nested comments" "$T/m" "$R"
"$BACKSTOP" explain -r "$R" "$T/m" | grep -q 'nesting limit'
ok "$([ $? -ne 0 ]; echo $?)" "98 nested comments: handed over whole"
is "$(verdict "$T/m" "$R")" "$OURS" "98 nested comments: original found"
gen comment 100 > "$T/m"; bounded "100 nested comments" "$T/m" "$R"
"$BACKSTOP" explain -r "$R" "$T/m" | grep -q 'nesting limit: parsing the first'
ok $? "100 nested comments: cut before that field"

# --- parts walked (2000) -----------------------------------------------------
gen parts 1990 > "$T/m"; bounded "1990 parts before the report" "$T/m" "$R"
is "$(verdict "$T/m" "$R")" "$OURS" "1990 parts: original found"
gen parts 2001 > "$T/m"; bounded "2001 parts before the report" "$T/m" "$R"
"$BACKSTOP" explain -r "$R" "$T/m" | grep -q 'part limit reached'
ok $? "2001 parts: explain says the part limit was reached"

# --- one header block scanned (256 KB) ---------------------------------------
gen header 250000 > "$T/m"; bounded "250 KB of fields before From:" "$T/m" "$R"
is "$(verdict "$T/m" "$R")" "$OURS" "250 KB header: original found"
gen header 270000 > "$T/m"; bounded "270 KB of fields before From:" "$T/m" "$R"
verdict "$T/m" "$R" > "$T/v"; ok $? "270 KB header: classified ($(cat "$T/v"))"

# --- one field unfolded (64 KB): References of an auto-reply ----------------
gen field 60000 > "$T/m"; bounded "References of 60 KB" "$T/m" "$R"
is "$(verdict "$T/m" "$R")" "$OURS" "60 KB References: last id found"
gen field 70000 > "$T/m"; bounded "References of 70 KB" "$T/m" "$R"
verdict "$T/m" "$R" > "$T/v"
ok "$(grep -q 'mail.example.org' "$T/v"; [ $? -ne 0 ]; echo $?)" \
    "70 KB References: the id past 64 KB is not read ($(cat "$T/v"))"

# --- Message-ID length (998, RFC 5322's line) --------------------------------
gen msgid 990 > "$T/m"; bounded "original Message-ID of 990 bytes" "$T/m" "$R"
verdict "$T/m" "$R" | grep -q '@mail.example.org>$'; ok $? "990-byte id: read"
gen msgid 1100 > "$T/m"; bounded "original Message-ID of 1100 bytes" "$T/m" "$R"
is "$(verdict "$T/m" "$R" | cut -f 2)" - "1100-byte id: not taken"

# --- PCRE2 match limits: '^<(a+)+$' against "<aaa...ab>" --------------------
rules "$T/pcre.yaml" <<'EOF'
outbound:
  message_id:
    - '^<(a+)+$'
EOF
gen pcre 40 > "$T/m"; bounded "catastrophic pattern, id of 40 a's" "$T/m" "$T/pcre.yaml"
"$BACKSTOP" scan -r "$T/pcre.yaml" "$T/m" | grep -q 'pattern match limit reached'
ok $? "catastrophic pattern: match limit reached, verdict unknown"
gen pcre 900 > "$T/m"; bounded "catastrophic pattern, id of 900 a's" "$T/m" "$T/pcre.yaml"
(ulimit -t 20; "$BACKSTOP" scan -r "$T/pcre.yaml" "$T/m" > "$T/v")
ok $? "catastrophic pattern, 900 a's: scan ends within 20 s of CPU"
grep -q 'unknown' "$T/v"; ok $? "catastrophic pattern, 900 a's: unknown"

# --- every hostile fixture: delivered whole, scanned without a crash ---------
for f in "$HOST"/*.eml; do
	n=$(basename "$f")
	bounded "hostile $n" "$f" "$R"
	grep -q 'classification failed' "$T/err"
	ok "$([ $? -ne 0 ]; echo $?)" "hostile $n: classified, no crash or timeout"
	(ulimit -t 60; "$BACKSTOP" scan -r "$R" "$f" > "$T/v" 2> "$T/err")
	ok $? "hostile $n: scan exit 0 ($(cut -f 2,3 "$T/v" | tr '\t' ' '))"
done

done_testing
