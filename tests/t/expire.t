#!/bin/sh
# backstop expire, junk and restore on real maildirs (issue 4).
#
# expire: a Junk folder with files of chosen mtimes, flag-renamed files in
# cur/, a symlink pointing outside, a dotfile, a stale and a fresh tmp/
# file and a maildirsize file; exactly what remains is checked, and that
# --dry-run removes nothing.  junk: what it lists.  restore: byte for byte.
. "$(dirname "$0")/../lib.sh"
scratch_home

# mk FILE AGE [CONTENT]: a file whose mtime (and atime) is AGE ago
mk() {
	mkdir -p "$(dirname "$1")"
	printf '%s' "${3:-message $1
}" > "$1"
	touch -d "$2 ago" "$1"
}

# The tree below a directory: type, name, and for files the size, as
# stable text; a second snapshot must be identical after a dry run.
snap() {
	(cd "$1" && find . -mindepth 1 \( -type l -printf 'l %p -> %l\n' \) \
	    -o \( -type f -printf 'f %p %s %T@\n' \) -o \( -type d \
	    -printf 'd %p\n' \) | sort)
}

# What remains in a folder's cur/ new/ tmp/, one name per line, sorted;
# the names backstop gave (see mkb) shown by their label.
left() {
	(cd "$1" && find cur new tmp -mindepth 1 2>/dev/null | \
	    sed 's|/[0-9]*\.M1P1Q1R0000000000000000\.|/|' | sort | tr '\n' ' ')
}

# mkb DIR LABEL AGE [CONTENT]: a message backstop filed AGE ago into DIR:
# its X-Backstop: field first, its unique name <sec>.M..P..Q..R..<.host>
# with the filing time (LABEL as the host part, with ,S= and :2,FLAGS),
# and its mtime, both AGE ago.  Prints the path.
XB='X-Backstop: backscatter; kind=dsn; original=<x@y>; rule=-
'
mkb() {
	_t=$(date -d "$3 ago" +%s)
	_f="$1/$_t.M1P1Q1R0000000000000000.$2"
	mkdir -p "$1"
	printf '%s%s' "$XB" "${4:-
message $2
}" > "$_f"
	touch -d "@$_t" "$_f"
	echo "$_f"
}

# build DIR: the maildir used by the expiry tests
build() {
	M=$1
	mkdir -p "$M/cur" "$M/new" "$M/tmp" "$M/.Junk/cur" "$M/.Junk/new" \
	    "$M/.Junk/tmp" "$T/outside"
	: > "$M/.Junk/maildirfolder"
	J=$M/.Junk
	mkb "$J/new" "a40,S=1000" "40 days" >/dev/null	# ,S= counts
	mkb "$J/cur" "b40:2,S" "40 days" "0123456789" >/dev/null # 10+${#XB}
	mkb "$J/cur" "c20,S=200:2,RS" "20 days" >/dev/null
	mkb "$J/new" "d10" "10 days" \
	    "0123456789012345678901234567890123" >/dev/null
	mkb "$J/cur" "e13h:2,S" "13 hours" >/dev/null
	mkb "$J/new" "f1h" "1 hour" >/dev/null
	mk "$J/cur/.dot40:2,S" "40 days"	# dot names are never touched
	mk "$J/tmp/stale" "37 hours" "12345"	# an abandoned delivery
	mk "$J/tmp/fresh" "2 hours" "123"	# a delivery in progress
	mkdir -p "$J/cur/dir40"; touch -d "40 days ago" "$J/cur/dir40"
	mk "$T/outside/victim" "40 days" "not junk"
	ln -sf "$T/outside/victim" "$J/cur/link40:2,S"
	touch -h -d "40 days ago" "$J/cur/link40:2,S"
	ln -sf "$T/outside/victim" "$J/tmp/link40"
	touch -h -d "40 days ago" "$J/tmp/link40"
	# old mail outside Junk: never expired
	mk "$M/new/inbox40" "40 days"
	mk "$M/cur/inbox40:2,S" "40 days"
	mk "$M/.Other/cur/other40:2,S" "40 days"
	printf '100000S,1000C\n1226 3\n' > "$M/maildirsize"
}

# --- default age (30d from the rules' default), default maildir ----------
build "$HOME/Maildir"
before=$(snap "$HOME/Maildir")
out=$("$BACKSTOP" expire --dry-run -r "$T/empty.yaml"); rc=$?
is "$rc" 0 "dry run exits 0"
is "$(snap "$HOME/Maildir")" "$before" "dry run removed nothing, touched nothing"
is "$(printf '%s\n' "$out" | sed -n '$p')" \
    "would remove 3, keep 4, free 1073 bytes" "dry run summary"
