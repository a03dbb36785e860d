#!/bin/sh
# A joe-job never costs the user real mail (issue 22): 2,000 forged
# bounces of every kind backstop junks (DSN, NDR, auto-reply, challenge,
# MDN) with 40 real messages interleaved, into a maildir with a small
# Maildir++ quota and a capped Junk folder that already holds mail the
# user moved there.  Every real message is stored, byte for byte, exit 0,
# none deferred; no forged one reaches the inbox; Junk stays within its
# cap; the user's mail in Junk is untouched; maildirsize says what is on
# disk; each removal is logged with its Message-ID.
. "$(dirname "$0")/../lib.sh"
scratch_home
M=$T/Maildir
J=$M/.Junk
mkdir -p "$M/cur" "$M/new" "$M/tmp" "$J/cur" "$J/new" "$J/tmp" "$T/in"
: > "$J/maildirfolder"
R=$T/rules.yaml
# the ASan + UBSan pass looks for memory errors, not at scale: a fifth
NFORGED=2000 NREAL=40 MAXMSG=150
[ "${BACKSTOP_SANITIZED:-0}" = 1 ] && NFORGED=400 NREAL=8 MAXMSG=40
MAXSIZE=1048576
{ cat "$FIX/rules.yaml"; printf 'junk:\n  max_messages: %s\n  max_size: 1M\n' "$MAXMSG"; } > "$R"
chmod 600 "$R"
EVERY=$((NFORGED / NREAL))
# the quota holds the real mail and what Junk holds at about half its
# cap: the cap prunes first, the quota once real mail has come in
QUOTA=$((NREAL * 5300 + MAXMSG * 600))

# the user's own mail in Junk: spam moved in over IMAP (a client's names),
# one with someone else's X-Backstop-Incoming:, and one whose name has
# backstop's form but whose header has no X-Backstop: field (not ours)
i=0
while [ $i -lt 10 ]; do
	printf 'From: spammer%d@example.com\nSubject: moved by the user %d\n\nspam %d\n' \
	    $i $i $i > "$J/cur/17000000$i.M1P2.imap,S=0:2,S"
	i=$((i + 1))
done
printf 'From: x@example.com\nX-Backstop-Incoming: backscatter\nSubject: theirs\n\nx\n' \
    > "$J/cur/1700000100.M1P2.imap:2,S"
printf 'From: y@example.com\nSubject: not ours\n\ny\n' \
    > "$J/cur/1600000000.M1P1Q1R0123456789abcdef.host:2,S"
