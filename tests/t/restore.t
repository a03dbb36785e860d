#!/bin/sh
# backstop restore (issue 13): only files of the Junk folder, claimed
# atomically (concurrent restores never duplicate), moved with their name,
# flags and mtime, across filesystems too; and the junk / scan -> restore
# pipeline with file names that hold spaces, tabs and backslashes.
. "$(dirname "$0")/../lib.sh"
scratch_home
TAB=$(printf '\t')

# jmsg FILE: a message as backstop files it, mtime two days ago
jmsg() {
	mkdir -p "$(dirname "$1")"
	printf 'X-Backstop: backscatter; kind=dsn; original=<%s@x>; rule=-\nFrom: MAILER-DAEMON@example.net\nSubject: bounce\n\nbody of %s\n' \
	    "${1##*/}" "${1##*/}" > "$1"
	touch -d "2 days ago" "$1"
}
maildir() {
	mkdir -p "$1/cur" "$1/new" "$1/tmp" "$1/.Junk/cur" "$1/.Junk/new" "$1/.Junk/tmp"
	: > "$1/.Junk/maildirfolder"
}
count() { find "$1" -type f | wc -l | tr -d ' '; }

# --- only files of the Junk folder ----------------------------------------
M=$T/m; maildir "$M"; mkdir -p "$M/.Other/cur"
printf 'precious\n' > "$T/elsewhere"
printf 'inbox mail\n' > "$M/cur/inbox:2,S"
printf 'other folder\n' > "$M/.Other/cur/other:2,S"
jmsg "$M/.Junk/tmp/intmp"
printf '100000S,1000C\n500 5\n' > "$M/maildirsize"
for f in "$T/elsewhere" "$M/cur/inbox:2,S" "$M/.Other/cur/other:2,S" \
    "$M/.Junk/tmp/intmp" "$M/.Junk/maildirfolder" "$M/.Junk/cur/../../cur/inbox:2,S"; do
	cp "$f" "$T/before"
	"$BACKSTOP" restore -d "$M" "$f" >/dev/null 2>"$T/err"; rc=$?
	is "$rc" 64 "restore refuses ${f#$T/}: not a message of the Junk folder"
	cmp -s "$f" "$T/before" && grep -q 'not a message' "$T/err"
	ok $? "... it is left untouched, and stderr says why"
done
is "$(count "$M/new")" 0 "... nothing was put into the inbox"
mkdir -p "$T/d"; ln -s "$M/.Junk/cur" "$T/d/via"
jmsg "$M/.Junk/cur/viaL:2,S"
"$BACKSTOP" restore -d "$M" "$T/d/via/viaL:2,S" >/dev/null 2>&1
is "$?" 0 "a path that reaches Junk's cur/ another way is the same directory"
"$BACKSTOP" restore -d "$M" "$M/.Junk/cur/.hidden" >/dev/null 2>&1
is "$?" 64 "a dot name: refused"

# --- a move that keeps name, flags, mtime, bytes and the quota -----------
jmsg "$M/.Junk/cur/1767607261.M1P2.host,S=140:2,RS"
jmsg "$M/.Junk/new/1767607262.M1P2.host"
cp "$M/.Junk/cur/1767607261.M1P2.host,S=140:2,RS" "$T/c1"
mt=$(stat -c %Y "$M/.Junk/cur/1767607261.M1P2.host,S=140:2,RS")
out=$("$BACKSTOP" restore -d "$M" "$M/.Junk/cur/1767607261.M1P2.host,S=140:2,RS" \
    1767607262.M1P2.host); rc=$?
is "$rc" 0 "restore of a cur/ path and a bare name (as junk prints it)"
F=$M/cur/1767607261.M1P2.host,S=140:2,RS
cmp -s "$F" "$T/c1" && [ "$(stat -c %Y "$F")" = "$mt" ] && test -f "$M/new/1767607262.M1P2.host"
ok $? "... cur/ into cur/ with its flags and mtime, new/ into new/, byte for byte"
is "$(cat "$M/maildirsize")" "100000S,1000C
500 5" "... a move inside the Maildir++ tree leaves maildirsize alone"
is "$(printf '%s\n' "$out" | sed -n 1p)" \
    "$M/.Junk/cur/1767607261.M1P2.host,S=140:2,RS -> $F" "... and says where it went"