is "$(printf '%s\n' "$out" | sed '$d' | sed "s|^$HOME/Maildir/||" | \
    sed 's|/[0-9]*\.M1P1Q1R0000000000000000\.|/|' | sort | tr '\n' ' ')" \
    ".Junk/cur/b40:2,S .Junk/new/a40,S=1000 .Junk/tmp/stale " \
    "dry run lists exactly what it would remove"

out=$("$BACKSTOP" expire -r "$T/empty.yaml" 2>"$T/err"); rc=$?
is "$rc" 0 "expire exits 0"
is "$out" "removed 3, kept 4, freed 1073 bytes" "one-line summary on stdout"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(left "$HOME/Maildir/.Junk")" \
    "cur/.dot40:2,S cur/c20,S=200:2,RS cur/dir40 cur/e13h:2,S cur/link40:2,S new/d10 new/f1h tmp/fresh tmp/link40 " \
    "exactly the old regular files of cur/ new/ and the stale tmp/ file went"
is "$(cat "$T/outside/victim")" "not junk" "the symlinks' target survives"
test -f "$HOME/Maildir/new/inbox40" && test -f "$HOME/Maildir/cur/inbox40:2,S" \
    && test -f "$HOME/Maildir/.Other/cur/other40:2,S"
ok $? "old mail outside the Junk folder stays"
is "$(cat "$HOME/Maildir/maildirsize")" "100000S,1000C
1226 3
-1068 -2" "maildirsize: one line with the negative size and count (,S= or length; tmp/ not counted)"

out=$("$BACKSTOP" expire -r "$T/empty.yaml"); rc=$?
is "$rc:$out" "0:removed 0, kept 4, freed 0 bytes" "a second run finds nothing more"
is "$(sed -n '$p' "$HOME/Maildir/maildirsize")" "-1068 -2" \
    "nothing removed: maildirsize untouched"

# --- AGE forms: 2w, 12h, 30d, plain days --------------------------------
for case in "2w:4:c20,S=200:2,RS" "12h:6:e13h:2,S" "30d:3:" "15:4:c20,S=200:2,RS" \
    "36h:5:"; do
	age=${case%%:*}; rest=${case#*:}; want=${rest%%:*}; extra=${rest#*:}
	rm -rf "$T/m-$age"; build "$T/m-$age"
	out=$("$BACKSTOP" expire -r "$T/empty.yaml" --older-than "$age" \
	    "$T/m-$age"); rc=$?
	is "$rc:$(echo "$out" | sed 's/,.*//')" "0:removed $want" \
	    "--older-than $age removes $want"
	if [ -n "$extra" ]; then
		case " $(left "$T/m-$age/.Junk") " in
		*" cur/$extra "*) ok 1 "--older-than $age: $extra removed" ;;
		*) ok 0 "--older-than $age: $extra removed" ;;
		esac
	fi
done
rm -rf "$T/m-eq"; build "$T/m-eq"
"$BACKSTOP" expire -r "$T/empty.yaml" --older-than=1h "$T/m-eq" >/dev/null
is "$(left "$T/m-eq/.Junk")" \
    "cur/.dot40:2,S cur/dir40 cur/link40:2,S tmp/fresh tmp/link40 " \
    "--older-than=1h: every message filed an hour ago or earlier"

# --- rules: junk.folder and junk.expire_after ----------------------------
rm -rf "$T/mr"; build "$T/mr"
mv "$T/mr/.Junk" "$T/mr/.Spam"
mkdir -p "$T/mr/.Junk/cur"; mk "$T/mr/.Junk/cur/x40:2,S" "40 days"
rules "$T/spam.yaml" <<'EOF'
junk:
  folder: Spam
  expire_after: 15d
EOF
out=$("$BACKSTOP" expire -r "$T/spam.yaml" "$T/mr/"); rc=$?
is "$rc:$out" "0:removed 4, kept 3, freed 1273 bytes" \
    "junk.folder and junk.expire_after from the rule file"
test -f "$T/mr/.Junk/cur/x40:2,S"
ok $? "with folder: Spam, .Junk is not touched"
out=$(BACKSTOP_SYSTEM_RULES="$T/spam.yaml" "$BACKSTOP" expire -r "$T/empty.yaml" \
    --dry-run "$T/mr"); rc=$?