for f in "$J"/cur/*; do
	# the real size in the name where the test wrote S=0
	case $f in *S=0:*) n=$(wc -c < "$f" | tr -d ' ')
		mv "$f" "${f%%,S=0:*},S=$n:2,S" ;; esac
done
cp -r "$J/cur" "$T/user-junk"
# maildirsize, true from the start: the quota and what Junk holds
set -- $(cat "$J"/cur/* | wc -c) $(ls "$J/cur" | wc -l)
printf '%sS\n%s %s\n' "$QUOTA" "$1" "$2" > "$M/maildirsize"

# 2,000 forged bounces from the fixtures of every junked kind, each
# forged original made unique, and 40 real messages of ~5 KB
perl - "$FIX" "$T/in" "$NFORGED" "$NREAL" <<'EOF'
use strict;
use warnings;
my ($fix, $out, $nf, $nr) = @ARGV;
my @kinds = qw(dsn-forged dsn-global dsn-headers-only dsn-forged-cr-only
    ndr-quoted-copy ndr-eml-attachment ndr-base64-original
    autoreply-x-autoreply-forged challenge-response mdn-sieve-reject);
my @t = map { local $/; open my $f, '<', "$fix/$_.eml" or die "$_: $!";
    my $s = <$f>; $s } @kinds;
for my $i (1 .. $nf) {
	my $s = $t[$i % @t];
	$s =~ s/a1b2c3d4e5f6\.7788\@spam-cannon\.example/flood$i.7788\@spam-cannon.example/g;
	open my $f, '>', sprintf("%s/f%04d", $out, $i) or die $!;
	print $f $s;
}
my $pad = join '', map { "line $_ of a real message, as long as real mail is\n" } 1 .. 100;
for my $i (1 .. $nr) {
	open my $f, '>', sprintf("%s/r%02d", $out, $i) or die $!;
	print $f "From: Bob <bob\@example.net>\nTo: ann\@example.org\n",
	    "Subject: real message $i\nMessage-ID: <real.$i\@example.net>\n",
	    "Date: Sun, 1 Nov 2026 09:31:00 +0000\n\nHello Ann,\n\n$pad";
}
EOF

# the flood: a real message after every 50 forged ones
: > "$T/log"
fails=0 realfail=0 n=0
for i in $(seq 1 "$NFORGED"); do
	f=$(printf '%s/f%04d' "$T/in" "$i")
	BACKSTOP_LOG_STDERR=1 "$BACKSTOP" deliver -d "$M" -r "$R" < "$f" 2>> "$T/log" ||
	    fails=$((fails + 1))
	if [ $((i % EVERY)) = 0 ]; then
		n=$((n + 1))
		r=$(printf '%s/r%02d' "$T/in" "$n")
		BACKSTOP_LOG_STDERR=1 "$BACKSTOP" deliver -d "$M" -r "$R" < "$r" 2>> "$T/log" ||
		    { realfail=$((realfail + 1)); diag "real message $n: exit $?"; }
	fi
done
is "$realfail" 0 "every one of the $NREAL real messages: exit 0, none deferred"
is "$fails" 0 "every forged bounce: exit 0 too (filed, room made in Junk)"

# every real message in the inbox, byte for byte
n=0
for r in "$T"/in/r*; do
	id=$(sed -n 's/^Message-ID: //p' "$r")
	f=$(grep -l -F -x "Message-ID: $id" "$M"/new/* 2>/dev/null | head -n 1)
	[ -n "$f" ] && cmp -s "$f" "$r" && n=$((n + 1))
done
is "$n" "$NREAL" "... all $NREAL in the inbox, byte for byte"
is "$(ls "$M/new" | wc -l | tr -d ' ')" "$NREAL" "no forged bounce in the inbox"

# Junk within its cap: what backstop filed, by its field
ours=$(grep -l '^X-Backstop: ' "$J"/new/* "$J"/cur/* 2>/dev/null | wc -l | tr -d ' ')
bytes=$(grep -l '^X-Backstop: ' "$J"/new/* "$J"/cur/* 2>/dev/null | xargs cat | wc -c | tr -d ' ')
ok "$([ "$ours" -le $MAXMSG ] && [ "$ours" -gt 0 ]; echo $?)" "Junk within max_messages: $ours of $MAXMSG"
ok "$([ "$bytes" -le $MAXSIZE ]; echo $?)" "Junk within max_size: $bytes bytes"
diff -r "$T/user-junk" "$J/cur" 2>&1 | grep -v '^Only in /.*/Maildir/.Junk/cur' > "$T/diff"
is "$(cat "$T/diff")" "" "the user's mail in Junk untouched (nothing changed, nothing removed)"

# maildirsize says what is on disk: the quota line, then lines that add
# up to the size (,S= or length) and the count of every folder
want=$(find "$M" -path '*/new/*' -o -path '*/cur/*' | while read -r f; do
	[ -f "$f" ] || continue
	case ${f##*/} in *,S=[0-9]*) s=${f##*,S=}; s=${s%%[!0-9]*} ;;
	*) s=$(wc -c < "$f" | tr -d ' ') ;; esac
	echo "$s"
done | awk '{ b += $1; c++ } END { print b + 0, c + 0 }')
is "$(awk 'NR > 1 { b += $1; c += $2 } END { print b + 0, c + 0 }' "$M/maildirsize")" "$want" \
    "maildirsize adds up to what is on disk ($want)"
is "$(sed -n 1p "$M/maildirsize")" "${QUOTA}S" "... and keeps its quota line"
used=${want% *}
ok "$([ "$used" -le $QUOTA ]; echo $?)" "the maildir within its quota ($used of $QUOTA)"

# the Junk ledger agrees with the folder
named=$(ls "$J/new" "$J/cur" | grep -c '^[0-9]*\.M[0-9]*P[0-9]*Q[0-9]*R[0-9a-f]\{16\}\.')
is "$(awk 'NR > 1 { c += $2 } END { print c + 0 }' "$J/backstop-junksize")" "$named" \
    "the Junk ledger counts what backstop named there ($named)"

# each removal logged with its Message-ID, by cap and by quota
grep -q 'log: pruned .*/\.Junk/\(new\|cur\)/[^ ]* (cap): message-id=<[^>]*@[^>]*> original=<flood' "$T/log"
ok $? "each pruned message is logged with its Message-ID and original (cap)"
grep -q 'log: pruned .* (quota): message-id=' "$T/log"
ok $? "... and by the quota (real mail wins)"
pruned=$(grep -c 'log: pruned .*: message-id=' "$T/log")
is "$(wc -l < "$J/backstop-pruned" | tr -d ' ')" "$pruned" "the pruned record holds each of them"
diag "pruned $pruned; Junk holds $ours of backstop's ($bytes bytes); maildir $used of $QUOTA bytes"