# the inbox already has that name: a fresh one, flags kept
jmsg "$M/.Junk/cur/dup:2,S"; cp "$M/.Junk/cur/dup:2,S" "$T/dup"; printf 'other\n' > "$M/cur/dup:2,S"
"$BACKSTOP" restore -d "$M" "$M/.Junk/cur/dup:2,S" >/dev/null; rc=$?
n=0; for f in "$M"/cur/*:2,S; do cmp -s "$f" "$T/dup" && n=$((n + 1)); done
is "$rc:$n:$(cat "$M/cur/dup:2,S")" "0:1:other" "a name taken in the inbox: a fresh name, nothing replaced"

# --- 8 restores at once of the same 5 files: exactly 5 ------------------
concurrent() {	# concurrent MAILDIR: restore .Junk's 5 files 8 times at once
	set -- "$1" "$(cd "$1/.Junk/cur" && ls)"
	i=0; pids=
	while [ $i -lt 8 ]; do
		(cd "$1/.Junk/cur" && echo "$2" | "$BACKSTOP" restore -d "$1" --stdin \
		    >/dev/null 2>&1) &
		pids="$pids $!"; i=$((i + 1))
	done
	# shellcheck disable=SC2086
	wait $pids
}
check5() {	# check5 MAILDIR LABEL
	is "$(count "$1/cur")" 5 "$2: exactly 5 messages in the inbox"
	is "$(count "$1/.Junk/cur"):$(count "$1/.Junk/tmp"):$(count "$1/tmp")" "0:0:0" \
	    "$2: the Junk folder is empty, no claim or tmp file left"
	n=0
	for k in 1 2 3 4 5; do
		f=$1/cur/c$k:2,S$k
		cmp -s "$f" "$1.ref/$k" && [ "$(stat -c %Y "$f")" = "$(stat -c %Y "$1.ref/$k")" ] &&
		    n=$((n + 1))
	done
	is "$n" 5 "$2: each byte for byte, under its name with its flags, mtime kept"
}
P=$T/p; maildir "$P"
mkdir -p "$P.ref"
for k in 1 2 3 4 5; do jmsg "$P/.Junk/cur/c$k:2,S$k"; cp -p "$P/.Junk/cur/c$k:2,S$k" "$P.ref/$k"; done
printf '100000S,1000C\n700 5\n' > "$P/maildirsize"
concurrent "$P"
check5 "$P" "8 concurrent restores"
is "$(cat "$P/maildirsize")" "100000S,1000C
700 5" "8 concurrent restores: maildirsize unchanged"

# --- a Junk folder on another filesystem (a symbolic link to it) ---------
SHM=
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	SHM=$(mktemp -d /dev/shm/backstop-test.XXXXXX)
	trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T" "$SHM"' EXIT
fi
if [ -n "$SHM" ] && [ "$(stat -c %d "$SHM")" != "$(stat -c %d "$T")" ]; then
	X=$T/x; mkdir -p "$X/cur" "$X/new" "$X/tmp" "$SHM/Junk/cur" "$SHM/Junk/new" "$SHM/Junk/tmp"
	ln -s "$SHM/Junk" "$X/.Junk"
	mkdir -p "$X.ref"
	for k in 1 2 3 4 5; do jmsg "$X/.Junk/cur/c$k:2,S$k"; cp -p "$X/.Junk/cur/c$k:2,S$k" "$X.ref/$k"; done
	printf '100000S,1000C\n700 5\n' > "$X/maildirsize"
	concurrent "$X"
	check5 "$X" "8 concurrent restores across filesystems"
	is "$(cat "$X/maildirsize")" "100000S,1000C
700 5" "... maildirsize net unchanged (a copy in, the Junk copy out)"
else
	for k in 1 2 3 4 5 6 7; do ok 0 "# SKIP no second filesystem at /dev/shm"; done
fi

# --- junk | ... | restore --stdin, with spaces, tabs and backslashes -----
Q="$T/q dir"; maildir "$Q"
jmsg "$Q/.Junk/cur/with space:2,S"
jmsg "$Q/.Junk/cur/with${TAB}tab:2,S"
jmsg "$Q/.Junk/new/back\\slash"
jmsg "$Q/.Junk/new/nl
line"
jmsg "$Q/.Junk/new/x\\tnot a tab"
mkdir -p "$T/q.cur" "$T/q.new"
for f in "$Q"/.Junk/*/*; do cp "$f" "$T/q.${f##*/.Junk/}"; done
out=$("$BACKSTOP" junk -r "$T/empty.yaml" "$Q"); rc=$?
is "$rc:$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "0:5" "junk: one line per message, whatever its name"
is "$(printf '%s\n' "$out" | awk -F'\t' 'NF != 6' | wc -l | tr -d ' ')" 0 \
    "... each of exactly six tab-separated fields"
