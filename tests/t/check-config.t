#!/bin/sh
# backstop check-config: the rules deliver would use, the maildir and its
# folders writable, the sent index, syslog; exit 0 when all is well, 78
# with every problem named (FILE:LINE: for a rule file).  And the paths of
# a virtual user (no account, no home): -u USER@DOMAIN with %u/%d/%h in
# -r, -d and outbound.sent_index, for check-config and deliver alike; an
# expanded user file that is missing leaves the system rules alone.
. "$(dirname "$0")/../lib.sh"
scratch
FORGED=$FIX/dsn-forged.eml	# backscatter with the fixture rules
OURS=$FIX/dsn-ours.eml
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1
OTHER=54321			# a uid without a passwd entry
CAN_AS=0
if [ $ROOT = 1 ] && command -v setpriv > /dev/null &&
    ! getent passwd $OTHER > /dev/null; then
	CAN_AS=1
	as() { setpriv --reuid=$OTHER --regid=$OTHER --clear-groups "$@"; }
fi
mkmd() { mkdir -p "$1/tmp" "$1/new" "$1/cur"; }
cc() { "$BACKSTOP" check-config "$@" > "$T/out" 2> "$T/err"; }
left_in_tmp() { find "$1" -path '*/tmp/*' -type f | grep -c .; }

# --- a good configuration -----------------------------------------------------
R=$T/good.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
M=$T/Maildir; mkmd "$M"
cc -r "$R" -d "$M"
is $? 0 "good config: exit 0"
grep -q "^ok" "$T/out"; ok $? "good config: says ok"
grep -qF "  $R:4: ^<[0-9]{14}" "$T/out"; ok $? "good config: prints the pattern with FILE:LINE"
grep -qx "verdicts.backscatter: .Junk" "$T/out"; ok $? "good config: prints where backscatter goes"
grep -qx "maildir $M: writable" "$T/out"; ok $? "good config: the maildir is writable"
grep -qx "folder $M/.Junk: missing, deliver creates it (in $M)" "$T/out"
ok $? "good config: a missing Junk folder is one deliver creates"
! grep -v 'warning:' "$T/err" | grep -q .; ok $? "good config: no problem on stderr"
is "$(left_in_tmp "$M")" 0 "good config: the write probe left nothing in tmp/"
[ ! -e "$M/.Junk" ]; ok $? "good config: check-config created no folder"
if [ -S /dev/log ]; then
	ok 0 "# SKIP /dev/log exists: no warning expected"
else
	grep -q "^backstop: warning: /dev/log: " "$T/err"
	ok $? "no syslog socket: a warning, not a problem"
fi
# the same as deliver: the forged DSN goes to Junk with these paths
"$BACKSTOP" deliver -r "$R" -d "$M" < "$FORGED"
[ -n "$(only_new "$M/.Junk")" ]; ok $? "good config: deliver files the forged DSN in Junk"
cc -r "$R" -d "$M"
grep -qx "folder $M/.Junk: writable" "$T/out"; ok $? "good config: the Junk folder, once made, is writable"

# --- a bad pattern: the file and line named, exit 78 ------------------------------
B=$T/bad.yaml
rules "$B" <<'EOF'
# a typo in the second pattern
outbound:
  message_id:
    - '^<[0-9]{14}@mail\.example\.org>$'
    - '^<[0-9]{14}@(mail\.example\.net>$'
EOF
cc -r "$B" -d "$M"
is $? 78 "bad pattern: exit 78"
grep -q "^backstop: $B:5:7: bad pattern .*missing closing parenthesis" "$T/err"
ok $? "bad pattern: FILE:LINE:COLUMN and PCRE2's message ($(head -c 120 "$T/err"))"
grep -q "^deliver would use no rules" "$T/out"; ok $? "bad pattern: says deliver would use no rules"
grep -q "^backstop: 1 problem" "$T/err"; ok $? "bad pattern: counts the problems"

# a broken system file and a broken user file: both named in one run
S=$T/sys.yaml
rules "$S" <<'EOF'
junk:
  expire_after: soon
EOF
BACKSTOP_SYSTEM_RULES=$S "$BACKSTOP" check-config -r "$B" -d "$M" > "$T/out" 2> "$T/err"
is $? 78 "broken system and user rules: exit 78"
grep -q "^backstop: $S:2:17: junk.expire_after" "$T/err"; ok $? "broken system rules: named with line"
grep -q "^backstop: $B:5:7: bad pattern" "$T/err"; ok $? "broken user rules: named too"
grep -q "^backstop: 2 problems" "$T/err"; ok $? "two problems counted"