# --- the flood eight at a time: pruning under concurrent deliveries ---------
# An MTA runs several deliveries to one user at once.  The cap's check
# reads the ledger without the folder's lock, so concurrent filings can
# pass the cap by about the number of deliveries at once until the next
# prune recounts; what must hold whatever the order: every message
# delivered exactly once or, if forged, pruned and logged -- none lost,
# none duplicated -- and nothing of the user's removed.
P=8 PF=$((NFORGED / 5)) PR=$((NREAL / 2)) PMAX=$((MAXMSG / 5))
C=$T/conc/Maildir
mkdir -p "$C/cur" "$C/new" "$C/tmp" "$C/.Junk/cur" "$C/.Junk/new" "$C/.Junk/tmp"
: > "$C/.Junk/maildirfolder"
cp "$T"/user-junk/* "$C/.Junk/cur/"
{ cat "$FIX/rules.yaml"; printf 'junk:\n  max_messages: %s\n' "$PMAX"; } > "$T/conc.yaml"
chmod 600 "$T/conc.yaml"
{ ls "$T"/in/f* | head -n "$PF"; ls "$T"/in/r* | head -n "$PR"; } |
    awk '{ print (NR * 7919) % 100000, $0 }' | sort -n | cut -d' ' -f2 > "$T/conc.list"
: > "$T/conc.log"
xargs -P "$P" -I{} sh -c 'BACKSTOP_LOG_STDERR=1 "$1" deliver -d "$2" -r "$3" < "$4" 2>> "$5" ||
	echo "exit $? $4" >> "$5.fail"' sh "$BACKSTOP" "$C" "$T/conc.yaml" {} "$T/conc.log" < "$T/conc.list"
is "$(cat "$T/conc.log.fail" 2>/dev/null)" "" "$P at once: every one of $((PF + PR)) deliveries exit 0"
n=0
for r in $(ls "$T"/in/r* | head -n "$PR"); do
	id=$(sed -n 's/^Message-ID: //p' "$r")
	[ "$(grep -l -F -x "Message-ID: $id" "$C"/new/* 2>/dev/null | wc -l)" = 1 ] &&
	    cmp -s "$(grep -l -F -x "Message-ID: $id" "$C"/new/*)" "$r" && n=$((n + 1))
done
is "$n" "$PR" "... each real message in the inbox exactly once, byte for byte"
is "$(ls "$C/new" | wc -l | tr -d ' ')" "$PR" "... and no forged one"
# counted by backstop's field and log lines; told apart by the forged
# original where the copy made it unique (not in a base64 original)
ckept=$(grep -l '^X-Backstop: ' "$C"/.Junk/new/* "$C"/.Junk/cur/* 2>/dev/null | wc -l)
cpruned=$(grep -c 'log: pruned .*: message-id=' "$T/conc.log")
is "$((ckept + cpruned))" "$PF" \
    "... each forged one filed once: in Junk or pruned and logged ($ckept kept)"
is "$({ grep -h '^X-Backstop: ' "$C"/.Junk/new/* "$C"/.Junk/cur/* 2>/dev/null
	grep 'log: pruned .*: message-id=' "$T/conc.log"; } |
    sed -n 's/.*original=<\(flood[0-9]*\)\..*/\1/p' | sort | uniq -d)" "" "... none of them twice"
ok "$([ "$ckept" -le $((PMAX + 2 * P)) ]; echo $?)" \
    "... Junk within the cap but for the deliveries at once ($PMAX + 2 x $P)"
diff -r "$T/user-junk" "$C/.Junk/cur" 2>&1 | grep -v '^Only in /.*/Maildir/.Junk/cur' > "$T/diff"
is "$(cat "$T/diff")" "" "... the user's mail in Junk untouched"
ls "$C/tmp" "$C/.Junk/tmp" | grep -v ':$' | grep -q .
ok "$([ $? -ne 0 ]; echo $?)" "... nothing left in tmp/"

# --- backstop junk --summary: the flood at a glance ---------------------
"$BACKSTOP" junk --summary -r "$R" "$M" > "$T/sum"; rc=$?
is "$rc" 0 "junk --summary: exit 0"
is "$(awk -F'\t' '$1 == "messages" && $2 == "backstop" { print $3 }' "$T/sum")" "$ours" \
    "... counts what backstop filed"