printf '%s\n' "$out" | cut -f6 | sort > "$T/names"
is "$(cat "$T/names")" "$Q/.Junk/cur/with space:2,S
$Q/.Junk/cur/with\\ttab:2,S
$Q/.Junk/new/back\\\\slash
$Q/.Junk/new/nl\\nline
$Q/.Junk/new/x\\\\tnot a tab" "... FILE escaped: tab, line end and backslash as C escapes"
printf '%s\n' "$out" | cut -f6 | "$BACKSTOP" restore -r "$T/empty.yaml" -d "$Q" --stdin >/dev/null 2>"$T/err"
is "$?:$(cat "$T/err")" "0:" "junk | cut -f6 | restore --stdin: exit 0, nothing on stderr"
is "$(count "$Q/.Junk/cur"):$(count "$Q/.Junk/new")" "0:0" "... the Junk folder is empty"
cmp -s "$Q/cur/with space:2,S" "$T/q.cur/with space:2,S" &&
    cmp -s "$Q/cur/with${TAB}tab:2,S" "$T/q.cur/with${TAB}tab:2,S" &&
    cmp -s "$Q/new/back\\slash" "$T/q.new/back\\slash" &&
    cmp -s "$Q/new/nl
line" "$T/q.new/nl
line" && cmp -s "$Q/new/x\\tnot a tab" "$T/q.new/x\\tnot a tab"
ok $? "... every message in the inbox under its own name, byte for byte"
printf 'bad\\q\n' | "$BACKSTOP" restore -d "$Q" --stdin >/dev/null 2>&1
is "$?" 64 "restore --stdin: a malformed escape is refused"
printf 'bad\\q\001\001\001\001\n' | "$BACKSTOP" restore -d "$Q" --stdin >/dev/null 2>"$T/err"
is "$(cat "$T/err")" "backstop: --stdin: 'bad\\\\q\\001\\001\\001\\001': not a name as junk prints it, not restored" \
    "... and quoted whole, escaped as junk prints names"
"$BACKSTOP" restore -d "$Q" --stdin x >/dev/null 2>&1
is "$?" 64 "restore: --stdin and FILE arguments together: usage error"

# scan's PATH column: the same escape, one line per message
jmsg "$Q/.Junk/cur/s${TAB}can
nl\\:2,S"
out=$("$BACKSTOP" scan -r "$T/empty.yaml" "$Q/.Junk"); rc=$?
is "$rc:$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "0:1" "scan: one line for a name with a tab and a newline"
is "$(printf '%s\n' "$out" | cut -f1)" "$Q/.Junk/cur/s\\tcan\\nnl\\\\:2,S" "... PATH escaped"
printf '%s\n' "$out" | cut -f1 | "$BACKSTOP" restore -r "$T/empty.yaml" -d "$Q" --stdin >/dev/null
is "$?:$(count "$Q/.Junk/cur")" "0:0" "scan | cut -f1 | restore --stdin"

done_testing