# a rule file others may write: refused, as deliver refuses it
G=$T/gw.yaml; cp "$R" "$G"; chmod 620 "$G"
cc -r "$G" -d "$M"
is $? 78 "group-writable rules: exit 78"
grep -q "^backstop: $G: writable by group or others" "$T/err"; ok $? "group-writable rules: says why"

# -r that does not exist, as given: an error (as deliver has it)
cc -r "$T/nonexistent.yaml" -d "$M"
is $? 78 "-r FILE missing: exit 78"

# --- a maildir backstop cannot write ------------------------------------------------
RO=$T/ro/Maildir; mkmd "$RO"; mkmd "$RO/.Junk"
if [ $CAN_AS = 1 ]; then
	chmod 755 "$T"; chmod 644 "$R"	# readable by the other uid
	chown $OTHER "$R"; chmod 600 "$R"	# and owned by it, as vmail's
	as "$BACKSTOP" check-config -r "$R" -d "$RO" > "$T/out" 2> "$T/err"
	is $? 78 "unwritable maildir (root's, checked as uid $OTHER): exit 78"
	chown 0 "$R"
	how="uid $OTHER"
else
	chmod a-w "$RO/tmp" "$RO/new" "$RO/.Junk/tmp" "$RO/.Junk/new"
	cc -r "$R" -d "$RO"
	is $? 78 "unwritable maildir (mode a-w): exit 78"
	chmod u+w "$RO/tmp" "$RO/new" "$RO/.Junk/tmp" "$RO/.Junk/new"
	how="a-w"
fi
grep -q "^backstop: $RO/tmp: not writable" "$T/err"; ok $? "unwritable maildir ($how): reported"
grep -q "^backstop: $RO/.Junk/tmp: not writable" "$T/err"; ok $? "unwritable Junk ($how): reported"
grep -q "exit 75" "$T/err"; ok $? "unwritable maildir: says deliver would defer"
is "$(left_in_tmp "$RO")" 0 "unwritable maildir: nothing left in tmp/"

# a maildir deliver cannot create
cc -r "$R" -d /proc/backstop-no/Maildir
is $? 78 "maildir in a place nothing can be created: exit 78"
grep -q "^backstop: /proc/backstop-no/Maildir: missing, and deliver cannot create it" "$T/err"
ok $? "maildir that cannot be created: reported"

# a read-only file system: access() would say yes for root, the probe no
if [ $ROOT = 1 ] && mkdir -p "$T/rofs" && mount -t tmpfs -o size=1m tmpfs "$T/rofs" 2>/dev/null; then
	mkmd "$T/rofs/Maildir"
	mount -o remount,ro "$T/rofs"
	cc -r "$R" -d "$T/rofs/Maildir"
	is $? 78 "read-only file system: exit 78"
	grep -q "^backstop: $T/rofs/Maildir/tmp: .*Read-only file system" "$T/err"
	ok $? "read-only file system: the write probe finds it"
	umount "$T/rofs"
else
	ok 0 "# SKIP read-only file system: needs root and tmpfs"
	ok 0 "# SKIP read-only file system: needs root and tmpfs"
fi

# --- virtual users: -u USER@DOMAIN, %u %d %h in -r, -d, sent_index --------------
mkdir -p "$T/users/example.org" "$T/vmail"
U=$T/users/example.org/alice.yaml
cp "$R" "$U"; chmod 600 "$U"
cc -u alice@example.org -r "$T/users/%d/%u.yaml" -d "$T/vmail/%d/%u/Maildir"
is $? 78 "virtual user, no directory for the maildir: exit 78"
grep -qx "user rules: $U" "$T/out"; ok $? "virtual user: -r %d/%u.yaml expanded"
grep -qx "backstop: $T/vmail/example.org/alice/Maildir: missing, and deliver cannot create it: $T/vmail/example.org/alice is not a writable directory (deliver makes the maildir, not its parents)" "$T/err"
ok $? "virtual user: -d with %d/%u expanded; a missing parent reported"
mkdir -p "$T/vmail/example.org/alice" "$T/vmail/example.org/bob"
cc -u alice@example.org -r "$T/users/%d/%u.yaml" -d "$T/vmail/%d/%u/Maildir"
is $? 0 "virtual user: exit 0 once the user's directory is there"
grep -qx "maildir $T/vmail/example.org/alice/Maildir: missing, deliver creates it (in $T/vmail/example.org/alice)" "$T/out"
ok $? "virtual user: the maildir deliver creates"

cc -u bob@example.org -r "$T/users/%d/%u.yaml" -d "$T/vmail/%d/%u/Maildir"
is $? 0 "virtual user without a rule file: exit 0"
grep -qx "user rules: $T/users/example.org/bob.yaml (missing: the system rules alone apply)" "$T/out"
ok $? "virtual user without a rule file: the system rules alone"