is "$rc:$(echo "$out" | sed -n '$p')" "0:would remove 0, keep 3, free 0 bytes" \
    "the system file's junk settings apply under an empty user file"
out=$("$BACKSTOP" expire -r "$T/spam.yaml" --older-than 1w --dry-run "$T/mr")
is "$(echo "$out" | sed -n '$p')" "would remove 1, keep 2, free 92 bytes" \
    "--older-than wins over junk.expire_after"

# --- (issue 13) only what backstop filed, aged from when it was filed ----
# .Junk is also the mail client's spam folder: what the user moved in over
# IMAP has no X-Backstop: field and its mtime is its received date.
rm -rf "$T/mu"; mkdir -p "$T/mu/cur" "$T/mu/new" "$T/mu/tmp"
U=$T/mu/.Junk
mk "$U/cur/1700000000.M1P2.imap,S=500:2,S" "40 days" "spam moved in by the user"
mk "$U/new/1700000001.M1P2.imap" "40 days" "From: x
X-Backstop-Incoming: backscatter; kind=dsn

someone else's field"
mk "$U/new/1700000002.M1P2.imap" "40 days" "From: x

X-Backstop: backscatter; in the body, not the header"
# backstop's name says filed a minute ago, its mtime 40 days: the later wins
YOUNG=$(mkb "$U/cur" "young:2,S" "1 minute"); touch -d "40 days ago" "$YOUNG"
# backstop's name says 40 days, its mtime a minute: the later wins
YOUNG2=$(mkb "$U/new" "young2" "40 days"); touch "$YOUNG2"
OLD=$(mkb "$U/cur" "old:2,S" "40 days" "0123456789")
printf '100000S,1000C\n1000 10\n' > "$T/mu/maildirsize"
out=$("$BACKSTOP" expire -r "$T/empty.yaml" "$T/mu" 2>"$T/err"); rc=$?
is "$rc:$out" "0:removed 1, kept 5, freed 68 bytes" \
    "expire removes only what backstop filed at least 30 days ago"
test ! -e "$OLD"
ok $? "... backstop's old message is gone"
test -f "$U/cur/1700000000.M1P2.imap,S=500:2,S" && test -f "$U/new/1700000001.M1P2.imap" \
    && test -f "$U/new/1700000002.M1P2.imap"
ok $? "... the user's own spam stays, whatever its mtime (no X-Backstop: in its header)"
test -f "$YOUNG" && test -f "$YOUNG2"
ok $? "... a message is old only when both its name and its mtime say so"
is "$(sed -n '$p' "$T/mu/maildirsize")" "-68 -1" "... maildirsize: only the removed message"
# --all: other mail too, aged from when it entered the folder (ctime),
# never from its mtime (the received date)
out=$("$BACKSTOP" expire -r "$T/empty.yaml" --all "$T/mu" 2>"$T/err"); rc=$?
is "$rc:$out" "0:removed 0, kept 5, freed 0 bytes" \
    "expire --all: mail moved in a moment ago is young, its old mtime notwithstanding"
sleep 2
out=$("$BACKSTOP" expire -r "$T/empty.yaml" --all --older-than 1s "$T/mu" 2>"$T/err"); rc=$?
is "$rc:$out" "0:removed 5, kept 0, freed 784 bytes" \
    "expire --all --older-than 1s: the user's mail too, once in the folder long enough"
is "$(sed -n '$p' "$T/mu/maildirsize")" "-784 -5" "... maildirsize: ,S= or the length"
# an age of 0 is never a default nor a slip
YOUNG3=$(mkb "$U/new" "y3" "1 minute")
"$BACKSTOP" expire -r "$T/empty.yaml" --older-than 0 "$T/mu" >/dev/null 2>"$T/err"
is "$?" 64 "--older-than 0 without --force: usage error"
test -f "$YOUNG3"
ok $? "... nothing removed"
grep -q -- '--force' "$T/err"
ok $? "... the message says how to mean it"
"$BACKSTOP" expire -r "$T/empty.yaml" --older-than 0s "$T/mu" >/dev/null 2>&1
is "$?" 64 "--older-than 0s: the same"
out=$("$BACKSTOP" expire -r "$T/empty.yaml" --older-than 0 --dry-run "$T/mu"); rc=$?
is "$rc:$(echo "$out" | sed -n '$p')" "0:would remove 1, keep 0, free 70 bytes" \
    "--older-than 0 --dry-run: shows, needs no --force"