is "$(awk -F'\t' '$1 == "messages" && $2 == "other" { print $3 }' "$T/sum")" 12 \
    "... and the user's mail apart"
is "$(awk -F'\t' '$1 == "kind" { print $2 }' "$T/sum" | sort | tr '\n' ' ')" \
    "autoreply dsn mdn ndr " "... by kind"
is "$(awk -F'\t' '$1 == "forged" { print $2 }' "$T/sum")" "spam-cannon.example" \
    "... the forged Message-ID domain that recurs: the fingerprint of the run"
is "$(awk -F'\t' '$1 == "pruned" { n += $3 } END { print n + 0 }' "$T/sum")" "$pruned" \
    "... and what was pruned, by cap and by quota"
is "$(awk -F'\t' 'NF != 3' "$T/sum" | wc -l | tr -d ' ')" 0 "... one WHAT<TAB>KEY<TAB>COUNT line a fact"

# --- junk.digest: daily --------------------------------------------------
# Junk holds what backstop filed yesterday (their names say when) and
# today; the first delivery of the day puts one digest into the inbox,
# however many deliveries run at once
D=$T/digest/Maildir
mkdir -p "$D/cur" "$D/new" "$D/tmp" "$D/.Junk/cur" "$D/.Junk/new" "$D/.Junk/tmp"
: > "$D/.Junk/maildirfolder"
{ cat "$FIX/rules.yaml"; printf 'junk:\n  digest: daily\n'; } > "$T/digest.yaml"
chmod 600 "$T/digest.yaml"
now=$(date +%s); y=$((now - now % 86400 - 43200)); yday=$(date -u -d "@$y" +%Y-%m-%d)
today=$(date -u +%Y-%m-%d)
filed() {	# filed TIME N KIND EVIDENCE FROM SUBJECT
	printf 'X-Backstop: backscatter; kind=%s; original=<forged.%s@spam-cannon.example>; rule=-%s\nFrom: %s\nSubject: %s\nMessage-ID: <b%s@mx.example.net>\n\nbody\n' \
	    "$3" "$2" "$4" "$5" "$6" "$2" > "$D/.Junk/new/$1.M$2P1Q1R0123456789abcdef.host"
}
for k in 1 2 3 4 5 6 7 8 9; do
	filed $((y + k)) $k dsn "" "MAILER-DAEMON@mx$k.example.net" "Undelivered Mail Returned to Sender"
done
filed $((y + 20)) 20 ndr "; evidence=recipient" "postmaster@relay.example.org" \
    "$(printf 'Returned mail\033[2J\tsee \001below')"
filed $((y + 21)) 21 autoreply "" "$(printf 'Auto \033]0;x\007<auto@example.com>')" "Out of office"
filed $((now - 60)) 30 dsn "" "MAILER-DAEMON@today.example.net" "filed today"
i=0; pids=
while [ $i -lt 8 ]; do
	"$BACKSTOP" deliver -d "$D" -r "$T/digest.yaml" < "$FIX/ham-plain.eml" &
	pids="$pids $!"; i=$((i + 1))