USER=carol@example.net "$BACKSTOP" check-config -r "$T/users/%d/%u.yaml" \
    -d "$T/vmail/%d/%u/Maildir" > "$T/out" 2> "$T/err"
grep -qx "user rules: $T/users/example.net/carol.yaml (missing: the system rules alone apply)" "$T/out"
ok $? "virtual user: without -u, \$USER (Dovecot sets it) gives %u and %d"

for bad in ../etc@example.org .hidden@example.org a/b@example.org alice@../x alice@; do
	cc -u "$bad" -r "$T/users/%d/%u.yaml" -d "$T/vmail/%d/%u/Maildir"
	is $? 78 "virtual user '$bad': refused, exit 78"
done
grep -q "^backstop: -d .*empty or starts with '.'" "$T/err"; ok $? "an empty domain: says why"
env -u USER "$BACKSTOP" check-config -r "$T/users/%u.yaml" -d "$M" > "$T/out" 2> "$T/err"
is $? 78 "%u without -u or \$USER: exit 78"
grep -q "give -u USER@DOMAIN" "$T/err"; ok $? "%u without a user: says to give -u"
cc -u alice@example.org -r "$T/users/%x.yaml" -d "$M"
grep -q "unknown '%x'" "$T/err"; ok $? "unknown %x: named"

# sent index of a user with no home, by expansion
rules "$T/users/example.org/dave.yaml" <<EOF
outbound:
  sent: true
  sent_index: $T/vmail/%d/%u/backstop-sent.idx
EOF
mkmd "$T/vmail/example.org/dave/Maildir"
env -u HOME "$BACKSTOP" check-config -u dave@example.org -r "$T/users/%d/%u.yaml" \
    -d "$T/vmail/%d/%u/Maildir" > "$T/out" 2> "$T/err"
is $? 0 "sent index by expansion: exit 0"
grep -q "^sent index: $T/vmail/example.org/dave/backstop-sent.idx (not built yet" "$T/out"
ok $? "sent index by expansion: its path and state"

# deliver with the same paths
D=$T/vmail/example.org/alice/Maildir
"$BACKSTOP" deliver -u alice@example.org -r "$T/users/%d/%u.yaml" \
    -d "$T/vmail/%d/%u/Maildir" < "$FORGED"
is $? 0 "deliver -u: exit 0"
[ -n "$(only_new "$D/.Junk")" ]
ok $? "deliver -u: the forged DSN in alice's Junk, by alice's rules"
"$BACKSTOP" deliver -u alice@example.org -r "$T/users/%d/%u.yaml" \
    -d "$T/vmail/%d/%u/Maildir" < "$OURS"
grep -q '^X-Backstop: ours' "$(only_new "$D")"; ok $? "deliver -u: our own bounce in alice's inbox"
E=$T/vmail/example.org/bob/Maildir
"$BACKSTOP" deliver -u bob@example.org -r "$T/users/%d/%u.yaml" \
    -d "$T/vmail/%d/%u/Maildir" < "$FORGED"
is $? 0 "deliver -u, no rule file for the user: exit 0"
grep -q '^X-Backstop: unknown;' "$(only_new "$E")"
ok $? "deliver -u, no rule file for the user: the system rules (none): inbox, unknown"
"$BACKSTOP" deliver -u ../x@example.org -r "$T/users/%d/%u.yaml" \
    -d "$T/vmail/%d/%u/Maildir" < "$FORGED" 2> "$T/err"
is $? 75 "deliver -u with a local part '../x': exit 75, never outside the tree"
grep -q "^backstop: -d .*temporary failure$" "$T/err"; ok $? "deliver -u '../x': one line saying why"
[ ! -e "$T/vmail/x" ]; ok $? "deliver -u '../x': nothing created outside the tree"

# --- a rule file owned by the uid that runs backstop (vmail) ----------------------
if [ $CAN_AS = 1 ]; then
	V=$T/vm; mkdir -p "$V/users"; chmod 755 "$V" "$V/users"
	cp "$FIX/rules.yaml" "$V/users/u.yaml"
	chown $OTHER "$V/users/u.yaml"; chmod 600 "$V/users/u.yaml"
	mkmd "$V/Maildir"; chown -R $OTHER "$V/Maildir"
	as "$BACKSTOP" check-config -r "$V/users/u.yaml" -d "$V/Maildir" > "$T/out" 2> "$T/err"
	is $? 0 "rule file owned by the delivering uid (vmail): accepted"
	as "$BACKSTOP" deliver -r "$V/users/u.yaml" -d "$V/Maildir" < "$FORGED"
	[ -n "$(only_new "$V/Maildir/.Junk")" ]; ok $? "rule file owned by the delivering uid: deliver uses it"
	chmod 660 "$V/users/u.yaml"
	as "$BACKSTOP" check-config -r "$V/users/u.yaml" -d "$V/Maildir" > "$T/out" 2> "$T/err"
	is $? 78 "owned by the delivering uid but group-writable: refused"
	chmod 644 "$V/users/u.yaml"; chown 1 "$V/users/u.yaml"
	as "$BACKSTOP" check-config -r "$V/users/u.yaml" -d "$V/Maildir" > "$T/out" 2> "$T/err"
	is $? 78 "owned by another user (uid 1): refused"
	grep -q "owned by uid 1, not by you or root" "$T/err"; ok $? "owned by another user: says so"
	chown 0 "$V/users/u.yaml"
	as "$BACKSTOP" check-config -r "$V/users/u.yaml" -d "$V/Maildir" > "$T/out" 2> "$T/err"
	is $? 0 "owned by root, read by the delivering uid: accepted"