test -f "$YOUNG3"
ok $? "... and removes nothing"
"$BACKSTOP" expire -r "$T/empty.yaml" --force "$T/mu" >/dev/null 2>&1
is "$?" 64 "--force without --older-than 0: usage error"
out=$("$BACKSTOP" expire -r "$T/empty.yaml" --older-than 0 --force "$T/mu"); rc=$?
is "$rc:$out" "0:removed 1, kept 0, freed 70 bytes" \
    "--older-than 0 --force: every message backstop filed, now"
rules "$T/never.yaml" <<'EOF2'
junk:
  expire_after: 0
EOF2
rm -rf "$T/mn"; build "$T/mn"
out=$("$BACKSTOP" expire -r "$T/never.yaml" "$T/mn"); rc=$?
is "$rc:$out" "0:removed 1, kept 6, freed 5 bytes" \
    "junk.expire_after: 0 is never: no message removed (an abandoned tmp/ file is)"

# a restore's claim in Junk tmp/ ("restoring.SUB.NAME": across
# filesystems, NAME the name its copy takes in the inbox) is not an
# abandoned delivery, however old its mtime (the message's): while a
# restore holds it (flock) it is left alone
rm -rf "$T/mk"; build "$T/mk"
C=$T/mk/.Junk/tmp/restoring.cur.1700000000.M1P2.h:2,S
mk "$C" "40 days" "being restored"
flock -o "$C" sleep 5 & holder=$!
sleep 0.5
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mk" >/dev/null 2>&1
test -f "$C"
ok $? "expire leaves a claim that a restore holds alone, however old its mtime"
kill $holder 2>/dev/null; wait $holder 2>/dev/null
# a claim nobody holds: the restore was interrupted.  Its copy is in the
# inbox only if the inbox's SUB/NAME holds the same bytes; another
# message of that name is not its copy, and the claim goes back to Junk
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mk" >/dev/null 2>"$T/err"
test ! -e "$C" && [ "$(cat "$T/mk/.Junk/cur/1700000000.M1P2.h:2,S")" = "being restored" ]
ok $? "an interrupted restore's claim without its copy is put back into Junk"
grep -q 'an interrupted restore, put back' "$T/err"; ok $? "... and said on stderr"
mk "$C" "40 days" "the claimed message"
printf 'another message of that name\n' > "$T/mk/cur/1700000000.M1P2.h:2,S"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mk" >/dev/null 2>&1
n=0; for f in "$T"/mk/.Junk/cur/*; do [ "$(cat "$f")" = "the claimed message" ] && n=$((n + 1)); done
is "$n:$(cat "$T/mk/cur/1700000000.M1P2.h:2,S")" "1:another message of that name" \
    "a claim whose name the inbox holds with other bytes: never removed, put back (a fresh name)"
mk "$C" "40 days" "copied already"
printf 'copied already' > "$T/mk/new/1700000000.M1P2.h:2,S"
mv "$C" "$T/mk/.Junk/tmp/restoring.new.1700000000.M1P2.h:2,S"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mk" >/dev/null 2>&1
test ! -e "$T/mk/.Junk/tmp/restoring.new.1700000000.M1P2.h:2,S" &&
    [ "$(cat "$T/mk/new/1700000000.M1P2.h:2,S")" = "copied already" ] &&
    ! grep -rqs 'copied already' "$T/mk/.Junk"
ok $? "a claim whose copy the inbox holds (same bytes): the leftover claim goes"

# two expires at once over the same folder: each message is removed and
# subtracted from the quota once
rm -rf "$T/mp"; mkdir -p "$T/mp/cur" "$T/mp/new" "$T/mp/tmp"
i=0
while [ $i -lt 300 ]; do
	mkb "$T/mp/.Junk/cur" "p$i,S=100:2,S" "40 days" >/dev/null
	i=$((i + 1))
done
printf '100000S,1000C\n30000 300\n' > "$T/mp/maildirsize"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mp" > "$T/o1" 2>&1 &
p1=$!
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mp" > "$T/o2" 2>&1 &
p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
is "$r1:$r2" "0:0" "two expires at once: both exit 0"
is "$(ls -A "$T/mp/.Junk/cur" | wc -l | tr -d ' ')" 0 "... every old message is gone"
is "$(awk 'NR > 1 { b += $1; c += $2 } END { print b, c }' "$T/mp/maildirsize")" "0 0" \
    "... and maildirsize sums to exactly zero (no message subtracted twice)"
is "$(cat "$T/o1" "$T/o2" | sed 's/removed \([0-9]*\),.*/\1/' | awk '{ n += $1 } END { print n }')" 300 \
    "... their counts add up to the 300 messages"