done
# shellcheck disable=SC2086
wait $pids
dg=$(grep -l '^Auto-Submitted: auto-generated' "$D"/new/* 2>/dev/null)
is "$(echo "$dg" | grep -c .)" 1 "digest: 8 deliveries at once, exactly one digest in the inbox"
is "$(ls "$D/new" | wc -l | tr -d ' ')" 9 "... besides the 8 messages"
is "$(sed -n 's/^Subject: //p' "$dg")" "backstop: 11 messages filed in Junk on $yday" \
    "... about yesterday's Junk (UTC), not today's"
grep -q '^By kind: dsn 9, autoreply 1, ndr 1\.$' "$dg"; ok $? "... counted by kind"
sed -n '/^The 5 with the weakest evidence/,$p' "$dg" > "$T/weak"
grep -q '^    Why: backscatter; kind=ndr; rule=-; evidence=recipient$' "$T/weak"
ok $? "... listing the weakest evidence (recipient only)"
is "$(grep -c '^    FILE: ' "$T/weak")" 5 "... five of them, each with its file"
is "$(grep -m 1 '^  [0-9]' "$T/weak" | sed 's/^  [0-9-]* [0-9:]*  //')" "postmaster@relay.example.org" \
    "... the weakest first"
grep -q '^    Subject: Returned mail?\[2J see ?below$' "$T/weak"
ok $? "... escaped as explain's output: control bytes as '?'"
is "$(tr -d '\n' < "$dg" | LC_ALL=C grep -c '[^ -~]')" 0 "... not one control byte in the digest"
"$BACKSTOP" deliver -d "$D" -r "$T/digest.yaml" < "$FIX/ham-plain.eml"
is "$(grep -l '^Auto-Submitted: auto-generated' "$D"/new/* | wc -l | tr -d ' ')" 1 \
    "... and a later delivery that day makes none"
test -f "$D/.Junk/backstop-digest.$today"; ok $? "... the day is marked in the Junk folder"
# the next day (its mark gone, an old one left): one more, the old mark removed
mv "$D/.Junk/backstop-digest.$today" "$D/.Junk/backstop-digest.2000-01-01"
"$BACKSTOP" deliver -d "$D" -r "$T/digest.yaml" < "$FIX/ham-plain.eml"
is "$(grep -l '^Auto-Submitted: auto-generated' "$D"/new/* | wc -l | tr -d ' ')" 2 \
    "digest: the next day, one more"
test ! -e "$D/.Junk/backstop-digest.2000-01-01"; ok $? "... and the old mark removed"
"$BACKSTOP" scan -r "$T/digest.yaml" "$dg" | cut -f2 | grep -qx not-bounce
ok $? "... a digest is no bounce to backstop itself"
rules "$T/nodigest.yaml" < "$FIX/rules.yaml"
rm -f "$D"/.Junk/backstop-digest.*
"$BACKSTOP" deliver -d "$D" -r "$T/nodigest.yaml" < "$FIX/ham-plain.eml"
is "$(grep -l '^Auto-Submitted: auto-generated' "$D"/new/* | wc -l | tr -d ' ')" 2 \
    "digest: off by default"

# --- the junk section's keys: refused with file and line when wrong --------
for kv in "max_messages: -1" "max_messages: 10k" "max_size: 12X" "max_size: 99999999999999G" \
    "digest: weekly" "quota: some"; do
	printf 'junk:\n  %s\n' "$kv" > "$T/bad.yaml"; chmod 600 "$T/bad.yaml"
	"$BACKSTOP" scan -r "$T/bad.yaml" "$FIX/ham-plain.eml" >/dev/null 2>"$T/err"
	is "$?" 78 "junk.$kv: a broken rule file (78)"
	grep -q "^backstop: $T/bad.yaml:2:[0-9]*: junk\.${kv%%:*}: " "$T/err"; ok $? "... naming file, line and key"
done
for kv in "max_messages: 0" "max_size: 0" "max_size: 512k" "digest: off" "quota: ignore"; do
	printf 'junk:\n  %s\n' "$kv" > "$T/good.yaml"; chmod 600 "$T/good.yaml"
	"$BACKSTOP" scan -r "$T/good.yaml" "$FIX/ham-plain.eml" >/dev/null 2>&1
	is "$?" 0 "junk.$kv: accepted"
done

# --- junk.quota: ignore (Dovecot's quota_rule = Junk:ignore) -------------
# Junk is outside the quota: filing there is neither checked nor counted,
# a recount leaves it out, and expire subtracts nothing for it
G=$T/ignore/Maildir
mkdir -p "$G/cur" "$G/new" "$G/tmp"
{ cat "$FIX/rules.yaml"; printf 'junk:\n  quota: ignore\n'; } > "$T/ignore.yaml"; chmod 600 "$T/ignore.yaml"
printf '1000S\n0 0\n' > "$G/maildirsize"
"$BACKSTOP" deliver -d "$G" -r "$T/ignore.yaml" < "$FIX/dsn-forged.eml"
is "$?:$(cat "$G/maildirsize")" "0:1000S
0 0" "quota: ignore: backscatter filed over a 1000-byte quota, not counted"
"$BACKSTOP" deliver -d "$G" -r "$T/ignore.yaml" < "$FIX/ham-plain.eml"
hs=$(wc -c < "$FIX/ham-plain.eml" | tr -d ' ')
is "$?:$(sed -n '$p' "$G/maildirsize")" "0:$hs 1" "... the inbox still counted"
perl -e 'print "0 0\n" x 1300' >> "$G/maildirsize"
"$BACKSTOP" deliver -d "$G" -r "$T/ignore.yaml" < "$FIX/ham-plain.eml"
is "$(sed -n 2p "$G/maildirsize")" "$hs 1" "... a recount leaves Junk out"
"$BACKSTOP" expire -r "$T/ignore.yaml" --older-than 0 --force "$G" > /dev/null
is "$(awk 'NR > 1 { b += $1; c += $2 } END { print b, c }' "$G/maildirsize")" "$((2 * hs)) 2" \
    "... and expire subtracts nothing for it"

done_testing