else
	for i in 1 2 3 4 5 6 7; do ok 0 "# SKIP needs root and setpriv"; done
fi

# --- as root: the warning the docs promise, whoever owns the maildir -------------
if [ $ROOT = 1 ]; then
	cc -r "$R" -d "$M"
	grep -q '^backstop: warning: checked as root, who may read and write anywhere: run it as the user who delivers' "$T/err"
	ok $? "as root, a root-owned maildir: the warning is there"
else
	ok 0 "# SKIP not root"
fi

# --- --filter: backstop filter writes no maildir (Dovecot LMTP makes it) ---------
cc --filter -u alice@example.org -r "$T/users/%d/%u.yaml" -d "$T/vmail/%d/%u/Nested/Maildir"
is $? 0 "--filter, a maildir whose parents are missing: exit 0"
grep -qx "maildir $T/vmail/example.org/alice/Nested/Maildir: not there yet (filter writes none; Dovecot creates it with its parents, procmail and maildrop need it made first)" "$T/out"
ok $? "--filter: the maildir is looked at, not required"
! grep -q "deliver makes the maildir, not its parents" "$T/err"
ok $? "--filter: no problem about the maildir's parents"

# --- the mail system's side (Postfix through postconf and MAIL_CONFIG) ---------
if [ -x /usr/sbin/postconf ]; then
	P=$T/postfix; mkdir -p "$P"
	cat > "$P/main.cf" <<EOF
mailbox_command = /nonexistent/bin/backstop deliver
recipient_delimiter = +
virtual_mailbox_domains = example.org
virtual_transport = backstop
EOF
	cat > "$P/master.cf" <<'EOF'
backstop  unix  -       n       n       -       -       pipe
  flags=DORhu user=vmail argv=/usr/bin/backstop deliver -u ${recipient} -d /var/vmail/%d/%u/Maildir
EOF
	MAIL_CONFIG=$P "$BACKSTOP" check-config -r "$R" -d "$M" > "$T/out" 2> "$T/err"
	is $? 78 "Postfix's mailbox_command runs a backstop that is not there: exit 78"
	sed 's/^/# /' "$T/out" "$T/err" | grep -i 'postfix'
	grep -qx 'postfix: mailbox_command = /nonexistent/bin/backstop deliver' "$T/out"
	ok $? "check-config shows mailbox_command"
	grep -q "^backstop: Postfix's mailbox_command runs /nonexistent/bin/backstop: No such file or directory (the mail it hands over is deferred" "$T/err"
	ok $? "and says the binary it runs is missing"
	grep -q '^postfix: master.cf: backstop *unix.*pipe.*argv=/usr/bin/backstop deliver -u ${recipient}' "$T/out"
	ok $? "check-config shows the pipe(8) service that runs backstop"
	grep -q "^backstop: warning: Postfix's service backstop passes \${recipient}, and recipient_delimiter = +: .*pass -u \${user}@\${domain}\$" "$T/err"
	ok $? "-u \${recipient} with a recipient_delimiter: a warning and the fix"
	grep -q "^backstop: warning: Postfix's service backstop: backstop_destination_recipient_limit = [0-9]*: set it to 1" "$T/err"
	ok $? "a pipe service without its recipient limit of 1: a warning"
	grep -q "^backstop: warning: Postfix: virtual_mailbox_domains without virtual_mailbox_maps: mail to any address of those domains is accepted" "$T/err"
	ok $? "virtual domains whose recipients are not checked: a warning (backscatter of the host's own)"
else
	for i in 1 2 3 4 5 6 7; do ok 0 "# SKIP no /usr/sbin/postconf"; done
fi

# --- usage -----------------------------------------------------------------------
"$BACKSTOP" check-config extra > /dev/null 2>&1
is $? 64 "an argument too many: exit 64"
"$BACKSTOP" check-config -h | grep -q '^usage: backstop check-config'
ok $? "check-config -h: usage on stdout"
done_testing