# --- refusals and errors -------------------------------------------------
# (issue 13) a Junk folder that is a symbolic link of the maildir's owner
# is followed by every command, as deliver does; nothing inside is
rm -rf "$T/ml"; mkdir -p "$T/ml/cur" "$T/ml/new" "$T/ml/tmp" "$T/elsewhere/cur"
mk "$T/elsewhere/cur/precious40:2,S" "40 days"
OLDB=$(mkb "$T/elsewhere/cur" "old40:2,S" "40 days" "0123456789")
ln -s "$T/outside/victim" "$T/elsewhere/cur/link40:2,S"
touch -h -d "40 days ago" "$T/elsewhere/cur/link40:2,S"
ln -s "$T/elsewhere" "$T/ml/.Junk"
out=$("$BACKSTOP" junk -r "$T/empty.yaml" "$T/ml" 2>"$T/err"); rc=$?
is "$rc:$(echo "$out" | wc -l | tr -d ' ')" "0:2" \
    "junk: a symbolic-link Junk folder of the maildir's owner is listed"
out=$("$BACKSTOP" expire -r "$T/empty.yaml" "$T/ml" 2>"$T/err"); rc=$?
is "$rc:$out" "0:removed 1, kept 1, freed 68 bytes" \
    "expire: a symbolic-link Junk folder is expired like any other"
test ! -e "$OLDB" && test -f "$T/elsewhere/cur/precious40:2,S" && \
    test -L "$T/elsewhere/cur/link40:2,S" && \
    [ "$(cat "$T/outside/victim")" = "not junk" ]
ok $? "... backstop's old message behind the link went, the rest stays"
R1=$(mkb "$T/elsewhere/cur" "r1:2,S" "2 days")
out=$("$BACKSTOP" restore -r "$T/empty.yaml" -d "$T/ml" "$T/ml/.Junk/cur/${R1##*/}" 2>"$T/err"); rc=$?
is "$rc" 0 "restore: from a symbolic-link Junk folder"
test ! -e "$R1" && test -f "$T/ml/cur/${R1##*/}"
ok $? "... moved into the inbox's cur/ under its own name"
chown -h nobody "$T/ml/.Junk"
"$BACKSTOP" expire -r "$T/empty.yaml" --older-than 1d "$T/ml" >/dev/null 2>"$T/err"
rc=$?
is "$rc" 75 "a Junk link of another owner than the maildir's: refused"
test -f "$T/elsewhere/cur/precious40:2,S"
ok $? "... and nothing behind the link is removed"
grep -q 'symbolic link' "$T/err"
ok $? "... with a message that says why"
"$BACKSTOP" junk -r "$T/empty.yaml" "$T/ml" >/dev/null 2>&1
is "$?" 75 "... junk refuses it too"
chown -h root "$T/ml/.Junk"; chown nobody "$T/elsewhere"
"$BACKSTOP" expire -r "$T/empty.yaml" --older-than 1d "$T/ml" >/dev/null 2>&1
is "$?" 75 "a Junk link to a directory of another owner: refused"
chown root "$T/elsewhere"

rm -rf "$T/mc"; mkdir -p "$T/mc/.Junk" "$T/elsewhere2"
mk "$T/elsewhere2/precious40" "40 days"
ln -s "$T/elsewhere2" "$T/mc/.Junk/cur"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mc" >/dev/null 2>"$T/err"; rc=$?
is "$rc" 75 "cur/ a symbolic link: temporary failure"
test -f "$T/elsewhere2/precious40"
ok $? "... and its target directory is left alone"
is "$(cat "$T/err")" "backstop: $T/mc/.Junk/cur: a symbolic link, not followed" \
    "... and stderr says it is a link (not 'Not a directory')"
# names with control bytes are escaped in what is said on stderr
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/no$(printf '\033')[2Jsuch" >/dev/null 2>"$T/err"
is "$?:$(cat "$T/err")" "75:backstop: maildir $T/no\\033[2Jsuch: No such file or directory" \
    "expire: a maildir name with control bytes is escaped on stderr"
mkdir -p "$T/esc/.Junk"; ln -s "$T/elsewhere2" "$T/esc/.Junk/new"
mv "$T/esc/.Junk" "$T/esc/.Ju$(printf '\t')nk"
printf 'junk:\n  folder: ".Ju\\tnk"\n' > "$T/escj.yaml"; chmod 600 "$T/escj.yaml"
"$BACKSTOP" expire -r "$T/escj.yaml" "$T/esc" >/dev/null 2>"$T/err"
is "$(cat "$T/err")" "backstop: $T/esc/.Ju\\tnk/new: a symbolic link, not followed" \
    "expire: a folder name with a tab is escaped on stderr"

mkdir -p "$T/nojunk/cur"
out=$("$BACKSTOP" expire -r "$T/empty.yaml" "$T/nojunk"); rc=$?
is "$rc:$out" "0:removed 0, kept 0, freed 0 bytes" "no Junk folder yet: nothing to do"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/does-not-exist" >/dev/null 2>&1
is "$?" 75 "a missing maildir: temporary failure"

rules "$T/bad.yaml" <<'EOF'
junk: [
EOF
"$BACKSTOP" expire -r "$T/bad.yaml" "$HOME/Maildir" >/dev/null 2>&1
is "$?" 75 "a broken rule file: temporary failure, nothing expired"
rules "$T/open.yaml" < /dev/null; chmod 666 "$T/open.yaml"
"$BACKSTOP" expire -r "$T/open.yaml" "$HOME/Maildir" >/dev/null 2>&1
is "$?" 75 "a rule file others can write: refused, temporary failure"
rules "$T/slash.yaml" <<'EOF'
junk:
  folder: ../../outside
EOF
"$BACKSTOP" expire -r "$T/slash.yaml" "$HOME/Maildir" >/dev/null 2>&1
is "$?" 75 "junk.folder with '/' or '..': refused"

for args in "--older-than 3x" "--older-than -1d" "--older-than 12hh" \
    "--older-than" "--bogus" "a b" "-x"; do
	# shellcheck disable=SC2086
	"$BACKSTOP" expire -r "$T/empty.yaml" $args >/dev/null 2>&1
	is "$?" 64 "usage error: expire $args"
done
"$BACKSTOP" expire --help >/dev/null
is "$?" 0 "expire --help"

# read-only Junk directories cannot be tested as root (root may unlink)
if [ "$(id -u)" != 0 ]; then
	rm -rf "$T/mro"; build "$T/mro"; chmod 555 "$T/mro/.Junk/cur"
	"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mro" >/dev/null 2>&1
	is "$?" 75 "an unlink that fails: temporary failure"
	chmod 755 "$T/mro/.Junk/cur"
fi

# maildirsize whose last line was cut short: our line stays a line
rm -rf "$T/mq"; build "$T/mq"; printf '100000S,1000C\n12' > "$T/mq/maildirsize"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mq" >/dev/null
is "$(sed -n '$p' "$T/mq/maildirsize")" "-1068 -2" "maildirsize without a final newline"
rm -rf "$T/mq"; build "$T/mq"; rm "$T/mq/maildirsize"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mq" >/dev/null
test ! -e "$T/mq/maildirsize"
ok $? "no maildirsize: none is created"
rm -rf "$T/mq"; build "$T/mq"; rm "$T/mq/maildirsize"
: > "$T/outside/quota"; ln -s "$T/outside/quota" "$T/mq/maildirsize"
"$BACKSTOP" expire -r "$T/empty.yaml" "$T/mq" >/dev/null 2>&1
is "$(wc -c < "$T/outside/quota" | tr -d ' ')" 0 "a maildirsize symlink is not written through"

# --- junk: the listing ---------------------------------------------------
rules "$T/ours.yaml" <<'EOF'
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]{6,20}@mail\.example\.org>$'
EOF
cat > "$T/dsn.eml" <<'EOF'
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: ann@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 5 Jan 2026 10:00:00 +0000
Message-ID: <20260105100000.BOUNCE1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain

This is the mail system at host mx.example.net.
Your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; nobody@example.net
Action: failed
Status: 5.1.1

--BOUNDARY
Content-Type: text/rfc822-headers

From: ann@example.org
To: nobody@example.net
Subject: cheap pills
Message-ID: <FORGED.1234@spammer.example>

--BOUNDARY--
EOF
MJ=$T/mj
"$BACKSTOP" deliver -d "$MJ" -r "$T/ours.yaml" < "$T/dsn.eml"
is "$?" 0 "a forged bounce is delivered"
set -- "$MJ"/.Junk/new/*
JF=$1
test -f "$JF"
ok $? "... into .Junk/new"
touch -d "2026-01-05 10:01:00" "$JF"
# a hand-filed one with hostile bytes and a folded subject, in cur/
printf 'X-Backstop: backscatter; kind=ndr; original=<a;b@x>; rule=-\r\nFrom: \033[31mpostmaster@evil.example\r\nSubject: Returned\r\n\tmail:\tsee\007 below\r\n\r\nbody\r\n' \
    > "$MJ/.Junk/cur/2.host:2,S"
touch -d "2026-01-04 09:00:00" "$MJ/.Junk/cur/2.host:2,S"
printf 'From: someone@example.com\nSubject: moved here by hand\n\nhi\n' \
    > "$MJ/.Junk/cur/3.host:2,"
touch -d "2026-01-06 00:00:00" "$MJ/.Junk/cur/3.host:2,"
mk "$MJ/.Junk/cur/.hidden" "1 day"
# RFC 2047 words decoded for a person, UTF-8 shown, controls and bytes
# that are no UTF-8 still '?'
printf 'From: =?ISO-8859-1?Q?Syst=E8me_de_messagerie?= <postmaster@example.fr>\nSubject: =?UTF-8?B?w4ljaGVjIGRlIGxhIGRpc3RyaWJ1dGlvbg==?= =?UTF-8?Q?_a=1Bb?= \377\n\nx\n' \
    > "$MJ/.Junk/cur/4.host:2,"
touch -d "2026-01-07 00:00:00" "$MJ/.Junk/cur/4.host:2,"
ln -s "$T/outside/victim" "$MJ/.Junk/new/link"
TAB=$(printf '\t')
out=$("$BACKSTOP" junk -r "$T/ours.yaml" "$MJ"); rc=$?
is "$rc" 0 "junk exits 0"
is "$(echo "$out" | wc -l | tr -d ' ')" 4 "one line per message (no dotfile, no link)"
is "$(echo "$out" | sed -n 1p)" \
    "2026-01-04 09:00${TAB}<a;b@x>${TAB}?[31mpostmaster@evil.example${TAB}Returned mail: see? below${TAB}backscatter; kind=ndr; rule=-${TAB}$MJ/.Junk/cur/2.host:2,S" \
    "oldest first; control bytes shown as '?', folded subject on one line"
is "$(echo "$out" | sed -n 2p)" \
    "2026-01-05 10:01${TAB}<FORGED.1234@spammer.example>${TAB}Mail Delivery System <MAILER-DAEMON@mx.example.net>${TAB}Undelivered Mail Returned to Sender${TAB}backscatter; kind=dsn; rule=-${TAB}$JF" \
    "date filed, original Message-ID, From, Subject, why, file"
is "$(echo "$out" | sed -n 3p)" \
    "2026-01-06 00:00${TAB}-${TAB}someone@example.com${TAB}moved here by hand${TAB}-${TAB}$MJ/.Junk/cur/3.host:2," \
    "no X-Backstop: header: '-'"
is "$(echo "$out" | sed -n 4p | cut -f3,4)" \
    "Système de messagerie <postmaster@example.fr>${TAB}Échec de la distribution a?b ?" \
    "encoded words decoded (ISO-8859-1, UTF-8), controls and stray bytes '?'"
out=$(cd "$T" && HOME=$T/nohome "$BACKSTOP" junk -r "$T/ours.yaml" mj/ | cut -f6)
is "$(echo "$out" | sed -n 1p)" "mj/.Junk/cur/2.host:2,S" "the FILE column can be given to restore"
mkdir -p "$T/mj-home/Maildir/new"
out=$(HOME="$T/mj-home" "$BACKSTOP" junk -r "$T/ours.yaml"); rc=$?
is "$rc:$out" "0:" "no maildir Junk folder: empty list, exit 0"
"$BACKSTOP" junk -r "$T/ours.yaml" "$MJ" > /dev/full 2>"$T/err"
is "$?" 74 "junk: stdout unwritable: 74, as scan, explain and learn"
grep -q 'write error' "$T/err"; ok $? "... and said on stderr"
# a message that cannot be read is said, not skipped in silence; the
# others are listed; 74 as scan for a file it cannot read
U=$(mktemp -d /tmp/backstop-unread.XXXXXX)
mkdir -p "$U/m/.Junk/cur"; cp "$MJ/.Junk/cur/3.host:2," "$U/m/.Junk/cur/"
printf 'Subject: secret\n\nx\n' > "$U/m/.Junk/cur/9.host:2,"
cp "$T/ours.yaml" "$U/r.yaml"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	cp "$BACKSTOP" "$U/backstop"; chmod -R a+rX "$U"; chown -R nobody "$U/m" "$U/r.yaml"
	as_other() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$U/backstop" "$@"; }
else
	as_other() { "$BACKSTOP" "$@"; }
fi
chmod 000 "$U/m/.Junk/cur/9.host:2,"
out=$(cd / && HOME=/nonexistent as_other junk -r "$U/r.yaml" "$U/m" 2>"$T/err"); rc=$?
is "$rc:$(echo "$out" | wc -l | tr -d ' ')" "74:1" "junk: an unreadable message: 74, the others listed"
is "$(cat "$T/err")" "backstop: $U/m/.Junk/cur/9.host:2,: Permission denied" "... and it is named on stderr"
rm -rf "$U"
"$BACKSTOP" junk -r "$T/ours.yaml" a b >/dev/null 2>&1
is "$?" 64 "junk: usage error"

# --- restore -------------------------------------------------------------
cp "$JF" "$T/saved"
out=$("$BACKSTOP" restore -d "$MJ" "$JF"); rc=$?
is "$rc" 0 "restore exits 0"
NEW=$(only_new "$MJ")
test -n "$NEW" && cmp -s "$NEW" "$T/saved"
ok $? "restored into the inbox's new/ byte for byte (X-Backstop: kept)"
grep -q '^X-Backstop: backscatter; kind=dsn' "$NEW"
ok $? "... the X-Backstop: header stays as the record"
test ! -e "$JF"
ok $? "... and the Junk copy is gone"
is "$out" "$JF -> $NEW" "restore says where it went"
is "$(ls -A "$MJ/tmp")" "" "no tmp file left behind"

# default maildir, several files, flag-renamed cur/ files
mkdir -p "$HOME/Maildir/.Junk/cur"
printf 'Subject: one\r\n\r\nCRLF body\r\n' > "$HOME/Maildir/.Junk/cur/r1:2,S"
printf 'Subject: two\n\n\000NUL and 8-bit \351\n' > "$HOME/Maildir/.Junk/cur/r2:2,RS"
cp "$HOME/Maildir/.Junk/cur/r1:2,S" "$T/r1"; cp "$HOME/Maildir/.Junk/cur/r2:2,RS" "$T/r2"
(cd "$HOME/Maildir/.Junk/cur" && "$BACKSTOP" restore "r1:2,S" "r2:2,RS" >/dev/null)
is "$?" 0 "restore of two files into \$HOME/Maildir"
cmp -s "$HOME/Maildir/cur/r1:2,S" "$T/r1" && cmp -s "$HOME/Maildir/cur/r2:2,RS" "$T/r2"
ok $? "... both byte for byte (CRLF, NUL, 8-bit) into cur/, flags kept"

# failures leave the message where it was
ln -s "$T/outside/victim" "$MJ/.Junk/cur/link:2,S"
"$BACKSTOP" restore -d "$MJ" "$MJ/.Junk/cur/link:2,S" >/dev/null 2>&1
is "$?" 64 "restore of a symbolic link: refused"
test -L "$MJ/.Junk/cur/link:2,S" && [ "$(cat "$T/outside/victim")" = "not junk" ]
ok $? "... the link and its target stay"
"$BACKSTOP" restore -d "$MJ" "$MJ/.Junk/cur/no-such-file" >/dev/null 2>&1
is "$?" 75 "restore of a missing file of the Junk folder: temporary failure"
mkdir -p "$T/broken/.Junk/new"; : > "$T/broken/new"
cp "$MJ/.Junk/cur/3.host:2," "$T/broken/.Junk/new/3.host"
"$BACKSTOP" restore -d "$T/broken" "$T/broken/.Junk/new/3.host" >/dev/null 2>&1
is "$?" 75 "inbox cannot be written: temporary failure"
test -f "$T/broken/.Junk/new/3.host"
ok $? "... and the Junk copy is kept"
is "$(ls -A "$T/broken/tmp" 2>/dev/null)" "" "... with no tmp file left behind"
"$BACKSTOP" restore >/dev/null 2>&1
is "$?" 64 "restore without FILE: usage error"
"$BACKSTOP" restore -z x >/dev/null 2>&1
is "$?" 64 "restore with an unknown option: usage error"

done_testing
