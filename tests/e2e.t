#!/bin/bash
# End to end with real mail software from Debian's packages, on loopback:
# Exim and Postfix ~/.forward pipes, procmail, maildrop, dovecot-lda with
# Sieve, Dovecot IMAP reading what backstop filed, and a harness for
# qmail-local's |command contract (Debian ships no qmail).
#
# Needs root and a Debian machine that may be reconfigured: it installs
# missing packages (tests/e2e/install.sh), swaps Postfix for Exim and back
# (the two conflict as packages; Postfix stays installed), starts Postfix
# and Exim on 127.0.0.1:2525 (and a second Postfix smtpd on :2526, a
# remote MX that refuses) and a private Dovecot on 127.0.0.1:1143, adds
# the users bse2e*, puts its own /etc/backstop/rules.yaml in place, and
# undoes all of it at the end, also when a test fails.  It skips when a
# mail system it did not start is running.  BACKSTOP_E2E=skip skips it.
# docs/setups.md and docs/hosts.md show the
# files of tests/e2e/conf/ verbatim; the first tests check that.
#
# A mail host: the recipes of docs/hosts.md (every local user through
# Postfix's mailbox_command or Exim's router; virtual users through
# Dovecot LMTP with a global Sieve script, or through a Postfix pipe(8)
# transport) are taken from the page as written and run, each from
# Debian's own configuration: the real /etc/exim4, /etc/postfix and
# /etc/dovecot, saved before and put back after.  Only five names are
# the suite's (common.sh, to_test_paths), and systemctl and apt are
# answered by the suite.  So are the recipes that make Postfix and Exim
# hand each message a local user sends to backstop record: its real
# bounce, with a Message-ID the MTA wrote and no sent copy anywhere, must
# be ours, and the copy must end in no mailbox and no queue; and backstop
# sendmail, as mutt runs it, with Postfix's sendmail.  Then backstop
# learn, on this Postfix host with no sent folder, must propose a pattern
# that matches every Message-ID Postfix wrote in the run, with short and
# with long queue IDs.

. "$(dirname "$0")/lib.sh"
. "$TOP/tests/e2e/common.sh"

# --- may we run? -------------------------------------------------------------

[ "${BACKSTOP_E2E:-}" = skip ] && skip_all "BACKSTOP_E2E=skip"
[ "$(id -u)" -eq 0 ] ||
	skip_all "needs root (installs packages, starts Postfix, Exim and Dovecot, adds users); run: sudo make check-e2e"
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null ||
	skip_all "needs a Debian system with apt-get"
[ -x "$BACKSTOP" ] || { echo "1..1"; echo "not ok 1 - no binary to test: $BACKSTOP"; exit 1; }

# One run at a time on a machine (make check in two trees, say).
exec 9> "$E2E_LOCK"
flock -w 1200 9 || { echo "1..1"; echo "not ok 1 - $E2E_LOCK held for 20 minutes"; exit 1; }

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
e2e_teardown	# what a killed run left behind

listening() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 25 587 "$SMTP_PORT" "$SINK_PORT" "$IMAP_PORT"; do
	listening "$port" && skip_all "something listens on 127.0.0.1:$port: a mail system runs here, and this suite reconfigures and swaps the MTA"
done
if command -v postfix >/dev/null && postfix status >/dev/null 2>&1; then
	skip_all "a Postfix runs here that this suite did not start"
fi
alive "$(cat "$DCS_PID" 2>/dev/null)" &&
	skip_all "a Dovecot runs here ($DCS_PID) that this suite did not start"

trap 'e2e_teardown' EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$W"
chmod 755 "$W"	# the test users read configuration files in it
LOG=$W/e2e.log	# package installs and daemon start-up output
: > "$LOG"

# --- the docs show exactly what is tested -----------------------------------

# Each file of tests/e2e/conf/ that is a set-up a user copies must appear
# in docs/setups.md, with the installed paths of a user.
sect=$(sed -n '/^<!-- section: setups -->$/,/^<!-- \/section: setups -->$/p' "$TOP/docs/setups.md")
for f in forward procmailrc mailfilter-xfilter mailfilter-deliver \
    dovecot-sieve.conf dovecot.sieve dot-qmail; do
	want=$(readme_conf "$f" /usr/local/bin/backstop)
	case $sect in *"$want"*) r=0 ;; *) r=1 ;; esac
	ok $r "docs/setups.md shows tests/e2e/conf/$f verbatim"
done
# The mail host's files, with the package's paths (readme_conf)
sect=$(sed -n '/^<!-- section: admin -->$/,/^<!-- \/section: admin -->$/p' "$TOP/docs/hosts.md")
for f in main.cf-mailbox_command exim-router exim-transport main.cf-lmtp \
    main.cf-pipe master.cf-pipe dovecot-lmtp.conf backstop.sieve \
    postfix-record.forward postfix-record-refuse exim-record-main \
    exim-record.filter exim-record-router exim-record-transport; do
	want=$(readme_conf "$f")
	case $sect in *"$want"*) r=0 ;; *) r=1 ;; esac
	ok $r "docs/hosts.md shows tests/e2e/conf/$f verbatim"
done
# Every block of commands of the mail host's page is a recipe the suite
# runs (the package's is deb.t's): no step is only read
blocks=$(echo "$sect" | grep -c '^```sh$')
recipes=$(echo "$sect" | grep -c '^<!-- recipe: [a-z_-]* -->$')
is "$blocks" "$recipes" "docs/hosts.md: every block of commands is a recipe the tests run"
for rc_ in package mailbox_command exim virtual lmtp lmtp-link lmtp-check \
    pipe pipe-check record-postfix record-exim; do
	[ -n "$(recipe_text $rc_)" ]; ok $? "docs/hosts.md has the recipe $rc_"
done

# --- packages, the binary under test, users ----------------------------------

t=$EPOCHREALTIME
"$E2E/install.sh" exim >> "$LOG" 2>&1
ok $? "packages installed: common ones and Exim ($(since "$t") s)"

install -D -m 755 "$BACKSTOP" "$E2E_BIN"
ok $? "backstop under test installed as $E2E_BIN"

rules_for() {	# rules_for USER [LINE]: ~/.backstop.yaml: our outgoing Message-IDs
	{ printf "outbound:\n  message_id:\n    - '%s'\n" "$OUR_MID_RE"
	  [ -z "${2:-}" ] || printf '%s\n' "$2"; } |
		put "$1" 600 "$(home_of "$1")/.backstop.yaml"
}
bad=0
for u in $E2E_USERS; do
	case $u in
	$VMAIL_USER)	# made by the recipe of docs/hosts.md
		;;
	bse2erec)	# its bounces: also what backstop record saw leave
		useradd -m -s /bin/sh "$u" && rules_for "$u" "  record: true" || bad=1 ;;
	bse2emc2)	# no ~/.backstop.yaml: the system rules alone
		useradd -m -s /bin/sh "$u" || bad=1 ;;
	*)	useradd -m -s /bin/sh "$u" && rules_for "$u" || bad=1 ;;
	esac
done
conf forward | put bse2efwd 644 "$(home_of bse2efwd)/.forward" || bad=1
conf forward | put bse2eex 644 "$(home_of bse2eex)/.forward" || bad=1
conf procmailrc | put bse2epm 644 "$(home_of bse2epm)/.procmailrc" || bad=1
as_user bse2epm mkdir -p "$(home_of bse2epm)/Maildir" || bad=1
conf mailfilter-xfilter | put bse2emd 600 "$(home_of bse2emd)/.mailfilter" || bad=1
as_user bse2emd sh -c 'maildirmake ~/Maildir && maildirmake -f Junk ~/Maildir' || bad=1
conf dovecot.sieve | put bse2esv 644 "$(home_of bse2esv)/.dovecot.sieve" || bad=1
conf dot-qmail | put bse2eq 644 "$(home_of bse2eq)/.qmail" || bad=1
ok $bad "test users with ~/.backstop.yaml, ~/.forward, ~/.procmailrc, ~/.mailfilter, ~/.dovecot.sieve, ~/.qmail"

# The host's system rules: the host's own outgoing server.  What was in
# /etc/backstop is put back by e2e_teardown.
if [ -e "$SYS_RULES" ]; then cp -p "$SYS_RULES" "$W/sys-rules.saved"
else
	: > "$W/sys-rules.none"
	[ -d /etc/backstop ] || { mkdir /etc/backstop && : > "$W/sys-rules.mkdir"; }
fi
printf "# e2e: the host's outgoing server\noutbound:\n  message_id:\n    - '%s'\n" \
	"$SYS_MID_RE" | put root 644 "$SYS_RULES"
ok $? "system rules in $SYS_RULES: the host's outgoing Message-IDs"

# The binary under test as "backstop" on the PATH of the recipes, as the
# package installs it
mkdir -p "$W/bin" && ln -sf "$E2E_BIN" "$W/bin/backstop"
ok $? "backstop on the recipes' PATH: $W/bin/backstop"

# checks shared by every set-up ------------------------------------------------

# filed LABEL USER FOLDER TAG VERDICT: the message with TAG is stored once
# in USER's maildir, in FOLDER ("" inbox, ".Junk"), and nowhere else, with
# "X-Backstop: VERDICT; ..." ("-": no such field).  Sets F to its path.
filed() {
	local label=$1 u=$2 folder=$3 tag=$4 want=$5 md others got
	md=$(home_of "$u")/Maildir
	F=$(find_msg "$md${folder:+/$folder}" "$tag")
	others=$(all_with "$md" "$tag" | grep -vxF -- "$F" | grep -c .)
	got=$(xb "${F:-/dev/null}" | cut -d';' -f1)
	if [ -n "$F" ] && [ "$others" -eq 0 ] && [ "$got" = "$want" ]; then
		ok 0 "$label: in ${folder:-the inbox}, X-Backstop: $want"
	else
		ok 1 "$label: in ${folder:-the inbox}, X-Backstop: $want"
		diag "stored as: ${F:-nowhere}; X-Backstop: $got; other copies: $others"
		all_with "$md" "$tag" | sed 's/^/#   /'
	fi
}

# tmp_empty LABEL USER: no file left in any tmp/ of the user's maildir
tmp_empty() {
	local left
	left=$(find "$(home_of "$2")/Maildir" -path '*/tmp/*' -type f 2>/dev/null)
	[ -z "$left" ]; ok $? "$1: nothing left in tmp/"
	[ -z "$left" ] || diag "$left"
}

# by_record LABEL HOME ORIGINAL: the X-Backstop: field of $F says ours, of
# the original Message-ID ORIGINAL (a glob), by the sent index in HOME
# alone: what backstop record or backstop sendmail wrote
by_record() {
	local x
	x=$(xb "${F:-/dev/null}")
	case $x in
	"ours; "*"original="$3";"*"rule=sent index $2/.backstop-sent.idx"*) ok 0 "$1" ;;
	*) ok 1 "$1"; diag "X-Backstop: $x" ;;
	esac
}

# set_writable USER yes|no: the user's whole maildir writable or not
set_writable() {
	local m=u-w
	[ "$2" = yes ] && m=u+w
	find "$(home_of "$1")/Maildir" -type d -exec chmod "$m" {} +
}

# =============================================================================
# qmail: qmail-local's |command contract through tests/e2e/qmail-local.sh
# =============================================================================
t=$EPOCHREALTIME
u=bse2eq; rcpt=$u@$DOMAIN; h=$(home_of $u)

tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
out=$("$E2E/qmail-local.sh" $u "$m" "carol@sender.example" "$rcpt" 2>&1)
ok $? "qmail: ham delivered (harness exit 0)"
echo "$out" | grep -q '^program exited 99: '
ok $? "qmail: backstop deliver --qmail exits 99 under qmail"
filed "qmail: ham" $u "" "$tg" -
{ printf 'Return-Path: <carol@sender.example>\nDelivered-To: %s\n' "$rcpt"; cat "$m"; } |
	cmp -s - "$F"
ok $? "qmail: stored as Return-Path: + Delivered-To: + the message byte for byte"

tg=$(tag); m=$(mkmsg qmail "$tg" "$rcpt" "$(forged_mid)")
"$E2E/qmail-local.sh" $u "$m" "" "$rcpt" >> "$LOG" 2>&1
ok $? "qmail: forged qmail-send bounce (null sender) delivered"
filed "qmail: forged bounce" $u .Junk "$tg" backscatter
is "$(head -n 2 "$F" | tr '\n' '|')" "Return-Path: <>|Delivered-To: $rcpt|" \
	"qmail: forged bounce starts with Return-Path: <> and Delivered-To:"
as_sent "$F" "$m"; ok $? "qmail: forged bounce byte for byte after the added fields"

tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
"$E2E/qmail-local.sh" $u "$m" "" "$rcpt" >> "$LOG" 2>&1
ok $? "qmail: bounce of our own message delivered"
filed "qmail: our bounce" $u "" "$tg" ours

# exit 99 stops qmail-local: a later line must not run (no double delivery)
printf '|touch %s/second-line-ran\n' "$h" >> "$h/.qmail"
tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
"$E2E/qmail-local.sh" $u "$m" "carol@sender.example" "$rcpt" >> "$LOG" 2>&1
[ ! -e "$h/second-line-ran" ]
ok $? "qmail: after exit 99 the following .qmail lines are ignored"
conf dot-qmail | put $u 644 "$h/.qmail"

set_writable $u no
tg=$(tag); m=$(mkmsg qmail "$tg" "$rcpt" "$(forged_mid)")
out=$("$E2E/qmail-local.sh" $u "$m" "" "$rcpt" 2>&1); st=$?
is "$st" 111 "qmail: read-only maildir: soft failure, qmail would retry"
echo "$out" | grep -q '^program exited 75: '
ok $? "qmail: read-only maildir: backstop exits 75"
echo "$out" | grep -q '^backstop: .*temporary failure$'
ok $? "qmail: read-only maildir: one line on stderr saying why"
set_writable $u yes
is "$(count_with "$h/Maildir/.Junk" "$tg")" 0 "qmail: read-only maildir: nothing stored"
tmp_empty "qmail: read-only maildir" $u
"$E2E/qmail-local.sh" $u "$m" "" "$rcpt" >> "$LOG" 2>&1
ok $? "qmail: the retry delivers"
filed "qmail: retried bounce" $u .Junk "$tg" backscatter
diag "qmail harness: $(since "$t") s"

# =============================================================================
# Exim: ~/.forward "|backstop deliver" through Debian's default configuration
# =============================================================================
t=$EPOCHREALTIME
u=bse2eex; rcpt=$u@$DOMAIN; h=$(home_of $u)
# -oX: listen on 127.0.0.1:2525 only; -oP: where the pid goes
/usr/sbin/exim4 -bd -oX "127.0.0.1.$SMTP_PORT" -oP "$W/exim.pid" \
	< /dev/null >> "$LOG" 2>&1 &&
	wait_for 15 listening "$SMTP_PORT"
ok $? "Exim started on 127.0.0.1:$SMTP_PORT" && exim_up=1

exim_tests() {
	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	id=$(send carol@sender.example "$rcpt" "$m")
	line=$(exim_status "$id")
	case $line in *" => |$E2E_BIN deliver <$rcpt> R=userforward T=address_pipe"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim: ham delivered through userforward and address_pipe"
	filed "Exim: ham" $u "" "$tg" -
	# Exim's pipe transport writes a From_ line before the message (backstop
	# drops it) and, by default (message_suffix), a newline after it
	as_sent "$F" "$m" '\n'
	ok $? "Exim: ham byte for byte apart from Exim's Received: and one added newline at the end"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	id=$(send "" "$rcpt" "$m"); exim_status "$id" >/dev/null
	filed "Exim: forged DSN sent with MAIL FROM:<>" $u .Junk "$tg" backscatter
	as_sent "$F" "$m" '\n'; ok $? "Exim: forged DSN byte for byte after X-Backstop: and Received:, and one newline"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	id=$(send "" "$rcpt" "$m"); exim_status "$id" >/dev/null
	filed "Exim: DSN of our own message" $u "" "$tg" ours

	# a real Exim bounce: the user sends a message (sendmail, as a mail program
	# does) to a local user that does not exist; Exim bounces it to the user
	tg=$(tag); mid=$(our_mid); m=$(mkmsg own "$tg" "$rcpt" "nosuchuser@$DOMAIN" "$mid")
	n0=$(exim_loglines)
	as_user $u /usr/sbin/sendmail -odi "nosuchuser@$DOMAIN" < "$m"
	bid=$(wait_for "$WAIT" eval "tail -n +$((n0 + 1)) '$EXIM_LOG' | grep -q ' <= <> R='" &&
		tail -n +$((n0 + 1)) "$EXIM_LOG" | sed -n 's/^.\{19\} \([^ ]*\) <= <> R=.*/\1/p' | head -1)
	exim_status "$bid" "$n0" >/dev/null
	F=$(find_msg "$h/Maildir" "$mid")
	is "$(xb "${F:-/dev/null}" | cut -d';' -f1-2)" "ours; kind=dsn" \
		"Exim: Exim's own bounce of our message: inbox, X-Backstop: ours; kind=dsn"

	# backstop cannot write: exit 75, Exim defers, keeps it, delivers after the fix
	set_writable $u no
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	n0=$(exim_loglines)
	id=$(send "" "$rcpt" "$m")
	line=$(exim_status "$id" "$n0")
	case $line in *" == "*"returned 75"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim: read-only maildir: deferred (backstop returned 75)"; [ $r -eq 0 ] || diag "$line"
	exim4 -bp | grep -q " $id "
	ok $? "Exim: read-only maildir: the message stays in Exim's queue"
	set_writable $u yes
	is "$(count_with "$h/Maildir/.Junk" "$tg")" 0 "Exim: read-only maildir: nothing stored"
	tmp_empty "Exim: read-only maildir" $u
	n0=$(exim_loglines)
	exim4 -M "$id" >/dev/null 2>&1
	line=$(exim_status "$id" "$n0")
	case $line in *" => "*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim: after the fix, exim4 -M delivers it"; [ $r -eq 0 ] || diag "$line"
	filed "Exim: deferred forged DSN" $u .Junk "$tg" backscatter
}
if [ -n "${exim_up:-}" ]; then exim_tests; else diag "Exim did not start: no Exim tests"; fi

exim_stop
! listening "$SMTP_PORT"; ok $? "Exim stopped"
for q in $(exiqgrep -i -r "(bse2e|nosuchuser)" 2>/dev/null); do exim4 -Mrm "$q" >/dev/null 2>&1; done
diag "Exim phase: $(since "$t") s"

# =============================================================================
# Exim: every local user at once, backstop's router and transport (the
# files of docs/hosts.md) in Debian's split configuration
# =============================================================================
t=$EPOCHREALTIME
u=bse2eeu; rcpt=$u@$DOMAIN; h=$(home_of $u)
# The recipe of docs/hosts.md on Debian's /etc/exim4 (saved first, put
# back after this phase): the two files into conf.d, the split
# configuration, update-exim4.conf, and Exim restarted on it
exim_etc_sum=$(tree_sum /etc/exim4)
cp -a /etc/exim4 "$W/exim4-etc.saved"
run_recipe exim
ok $? "Exim every user: the recipe of docs/hosts.md runs as written (split configuration, update-exim4.conf, restart)"
grep -q '^backstop_user:' /var/lib/exim4/config.autogenerated 2>/dev/null &&
	listening "$SMTP_PORT"
ok $? "Exim every user: Exim runs the configuration with backstop's router" && exim_eu_up=1

exim_eu_tests() {
	local fu=bse2eex
	# a user with ~/.forward keeps it (userforward comes first)
	tg=$(tag); m=$(mkmsg ham "$tg" "$fu@$DOMAIN")
	id=$(send carol@sender.example "$fu@$DOMAIN" "$m")
	line=$(exim_status "$id")
	case $line in *" R=userforward T=address_pipe"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim every user: a user with ~/.forward keeps it (userforward, address_pipe)"
	[ $r -eq 0 ] || diag "$line"

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	id=$(send carol@sender.example "$rcpt" "$m")
	line=$(exim_status "$id")
	case $line in *" => $u <$rcpt> R=backstop_user T=backstop_pipe"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim every user: ham delivered through backstop_user and backstop_pipe"
	[ $r -eq 0 ] || diag "$line"
	filed "Exim every user: ham" $u "" "$tg" -
	is "$(stat -c %U "${F:-/dev/null}")" $u "Exim every user: ham stored as the user"
	is "$(head -n 2 "${F:-/dev/null}" | tr '\n' '|')" \
		"Return-path: <carol@sender.example>|Envelope-to: $rcpt|" \
		"Exim every user: ham starts with Return-path: and Envelope-to: (return_path_add, envelope_to_add)"
	as_sent "$F" "$m"
	ok $? "Exim every user: ham byte for byte apart from Exim's Return-path:, Envelope-to:, Delivery-date: and Received:"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	id=$(send "" "$rcpt" "$m"); exim_status "$id" >/dev/null
	filed "Exim every user: forged DSN sent with MAIL FROM:<>" $u .Junk "$tg" backscatter
	as_sent "$F" "$m"
	ok $? "Exim every user: forged DSN byte for byte after X-Backstop: and Exim's fields"

	# ~/.backstop.yaml (read through HOME) and the system rules
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	id=$(send "" "$rcpt" "$m"); exim_status "$id" >/dev/null
	filed "Exim every user: DSN of the user's own message (~/.backstop.yaml)" $u "" "$tg" ours
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(sys_mid)")
	id=$(send "" "$rcpt" "$m"); exim_status "$id" >/dev/null
	filed "Exim every user: DSN of the host's message (system rules)" $u "" "$tg" ours

	# backstop cannot write: exit 75, Exim defers, keeps it, delivers after the fix
	set_writable $u no
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	n0=$(exim_loglines)
	id=$(send "" "$rcpt" "$m")
	line=$(exim_status "$id" "$n0")
	case $line in *" == $rcpt "*"T=backstop_pipe defer"*"returned 75"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim every user: read-only maildir: deferred (backstop returned 75)"
	[ $r -eq 0 ] || diag "$line"
	tail -n +$((n0 + 1)) "$EXIM_LOG" |
		grep -qE "^.{19} $id <$rcpt>: backstop_pipe transport output: backstop: .*temporary failure\$"
	ok $? "Exim every user: read-only maildir: backstop's line saying why in the main log (log_defer_output)"
	exim4 -bp | grep -q " $id "
	ok $? "Exim every user: read-only maildir: the message stays in Exim's queue"
	set_writable $u yes
	is "$(count_with "$h/Maildir/.Junk" "$tg")" 0 "Exim every user: read-only maildir: nothing stored"
	tmp_empty "Exim every user: read-only maildir" $u
	n0=$(exim_loglines)
	exim4 -M "$id" >/dev/null 2>&1
	line=$(exim_status "$id" "$n0")
	case $line in *" => $u <$rcpt> R=backstop_user T=backstop_pipe"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim every user: after the fix, exim4 -M delivers it"; [ $r -eq 0 ] || diag "$line"
	filed "Exim every user: deferred forged DSN" $u .Junk "$tg" backscatter

	# backstop cannot run (as after the package is removed while the
	# router stays): Exim's 127, deferred by temp_errors, never bounced
	chmod 644 "$E2E_BIN"
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	n0=$(exim_loglines)
	id=$(send "" "$rcpt" "$m")
	line=$(exim_status "$id" "$n0")
	chmod 755 "$E2E_BIN"
	case $line in *" == $rcpt "*"T=backstop_pipe defer"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim every user: backstop cannot run: deferred, not bounced"
	[ $r -eq 0 ] || diag "$line"
	n0=$(exim_loglines)
	exim4 -M "$id" >/dev/null 2>&1
	line=$(exim_status "$id" "$n0")
	case $line in *" => $u <$rcpt> R=backstop_user T=backstop_pipe"*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim every user: backstop back: exim4 -M delivers it"; [ $r -eq 0 ] || diag "$line"
	filed "Exim every user: the deferred message, once backstop runs" $u .Junk "$tg" backscatter

	# The Message-IDs Exim writes: learn, on this host, with no sent
	# folder, proposes their pattern from exim -bP (the host name is
	# "vm"-like here, a local name: accepted with --accept-local)
	tg=$(tag)
	printf 'From: %s\nTo: %s\nSubject: no id %s\n\nExim adds one.\n' "$rcpt" "$rcpt" "$tg" |
		as_user $u /usr/sbin/sendmail -odi "$rcpt"
	F=$(find_msg "$h/Maildir" "$tg")
	mid=$(sed -n '/^$/q; s/^[Mm]essage-[Ii][Dd]: *//p' "${F:-/dev/null}")
	out=$(as_user bse2emc2 "$E2E_BIN" learn --accept-local 2>&1); r=$?
	pat=$(echo "$out" | sed -n "s/^  propose: '\(.*\)'\$/\1/p" | head -1)
	[ $r -eq 0 ] && [ -n "$mid" ] && [ -n "$pat" ] &&
		py -c 'import re, sys; sys.exit(0 if re.match(sys.argv[1], sys.argv[2]) else 1)' "$pat" "$mid"
	r=$?
	ok $r "Exim: learn on the host proposes the pattern of the Message-IDs Exim writes ($mid)"
	[ $r -eq 0 ] || { diag "pattern: $pat"; echo "$out" | sed 's/^/#   /'; }
}
if [ -n "${exim_eu_up:-}" ]; then exim_eu_tests
else diag "Exim did not start with backstop's router: no Exim every user tests"; fi

# =============================================================================
# Exim: record what leaves (docs/hosts.md): the system filter sends a copy
# of each message a listed local user submits to USER+record, which a
# router hands to backstop record as that user
# =============================================================================

# exim_sent_id N0 USER: the id of the first message USER submitted after
# line N0 of the main log
exim_sent_id() {
	tail -n +$(($1 + 1)) "$EXIM_LOG" |
		sed -n "s/^.\{19\} \([^ ]*\) <= $2@$DOMAIN .*/\1/p" | head -1
}
# exim_lines N0 ID: the main log's lines of message ID after line N0
exim_lines() { tail -n +$(($1 + 1)) "$EXIM_LOG" | grep -E "^.{19} $2 "; }
# exim_gone ID: Exim completed ID, and its queue no longer holds it
exim_gone() {
	wait_for "$WAIT" grep -q " $1 Completed" "$EXIM_LOG" &&
		! exim4 -bp | grep -q " $1 "
}
# exim_own USER RCPT TAG [ENVELOPE-RCPT...]: USER sends a message without
# a Message-ID to RCPT with sendmail (to the envelope recipients given,
# else RCPT); Exim delivers before sendmail returns (-odi)
exim_own() {
	local u=$1 rcpt=$2 tg=$3
	shift 3
	printf 'From: <%s@%s>\nTo: <%s>\nSubject: record %s\n\nExim writes the Message-ID.\n' \
		"$u" "$DOMAIN" "$rcpt" "$tg" |
		as_user "$u" /usr/sbin/sendmail -odi "${@:-$rcpt}"
}

# (The suite's forged bounces name nobody@remote.example: no recorded
# message of these tests goes there.)
exim_record_tests() {
	local u=bse2erec h J tg m n0 id bid n r line lu=bse2eeu rec
	h=$(home_of $u); J=$h/.backstop-sent.idx.journal
	rec="R=backstop_record T=backstop_record_pipe"
	run_recipe record-exim
	ok $? "Exim record: the recipe record-exim of docs/hosts.md runs as written"
	grep -q '^backstop_record:' /var/lib/exim4/config.autogenerated 2>/dev/null &&
		[ "$(exim4 -bP system_filter)" = "system_filter = /etc/exim4/backstop-record.filter" ] &&
		listening "$SMTP_PORT"
	ok $? "Exim record: Exim runs with the system filter and the record router" ||
		return 1

	# sendmail, no Message-ID, to an address in To: and one only in the
	# envelope; Exim writes the Message-ID and bounces both (no remote
	# delivery here)
	tg=$(tag); n0=$(exim_loglines)
	exim_own $u gone@remote.example "$tg" gone@remote.example hidden@remote.example
	id=$(exim_sent_id "$n0" $u)
	[ "$(exim_lines "$n0" "$id" | grep -c " => $u <system-filter> $rec")" -eq 1 ]
	r=$?
	ok $r "Exim record: the message (${id:-none}) went once to backstop record, through $u+record"
	[ $r -eq 0 ] || exim_lines "$n0" "$id" | sed 's/^/#   /'
	[ "$(stat -c %U:%G "$J" 2>/dev/null)" = "$u:$(id -gn $u)" ]
	ok $? "Exim record: ... run as the user (the journal in $u's home is $u's)"
	bid=$(tail -n +$((n0 + 1)) "$EXIM_LOG" |
		sed -n "s/^.\{19\} \([^ ]*\) <= <> R=$id .*/\1/p" | head -1)
	exim_status "$bid" "$n0" > /dev/null
	filed "Exim record: Exim's bounce of it, no sent copy anywhere" $u "" "$tg" ours
	by_record "Exim record: ... ours by the record alone (Exim's Message-ID <E$id@...> matches no pattern)" \
		"$h" "<E$id@*>"
	[ -z "$(find "$h" -ipath '*sent*' ! -name '.backstop-sent.idx*')" ]
	ok $? "Exim record: $u has no sent folder"
	exim_gone "$id" && exim_gone "$bid"
	ok $? "Exim record: the message and its bounce have left the queue"
	! exim_lines "$n0" "$bid" | grep -q 'R=backstop_record'
	ok $? "Exim record: the bounce itself is not recorded"

	tg=$(tag); m=$(mkmsg noid "$tg" "$u@$DOMAIN" gone@remote.example)
	id=$(send "" "$u@$DOMAIN" "$m"); exim_status "$id" > /dev/null
	filed "Exim record: a bounce quoting no Message-ID, naming the message's To:" $u "" "$tg" ours
	tg=$(tag); m=$(mkmsg noid "$tg" "$u@$DOMAIN" hidden@remote.example)
	id=$(send "" "$u@$DOMAIN" "$m"); exim_status "$id" > /dev/null
	filed "Exim record: ... one naming the recipient only the envelope had: not recorded (the header's are)" \
		$u "" "$tg" unknown
	tg=$(tag); m=$(mkmsg dsn "$tg" "$u@$DOMAIN" "$(forged_mid)")
	id=$(send "" "$u@$DOMAIN" "$m"); exim_status "$id" > /dev/null
	filed "Exim record: a forged bounce, recording begun minutes ago (outbound.record: true): nothing is 'not sent' yet" \
		$u "" "$tg" unknown

	# SMTP from this host is a submission; a local sender the list does
	# not name is not recorded; from outside, USER+record is refused
	tg=$(tag); m=$(mkmsg ham "$tg" "$lu@$DOMAIN"); n0=$(exim_loglines)
	id=$(send "$u@$DOMAIN" "$lu@$DOMAIN" "$m"); exim_gone "$id"
	exim_lines "$n0" "$id" | grep -q " => $u <system-filter> $rec"
	ok $? "Exim record: SMTP from the host itself (127.0.0.1) is recorded"
	id=$(send "root@$DOMAIN" "$lu@$DOMAIN" "$m"); exim_gone "$id"
	! exim_lines "$n0" "$id" | grep -q 'R=backstop_record'
	ok $? "Exim record: a local sender the list does not name (root) is not"
	line=$(printf 'HELO mx.example\r\nMAIL FROM:<carol@sender.example>\r\nRCPT TO:<%s+record@%s>\r\nQUIT\r\n' \
		$u "$DOMAIN" | exim4 -bh 192.0.2.7 2>/dev/null | grep '^[0-9]' | sed -n 4p)
	case $line in "550 "*) r=0 ;; *) r=1 ;; esac
	ok $r "Exim record: RCPT TO:<$u+record@...> from another host refused (exim4 -bh: ${line%%$'\r'})"

	# record cannot write: deferred, the recipient has the message once;
	# exim4 -M records it after the fix, and delivers nothing twice
	chmod 000 "$J"
	tg=$(tag); n0=$(exim_loglines)
	exim_own $u "$lu@$DOMAIN" "$tg"
	id=$(exim_sent_id "$n0" $u)
	exim_lines "$n0" "$id" | grep -q " == $u@$DOMAIN <system-filter> $rec defer .*returned 75"
	ok $? "Exim record: an unwritable journal: the record deferred (75)"
	exim4 -bp | grep -q " $id "; ok $? "Exim record: ... the message stays queued for it"
	is "$(count_with "$(home_of $lu)/Maildir" "$tg")" 1 "Exim record: ... its recipient has it, once"
	chmod 600 "$J"; n0=$(exim_loglines)
	exim4 -M "$id" > /dev/null 2>&1
	exim_lines "$n0" "$id" | grep -q " => $u <system-filter> $rec" && exim_gone "$id"
	ok $? "Exim record: after the fix, exim4 -M records it and the message leaves the queue"
	is "$(count_with "$(home_of $lu)/Maildir" "$tg")" 1 "Exim record: ... its recipient still has it once"

	# a record that never gets through is dropped, never returned to the
	# user: a retry rule of the suite's that gives up after a second
	# (Debian's gives up after four days)
	sed -i 's/^\*[[:space:]].*F,2h,15m.*$/*  *  F,1s,1s/' /etc/exim4/conf.d/retry/30_exim4-config &&
		update-exim4.conf && exim_stop && exim_start
	ok $? "Exim record: Exim restarted with a retry rule that gives up after a second"
	chmod 000 "$J"
	n=$(msg_count "$h/Maildir")
	tg=$(tag); n0=$(exim_loglines)
	exim_own $u "$lu@$DOMAIN" "$tg"
	id=$(exim_sent_id "$n0" $u)
	sleep 2
	exim4 -M "$id" > /dev/null 2>&1
	chmod 600 "$J"
	line=$(exim_lines "$n0" "$id")
	echo "$line" | grep -q " \*\* $u+record@$DOMAIN <system-filter>: retry timeout exceeded" &&
		echo "$line" | grep -q " $u+record@$DOMAIN <system-filter>: error ignored" && exim_gone "$id"
	r=$?
	ok $r "Exim record: a record that never got through: 'error ignored' (noerror), the message left the queue"
	[ $r -eq 0 ] || echo "$line" | sed 's/^/#   /'
	sleep 1
	! grep -q " <= <> R=$id " "$EXIM_LOG" && [ "$(msg_count "$h/Maildir")" -eq "$n" ]
	ok $? "Exim record: ... and nothing was returned to the user"
}
if [ -n "${exim_eu_up:-}" ]; then
	t2=$EPOCHREALTIME
	exim_record_tests
	diag "Exim record: $(since "$t2") s"
fi

exim_stop
! listening "$SMTP_PORT"; ok $? "Exim every user: Exim stopped"
for q in $(exiqgrep -i -r "(bse2e|nosuchuser)" 2>/dev/null); do exim4 -Mrm "$q" >/dev/null 2>&1; done
exim_etc_restore
is "$(tree_sum /etc/exim4)" "$exim_etc_sum" "Exim every user: Debian's /etc/exim4 back as it was"
diag "Exim every user phase: $(since "$t") s"

# =============================================================================
# Postfix: ~/.forward, procmail, maildrop, dovecot-lda + Sieve; Dovecot IMAP
# =============================================================================
t=$EPOCHREALTIME
"$E2E/install.sh" postfix >> "$LOG" 2>&1
ok $? "Postfix installed in place of Exim ($(since "$t") s)"

# Postfix's configuration is saved here and restored by e2e_teardown.
mkdir -p "$W/postfix-orig"
cp -p /etc/postfix/main.cf /etc/postfix/master.cf "$W/postfix-orig/"
pf_conf_sum=$(cat /etc/postfix/main.cf /etc/postfix/master.cf | md5sum)
# Users without ~/.forward get procmail (Debian's default when procmail is
# installed); bse2emd maildrop and bse2esv dovecot-lda, as docs/setups.md shows.
# Every other local user (bse2emc, bse2emc2) gets backstop deliver from
# mailbox_command, as docs/hosts.md has it.
{
	echo "bse2epm /usr/bin/procmail -a \"\$EXTENSION\""
	echo "bse2emd /usr/bin/maildrop"
	echo "bse2esv /usr/lib/dovecot/dovecot-lda -c $DC_CONF -f \"\$SENDER\" -a \"\$RECIPIENT\""
} > "$W/mailbox_commands"
postmap "$W/mailbox_commands"
postconf -e "myhostname = $DOMAIN" "mydomain = $DOMAIN" 'myorigin = $myhostname' \
	'mydestination = $myhostname, localhost' \
	'inet_interfaces = 127.0.0.1' 'inet_protocols = ipv4' \
	'mynetworks = 127.0.0.0/8' 'recipient_delimiter = +' \
	'default_transport = error:remote delivery disabled in this test' \
	'relay_transport = error:remote delivery disabled in this test' \
	'alias_maps = hash:/etc/aliases' 'alias_database = hash:/etc/aliases' \
	"mailbox_command_maps = hash:$W/mailbox_commands" \
	"maillog_file = $PF_LOG" "maillog_file_prefixes = /var, /dev/stdout, $W" \
	'biff = no' &&
	postconf -F '*/*/chroot = n' &&	# nothing to copy into /var/spool/postfix
	postconf -MX smtp/inet &&	# no port 25
	postconf -M "127.0.0.1:$SMTP_PORT/inet = 127.0.0.1:$SMTP_PORT inet n - n - - smtpd" &&
	newaliases && postfix check >> "$LOG" 2>&1 &&
	touch "$W/postfix.started" && postfix start < /dev/null >> "$LOG" 2>&1 &&
	wait_for 15 listening "$SMTP_PORT"
ok $? "Postfix started on 127.0.0.1:$SMTP_PORT, local delivery only, log in $PF_LOG" && postfix_up=1
# every local user at once (docs/hosts.md); those of mailbox_command_maps
# keep theirs
run_recipe mailbox_command
ok $? "mailbox_command: the recipe of docs/hosts.md runs as written"
# the suite's own settings: what the virtual users' phases start from
mkdir -p "$W/postfix-base"
cp -p /etc/postfix/main.cf /etc/postfix/master.cf "$W/postfix-base/"

# Dovecot: private configuration, IMAP on 127.0.0.1:1143; dovecot-lda with
# Sieve reads the same configuration.
mkdir -p "$W/dovecot/run" "$W/dovecot/state" "$W/sieve-filter"
chmod 755 "$W/dovecot" "$W/dovecot/run" "$W/sieve-filter"
ln -s "$E2E_BIN" "$W/sieve-filter/backstop"
conf dovecot.conf.in > "$DC_CONF"
conf dovecot-sieve.conf > "$W/dovecot/sieve.conf"
chmod 644 "$DC_CONF" "$W/dovecot/sieve.conf"
printf '%s:{PLAIN}%s\n' bse2efwd "$IMAP_PASS" bse2esv "$IMAP_PASS" > "$W/dovecot/passwd"
chgrp dovecot "$W/dovecot/passwd"; chmod 640 "$W/dovecot/passwd"
: > "$W/dovecot/lda.log"; chown bse2esv: "$W/dovecot/lda.log"
doveconf -c "$DC_CONF" -n > /dev/null 2>> "$LOG" &&
	dovecot -c "$DC_CONF" < /dev/null >> "$LOG" 2>&1 &&
	wait_for 15 listening "$IMAP_PORT"
ok $? "Dovecot started on 127.0.0.1:$IMAP_PORT with its own configuration" && dovecot_up=1

# pf_sent QID [N]: the N-th delivery attempt of QID ended "sent"
pf_sent() {
	local l
	l=$(pf_status "$1" "${2:-1}")
	case $l in *status=sent*) return 0 ;; esac
	diag "${l:-no status for $1 in $PF_LOG}"
	return 1
}

postfix_tests() {
	# --- ~/.forward ---------------------------------------------------------------
	u=bse2efwd; rcpt=$u@$DOMAIN; h=$(home_of $u)

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	ok $? "Postfix .forward: ham accepted and delivered to the command"
	filed "Postfix .forward: ham" $u "" "$tg" -
	as_sent "$F" "$m"
	ok $? "Postfix .forward: ham byte for byte apart from Postfix's Return-Path:, X-Original-To:, Delivered-To:, Received:"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	ok $? "Postfix .forward: forged DSN with MAIL FROM:<> delivered"
	grep -q " $q: from=<>," "$PF_LOG"; ok $? "Postfix .forward: logged with from=<>"
	filed "Postfix .forward: forged DSN" $u .Junk "$tg" backscatter
	FWD_JUNK_TAG=$tg
	as_sent "$F" "$m"; ok $? "Postfix .forward: forged DSN byte for byte after the added fields"
	[ -f "$h/Maildir/.Junk/maildirfolder" ]; ok $? "Postfix .forward: .Junk is a Maildir++ folder (maildirfolder)"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "Postfix .forward: DSN of our own message" $u "" "$tg" ours
	FWD_OURS_TAG=$tg

	# a real Postfix bounce: the user sends a message (sendmail, as a mail
	# program does) to a local user that does not exist; Postfix bounces it
	# to the user with a null sender
	tg=$(tag); mid=$(our_mid); m=$(mkmsg own "$tg" "$rcpt" "nosuchuser@$DOMAIN" "$mid")
	as_user $u /usr/sbin/sendmail "nosuchuser@$DOMAIN" < "$m"
	q=$(wait_for "$WAIT" grep -qF "message-id=$mid" "$PF_LOG" &&
		grep -F "message-id=$mid" "$PF_LOG" | sed 's/.* \([0-9A-Za-z]*\): message-id=.*/\1/' | head -1)
	bq=$(wait_for "$WAIT" grep -q " $q: sender non-delivery notification: " "$PF_LOG" &&
		sed -n "s/.* $q: sender non-delivery notification: //p" "$PF_LOG")
	pf_sent "$bq"
	F=$(find_msg "$h/Maildir" "$mid")
	is "$(xb "${F:-/dev/null}" | cut -d';' -f1-2)" "ours; kind=dsn" \
		"Postfix .forward: Postfix's own bounce of our message: inbox, X-Backstop: ours; kind=dsn"

	# backstop cannot write: exit 75, Postfix defers (4.3.0) and keeps the
	# message; after the fix, a queue flush delivers it exactly once
	set_writable $u no
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m")
	line=$(pf_status "$q")
	case $line in *"dsn=4.3.0, status=deferred"*) r=0 ;; *) r=1 ;; esac
	ok $r "Postfix .forward: read-only maildir: deferred, dsn=4.3.0"; [ $r -eq 0 ] || diag "$line"
	case $line in *"Command output: backstop: "*"temporary failure"*) r=0 ;; *) r=1 ;; esac
	ok $r "Postfix .forward: backstop's one line of output is in the log"; [ $r -eq 0 ] || diag "$line"
	pf_queued "$q"; ok $? "Postfix .forward: read-only maildir: the message stays queued"
	is "$(count_with "$h/Maildir/.Junk" "$tg")" 0 "Postfix .forward: read-only maildir: nothing stored"
	set_writable $u yes
	tmp_empty "Postfix .forward: read-only maildir" $u
	postqueue -f
	pf_sent "$q" 2; ok $? "Postfix .forward: after the fix, postqueue -f delivers it"
	filed "Postfix .forward: deferred forged DSN" $u .Junk "$tg" backscatter
	wait_for 10 eval "! pf_queued $q"; ok $? "Postfix .forward: queue no longer holds it"

	# --- procmail (mailbox_command) -------------------------------------------------
	u=bse2epm; rcpt=$u@$DOMAIN; h=$(home_of $u)

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	filed "procmail: ham" $u "" "$tg" -
	# procmail ends a message that went through a ":0 fw" filter (any filter,
	# cat as well) with one more newline
	as_sent "$F" "$m" '\n'
	ok $? "procmail: ham byte for byte apart from Postfix's fields and one newline at the end"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "procmail: forged DSN" $u .Junk "$tg" backscatter
	as_sent "$F" "$m" '\n'; ok $? "procmail: forged DSN byte for byte after the added fields, and one newline"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "procmail: DSN of our own message" $u "" "$tg" ours

	# backstop cannot run: the ":0 e" recipe makes procmail exit 75
	chmod 644 "$E2E_BIN"
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m")
	line=$(pf_status "$q")
	chmod 755 "$E2E_BIN"
	case $line in *"status=deferred"*) r=0 ;; *) r=1 ;; esac
	ok $r "procmail: backstop cannot run: deferred, nothing filed unfiltered"; [ $r -eq 0 ] || diag "$line"
	is "$(all_with "$h/Maildir" "$tg" | grep -c .)" 0 "procmail: backstop cannot run: nothing stored"
	postqueue -i "$q"
	pf_sent "$q" 2; ok $? "procmail: after the fix, the flush delivers it"
	filed "procmail: deferred forged DSN" $u .Junk "$tg" backscatter

	# --- maildrop (mailbox_command_maps) --------------------------------------------
	u=bse2emd; rcpt=$u@$DOMAIN; h=$(home_of $u)

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	filed "maildrop xfilter: ham" $u "" "$tg" -
	# Postfix gives maildrop the message after an mbox From_ line; maildrop
	# does not remove it (maildrop(1)); backstop filter drops it.
	as_sent "$F" "$m"
	ok $? "maildrop xfilter: ham byte for byte apart from Postfix's fields"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "maildrop xfilter: forged DSN" $u .Junk "$tg" backscatter

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "maildrop xfilter: DSN of our own message" $u "" "$tg" ours

	chmod 644 "$E2E_BIN"
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m")
	line=$(pf_status "$q")
	chmod 755 "$E2E_BIN"
	case $line in *"status=deferred"*) r=0 ;; *) r=1 ;; esac
	ok $r "maildrop xfilter: backstop cannot run: deferred (EXITCODE=75)"; [ $r -eq 0 ] || diag "$line"
	is "$(all_with "$h/Maildir" "$tg" | grep -c .)" 0 "maildrop xfilter: backstop cannot run: nothing stored"
	postqueue -i "$q"
	pf_sent "$q" 2; ok $? "maildrop xfilter: after the fix, the flush delivers it"
	filed "maildrop xfilter: deferred forged DSN" $u .Junk "$tg" backscatter

	conf mailfilter-deliver | put $u 600 "$h/.mailfilter"
	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	filed "maildrop to |backstop deliver: ham" $u "" "$tg" -
	as_sent "$F" "$m"; ok $? "maildrop to |backstop deliver: ham byte for byte apart from Postfix's fields"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "maildrop to |backstop deliver: forged DSN" $u .Junk "$tg" backscatter

	set_writable $u no
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m")
	line=$(pf_status "$q")
	set_writable $u yes
	case $line in *"status=deferred"*) r=0 ;; *) r=1 ;; esac
	ok $r "maildrop to |backstop deliver: read-only maildir: deferred"; [ $r -eq 0 ] || diag "$line"
	tmp_empty "maildrop to |backstop deliver: read-only maildir" $u
	postqueue -i "$q"
	pf_sent "$q" 2; ok $? "maildrop to |backstop deliver: after the fix, the flush delivers it"
	filed "maildrop to |backstop deliver: deferred DSN of ours" $u "" "$tg" ours

	# --- dovecot-lda + Sieve (vnd.dovecot.filter) -----------------------------------
	u=bse2esv; rcpt=$u@$DOMAIN; h=$(home_of $u)

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	filed "Sieve: ham" $u "" "$tg" -
	as_sent "$F" "$m"; ok $? "Sieve: ham byte for byte apart from Postfix's fields"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "Sieve: forged DSN" $u .Junk "$tg" backscatter
	SV_JUNK_TAG=$tg
	as_sent "$F" "$m"; ok $? "Sieve: forged DSN byte for byte after the added fields"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "Sieve: DSN of our own message" $u "" "$tg" ours

	! grep -iE 'error|fatal|panic' "$W/dovecot/lda.log"
	ok $? "Sieve: no errors in dovecot-lda's log"

	# backstop cannot run: the filter action fails, Sieve's implicit keep
	# stores the message in INBOX unfiltered: not lost, not sorted
	chmod 644 "$E2E_BIN"
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	r=$?
	chmod 755 "$E2E_BIN"
	ok $r "Sieve: backstop cannot run: delivered all the same"
	filed "Sieve: backstop cannot run: implicit keep" $u "" "$tg" -
}

imap() { py "$E2E/imap-check.py" "$IMAP_PORT" "$1" "$IMAP_PASS" "${@:2}"; }

# =============================================================================
# A mail host: mailbox_command for every local user; virtual users through
# the pipe transport and through Dovecot LMTP
# =============================================================================

# vfiled LABEL MAILDIR FOLDER TAG VERDICT: as filed, for a maildir by path
vfiled() {
	local label=$1 md=$2 folder=$3 tag=$4 want=$5 others got
	F=$(find_msg "$md${folder:+/$folder}" "$tag")
	others=$(all_with "$md" "$tag" | grep -vxF -- "$F" | grep -c .)
	got=$(xb "${F:-/dev/null}" | cut -d';' -f1)
	if [ -n "$F" ] && [ "$others" -eq 0 ] && [ "$got" = "$want" ]; then
		ok 0 "$label: in ${folder:-the inbox}, X-Backstop: $want"
	else
		ok 1 "$label: in ${folder:-the inbox}, X-Backstop: $want"
		diag "stored as: ${F:-nowhere}; X-Backstop: $got; other copies: $others"
	fi
}
vtmp_empty() {	# vtmp_empty LABEL MAILDIR (under /tmp itself: match below it)
	local left
	left=$(find "$2" -type f \( -path "$2/tmp/*" -o -path "$2/.*/tmp/*" \) 2>/dev/null)
	[ -z "$left" ]; ok $? "$1: nothing left in tmp/"
	[ -z "$left" ] || diag "$left"
}
# vset_writable MAILDIR yes|no
vset_writable() {
	local m=u-w
	[ "$2" = yes ] && m=u+w
	find "$1" -type d -exec chmod "$m" {} +
}

mailbox_command_tests() {
	# --- mailbox_command = backstop deliver, for every local user ------------------
	u=bse2emc; rcpt=$u@$DOMAIN; h=$(home_of $u)

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	ok $? "mailbox_command: ham delivered"
	filed "mailbox_command: ham" $u "" "$tg" -
	as_sent "$F" "$m"
	ok $? "mailbox_command: ham byte for byte apart from Postfix's fields"
	is "$(stat -c %U "$F")" $u "mailbox_command: runs as the recipient (the file is $u's)"
	grep -q " $q: to=<$rcpt>, .*relay=local, .*(delivered to command: $E2E_BIN deliver)" "$PF_LOG"
	ok $? "mailbox_command: Postfix's local delivered it to the command"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "mailbox_command: forged DSN" $u .Junk "$tg" backscatter

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "mailbox_command: DSN of the user's own message (~/.backstop.yaml)" $u "" "$tg" ours

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(sys_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "mailbox_command: DSN of the host's message (system rules)" $u "" "$tg" ours

	# a user without ~/.backstop.yaml: the system rules alone
	u=bse2emc2; rcpt=$u@$DOMAIN; h=$(home_of $u)
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(sys_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "mailbox_command, user without ~/.backstop.yaml: DSN of the host's message" $u "" "$tg" ours
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "mailbox_command, user without ~/.backstop.yaml: forged DSN" $u .Junk "$tg" backscatter
	out=$(as_user $u env -u BACKSTOP_SYSTEM_RULES "$E2E_BIN" check-config 2>&1); r=$?
	ok $r "mailbox_command: check-config as the user: exit 0"; [ $r -eq 0 ] || diag "$out"

	set_writable $u no
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m")
	line=$(pf_status "$q")
	case $line in *"dsn=4.3.0, status=deferred"*) r=0 ;; *) r=1 ;; esac
	ok $r "mailbox_command: read-only maildir: deferred, dsn=4.3.0"; [ $r -eq 0 ] || diag "$line"
	out=$(as_user $u env -u BACKSTOP_SYSTEM_RULES "$E2E_BIN" check-config 2>&1); r=$?
	is "$r" 78 "mailbox_command: check-config as the user finds the read-only maildir (exit 78)"
	set_writable $u yes
	tmp_empty "mailbox_command: read-only maildir" $u
	postqueue -i "$q"
	pf_sent "$q" 2; ok $? "mailbox_command: after the fix, the flush delivers it"
	filed "mailbox_command: deferred forged DSN" $u .Junk "$tg" backscatter
}

# =============================================================================
# Postfix: record what leaves (docs/hosts.md), and backstop sendmail
# =============================================================================

# pf_field QID TEXT: the first log line of QID that contains TEXT
pf_field() { grep -F " $1: " "$PF_LOG" | grep -F -- "$2" | head -1; }
# pf_gone QID: Postfix removed QID from its queue
pf_gone() { wait_for "$WAIT" grep -q " $1: removed" "$PF_LOG" && ! pf_queued "$1"; }
# pf_bounce QID: the queue id of Postfix's bounce of QID
pf_bounce() {
	wait_for "$WAIT" grep -q " $1: sender non-delivery notification: " "$PF_LOG" &&
		sed -n "s/.* $1: sender non-delivery notification: //p" "$PF_LOG" | head -1
}

pf_record_tests() {
	local u=bse2erec h J tg m q bq r line n mid u2=bse2emc2
	h=$(home_of $u); J=$h/.backstop-sent.idx.journal
	# a remote MX on loopback for remote.example: a second smtpd of this
	# Postfix (its own name, so no "loops back to myself") that refuses
	# every recipient at RCPT TO
	printf '/./  550 5.1.1 User unknown\n' > "$W/sink-access"
	postconf -e "transport_maps = inline:{remote.example=smtp:[127.0.0.1]:$SINK_PORT}" &&
		postconf -M "127.0.0.1:$SINK_PORT/inet = 127.0.0.1:$SINK_PORT inet n - n - - smtpd" &&
		postconf -P "127.0.0.1:$SINK_PORT/inet/myhostname=mx.remote.example" \
		    "127.0.0.1:$SINK_PORT/inet/smtpd_recipient_restrictions=check_recipient_access,regexp:$W/sink-access" &&
		postfix reload >> "$LOG" 2>&1 && wait_for 15 listening "$SINK_PORT"
	ok $? "record: a loopback MX for remote.example (127.0.0.1:$SINK_PORT) that refuses every recipient at RCPT TO"

	# a user without an admin: backstop sendmail as mutt runs sendmail
	tg=$(tag)
	printf 'From: <%s@%s>\nTo: <away@remote.example>\nSubject: record %s\nMessage-ID: <%s@laptop.example>\n\nmutt wrote the Message-ID.\n' \
		$u "$DOMAIN" "$tg" "$tg" |
		as_user $u "$E2E_BIN" sendmail -oem -oi -- away@remote.example
	ok $? "backstop sendmail -oem -oi -- RCPT (as mutt calls sendmail): exit 0, Postfix took it"
	F=$(find_msg "$h/Maildir" "$tg")
	by_record "backstop sendmail: Postfix's bounce of it is ours, by what backstop sendmail recorded (no sent folder)" \
		"$h" "<$tg@laptop.example>"

	# the recipe
	record_prepare && run_recipe record-postfix
	ok $? "record: the recipe record-postfix of docs/hosts.md runs as written"

	# SMTP submission of a message without a Message-ID
	tg=$(tag); m=$W/record-$tg
	printf 'From: <%s@%s>\nTo: <lost@remote.example>\nCc: <dora@partner.example>\nSubject: record %s\n\nPostfix writes the Message-ID.\n' \
		$u "$DOMAIN" "$tg" > "$m"
	q=$(send "$u@$DOMAIN" lost@remote.example "$m")
	mid=$(wait_for "$WAIT" grep -q " $q: message-id=" "$PF_LOG" &&
		sed -n "s/.* $q: message-id=\(<.*>\)$/\1/p" "$PF_LOG" | head -1)
	case $mid in "<"[0-9]*".$q@$DOMAIN>") r=0 ;; *) r=1 ;; esac
	ok $r "record: submitted over SMTP without one, the message got the Message-ID $mid from Postfix"
	line=$(pf_status "$q" 1; pf_status "$q" 2)
	echo "$line" | grep -q " $q: to=<$u+record@$DOMAIN>, relay=local, .*status=sent (delivered to command: $E2E_BIN record)" &&
		[ "$(grep -c " $q: to=<$u+record@" "$PF_LOG")" -eq 1 ]
	r=$?
	ok $r "record: its copy to $u+record went once to backstop record, through the forward file"
	[ $r -eq 0 ] || echo "$line" | sed 's/^/#   /'
	echo "$line" | grep -q " $q: to=<lost@remote.example>, relay=127.0.0.1\[127.0.0.1\]:$SINK_PORT, .*status=bounced (host .* said: 550 5.1.1 "
	ok $? "record: the remote MX refused lost@remote.example at RCPT TO"
	bq=$(pf_bounce "$q"); pf_sent "$bq"
	F=$(find_msg "$h/Maildir" "$tg")
	by_record "record: Postfix's bounce of it is ours, by the record alone (no pattern matches $mid)" \
		"$h" "$mid"
	[ -n "$F" ] && [ "$(all_with "$h/Maildir" "$tg" | grep -c .)" -eq 1 ] &&
		[ ! -e "/var/mail/$u" ] &&
		[ -z "$(find "$h" -ipath '*sent*' ! -name '.backstop-sent.idx*')" ]
	ok $? "record: $u's mailbox holds the bounce alone: no sent folder, no copy of the record's"
	pf_gone "$q" && pf_gone "$bq"
	ok $? "record: the message and its bounce have left the queue"
	! grep -q " $bq: to=<$u+record@" "$PF_LOG"
	ok $? "record: the bounce (null sender) is not recorded"

	tg=$(tag); m=$(mkmsg noid "$tg" "$u@$DOMAIN" dora@partner.example)
	q=$(send "" "$u@$DOMAIN" "$m"); pf_sent "$q"
	filed "record: a bounce quoting no Message-ID, naming the message's Cc:" $u "" "$tg" ours
	tg=$(tag); m=$(mkmsg dsn "$tg" "$u@$DOMAIN" "$(forged_mid)")
	q=$(send "" "$u@$DOMAIN" "$m"); pf_sent "$q"
	filed "record: a forged bounce, recording begun minutes ago (outbound.record: true): nothing is 'not sent' yet" \
		$u "" "$tg" unknown

	# sendmail, by a user on the list whose rules leave outbound.record
	# off: recorded, and a forged bounce is still junked by the host's
	# patterns
	tg=$(tag)
	printf 'From: <%s@%s>\nTo: <gone@remote.example>\nSubject: record %s\n\nx\n' $u2 "$DOMAIN" "$tg" |
		as_user $u2 /usr/sbin/sendmail gone@remote.example
	q=$(wait_for "$WAIT" grep -q "uid=$(id -u $u2) from=<$u2>" "$PF_LOG" &&
		sed -n "s/.* \([0-9A-F]*\): uid=$(id -u $u2) from=<$u2>.*/\1/p" "$PF_LOG" | tail -1)
	pf_status "$q" 2 > /dev/null
	[ -n "$q" ] && pf_field "$q" "to=<$u2+record@$DOMAIN>" | grep -q 'status=sent' &&
		[ -s "$(home_of $u2)/.backstop-sent.idx.journal" ]
	ok $? "record: mail sent with the sendmail command is recorded ($u2)"
	# its bounce (Postfix's Message-ID, which the suite's patterns do not
	# know): what record saw vouches with patterns-only rules too
	bq=$(pf_bounce "$q"); pf_sent "$bq"	# delivered: stored by now
	F=$(all_with "$(home_of $u2)/Maildir" "$tg" | head -1)
	[ "$(xb "${F:-/dev/null}" | cut -d';' -f1)" = ours ]
	ok $? "record: the bounce of a recorded message, for a user without outbound.record: ours"
	tg=$(tag); m=$(mkmsg dsn "$tg" "$u2@$DOMAIN" "$(forged_mid)")
	q=$(send "" "$u2@$DOMAIN" "$m"); pf_sent "$q"
	filed "record: a forged bounce to a recorded user without outbound.record: junked by the host's patterns" \
		$u2 .Junk "$tg" backscatter

	m=$(mkmsg ham "$(tag)" "$u+record@$DOMAIN")
	out=$(send carol@sender.example "$u+record@$DOMAIN" "$m" 2>&1); r=$?
	case "$r $out" in "1 RCPT TO refused: 554 5.7.1 "*) r=0 ;; *) r=1 ;; esac
	ok $r "record: mail from outside to $u+record refused at RCPT TO"
	[ $r -eq 0 ] || diag "$out"

	# record cannot write: deferred (4.3.0), the local recipient has the
	# message once; the flush records it once the journal can be written
	chmod 000 "$J"
	tg=$(tag); m=$(mkmsg ham "$tg" "$u2@$DOMAIN")
	q=$(send "$u@$DOMAIN" "$u2@$DOMAIN" "$m")
	wait_for "$WAIT" eval "pf_field $q 'to=<$u+record@' | grep -q status="
	line=$(pf_field "$q" "to=<$u+record@")
	case $line in *"dsn=4.3.0, status=deferred"*"Command output: backstop: record: "*"temporary failure"*) r=0 ;; *) r=1 ;; esac
	ok $r "record: an unwritable journal: the copy deferred (4.3.0), backstop's line in the log"
	[ $r -eq 0 ] || diag "$line"
	pf_queued "$q"; ok $? "record: ... it stays queued"
	filed "record: ... and the recipient has the message, once" $u2 "" "$tg" -
	chmod 600 "$J"
	postqueue -i "$q"
	wait_for "$WAIT" eval "[ \$(grep -c ' $q: to=<$u+record@.*status=' '$PF_LOG') -ge 2 ]"
	grep " $q: to=<$u+record@" "$PF_LOG" | tail -1 | grep -q 'status=sent' && pf_gone "$q"
	ok $? "record: after the fix, the flush records it and the message leaves the queue"
	is "$(count_with "$(home_of $u2)/Maildir" "$tg")" 1 "record: ... the recipient still has it once"

	# a copy that never gets through is dropped, never returned to the
	# user: NOTIFY=NONE (Postfix gives up after maximal_queue_lifetime;
	# 0 here: after the next attempt)
	chmod 000 "$J"
	n=$(msg_count "$h/Maildir")
	tg=$(tag); m=$(mkmsg ham "$tg" "$u2@$DOMAIN")
	q=$(send "$u@$DOMAIN" "$u2@$DOMAIN" "$m")
	wait_for "$WAIT" eval "pf_field $q 'to=<$u+record@' | grep -q status=deferred"
	postconf -e 'maximal_queue_lifetime = 0' && postfix reload >> "$LOG" 2>&1
	sleep 1
	postqueue -i "$q"
	wait_for "$WAIT" grep -q " $q: from=<$u@$DOMAIN>, status=expired" "$PF_LOG" && pf_gone "$q"
	r=$?
	chmod 600 "$J"
	postconf -X maximal_queue_lifetime && postfix reload >> "$LOG" 2>&1
	ok $r "record: a copy that never got through: Postfix gave up (status=expired), the queue is empty"
	sleep 1
	! grep -q " $q: sender non-delivery notification" "$PF_LOG" &&
		[ "$(msg_count "$h/Maildir")" -eq "$n" ]
	ok $? "record: ... and returned nothing to the user (NOTIFY=NONE)"
	cp -p "$W/postfix-base/main.cf" "$W/postfix-base/master.cf" /etc/postfix/ &&
		postfix reload >> "$LOG" 2>&1 && record_undo
	ok $? "record: Postfix back to the suite's settings, the recipe's files removed"
}

# vrules OWNER MODE USER: the user's rule file of the virtual domain (the
# recipe made its directory): our outgoing Message-IDs
vrules() {
	printf "outbound:\n  message_id:\n    - '%s'\n" "$OUR_MID_RE" |
		put "$1" "$2" "$ETC/users/$VDOM/$3.yaml"
}

# unknown_refused LABEL: mail to an address of the virtual domain that no
# user has, from a forged sender, is refused at RCPT TO, and no bounce of
# it ever leaves: nothing queued for the forged sender
unknown_refused() {
	local tg m out r
	tg=$(tag); m=$(mkmsg ham "$tg" "nosuch@$VDOM")
	out=$(send "forged-$tg@spam-relay.example" "nosuch@$VDOM" "$m" 2>&1); r=$?
	case "$r $out" in
	"1 RCPT TO refused: 550 5.1.1 "*) r=0 ;;
	*) r=1 ;;
	esac
	ok $r "$1: mail to an unknown user of $VDOM refused at RCPT TO (550 5.1.1)"
	[ $r -eq 0 ] || diag "$out"
	sleep 1
	! grep -q "forged-$tg@spam-relay.example" "$PF_LOG" ||
		! grep "forged-$tg@spam-relay.example" "$PF_LOG" | grep -qv 'NOQUEUE: reject: RCPT'
	ok $? "$1: nothing queued for the forged sender, no bounce leaves"
	! postqueue -p | grep -q "forged-$tg@spam-relay.example"
	ok $? "$1: the queue holds nothing of it"
}

# virtual_phase NAME: Postfix back to the suite's base settings, then the
# recipes of docs/hosts.md for virtual users: the account and the list,
# and NAME's
virtual_phase() {
	cp -p "$W/postfix-base/main.cf" "$W/postfix-base/master.cf" /etc/postfix/ &&
		postfix reload >> "$LOG" 2>&1
	ok $? "$1: Postfix back to the suite's settings"
	virtual_prepare
	run_recipe virtual
	ok $? "$1: the recipe \"the account and the list\" of docs/hosts.md runs as written"
	id "$VMAIL_USER" > /dev/null 2>&1 && [ "$(stat -c %U "$VMAIL")" = "$VMAIL_USER" ]
	ok $? "$1: the recipe made the account $VMAIL_USER and $VMAIL"
}

# virtual_done: the virtual users' set-up undone, for the next phase
virtual_done() {
	cp -p "$W/postfix-base/main.cf" "$W/postfix-base/master.cf" /etc/postfix/ &&
		postfix reload >> "$LOG" 2>&1
	virtual_undo
	! id "$VMAIL_USER" > /dev/null 2>&1 && [ ! -e "$VMAIL" ]
	ok $? "$1: the account, its maildirs and the list removed"
}

pipe_tests() {
	# --- virtual users: Postfix pipe(8) transport running backstop deliver ------------
	local md rcpt
	virtual_phase "pipe transport"
	run_recipe pipe
	r=$?
	ok $r "pipe transport: the recipe of docs/hosts.md runs as written"
	if [ $r -ne 0 ]; then	# nothing else can work
		virtual_done "pipe transport"
		return 1
	fi
	vrules $VMAIL_USER 600 alice
	ok $? "pipe transport: alice's rule file, owned by $VMAIL_USER, mode 600"
	unknown_refused "pipe transport"
	rcpt=alice@$VDOM; md=$VMAIL/$VDOM/alice/Maildir

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	ok $? "pipe transport: ham delivered"
	grep -q " $q: to=<$rcpt>, .*relay=backstop, .*status=sent (delivered via backstop service)" "$PF_LOG"
	ok $? "pipe transport: through the backstop service of master.cf"
	vfiled "pipe transport: ham" "$md" "" "$tg" -
	as_sent "$F" "$m"
	ok $? "pipe transport: ham byte for byte apart from Return-Path:, X-Original-To:, Delivered-To:, Received:"
	is "$(stat -c %U "$F")" $VMAIL_USER "pipe transport: stored as $VMAIL_USER"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "pipe transport: forged DSN" "$md" .Junk "$tg" backscatter
	as_sent "$F" "$m"; ok $? "pipe transport: forged DSN byte for byte after the added fields"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "pipe transport: DSN of alice's own message (her rule file, owned by $VMAIL_USER)" "$md" "" "$tg" ours

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(sys_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "pipe transport: DSN of the host's message (system rules)" "$md" "" "$tg" ours

	# bob has no rule file: the system rules alone
	rcpt=bob@$VDOM; md=$VMAIL/$VDOM/bob/Maildir
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "pipe transport, user without a rule file: a DSN only alice's rules know" "$md" .Junk "$tg" backscatter
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(sys_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "pipe transport, user without a rule file: DSN of the host's message" "$md" "" "$tg" ours

	# an address extension (recipient_delimiter = +): bob's maildir, not
	# one of a user "bob+tag" whose directory does not exist (issue 24)
	tg=$(tag); m=$(mkmsg ham "$tg" "bob+tag@$VDOM")
	q=$(send carol@sender.example "bob+tag@$VDOM" "$m"); pf_sent "$q"
	ok $? "pipe transport: mail to bob+tag@$VDOM delivered, not deferred"
	vfiled "pipe transport: bob+tag@$VDOM" "$md" "" "$tg" -

	# check-config as vmail, with the transport's arguments (docs/hosts.md)
	run_recipe pipe-check
	r=$?
	ok $r "pipe transport: the check of docs/hosts.md (check-config as $VMAIL_USER with the transport's arguments): exit 0"
	out=$(recipe_text pipe-check | to_test_paths | sed 's/^runuser .* -- //' |
		env -u BACKSTOP_SYSTEM_RULES PATH=$W/bin:$PATH setpriv --reuid=$VMAIL_USER --regid=$VMAIL_USER --clear-groups sh 2>&1)
	echo "$out" | grep -qx "user rules: $ETC/users/$VDOM/alice.yaml"
	ok $? "pipe transport: check-config reads alice's rule file"
	echo "$out" | grep -q "^postfix: master.cf: backstop .*pipe.*argv=$E2E_BIN deliver -u \${user}@\${domain}"
	ok $? "pipe transport: check-config shows the pipe(8) service"

	# backstop cannot write: exit 75, Postfix defers, delivers after the fix
	rcpt=alice@$VDOM; md=$VMAIL/$VDOM/alice/Maildir
	vset_writable "$md" no
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m")
	line=$(pf_status "$q")
	case $line in *"relay=backstop"*"dsn=4.3.0, status=deferred"*) r=0 ;; *) r=1 ;; esac
	ok $r "pipe transport: read-only maildir: deferred, dsn=4.3.0"; [ $r -eq 0 ] || diag "$line"
	case $line in *"backstop: "*"temporary failure"*) r=0 ;; *) r=1 ;; esac
	ok $r "pipe transport: backstop's one line is in the log"; [ $r -eq 0 ] || diag "$line"
	pf_queued "$q"; ok $? "pipe transport: read-only maildir: the message stays queued"
	is "$(count_with "$md/.Junk" "$tg")" 0 "pipe transport: read-only maildir: nothing stored"
	vset_writable "$md" yes
	vtmp_empty "pipe transport: read-only maildir" "$md"
	postqueue -i "$q"
	pf_sent "$q" 2; ok $? "pipe transport: after the fix, the flush delivers it"
	vfiled "pipe transport: deferred forged DSN" "$md" .Junk "$tg" backscatter
	virtual_done "pipe transport"
}

lmtp_tests() {
	# --- virtual users: Dovecot LMTP, a global Sieve script filtering with backstop ----
	local md rcpt
	virtual_phase LMTP
	dc_etc_sum=$(tree_sum /etc/dovecot)
	dovecot_sys_prepare
	ok $? "LMTP: Debian's /etc/dovecot saved; the suite's local.conf (no TLS, LMTP only, log in $DCS_LOG)"
	run_recipe lmtp-link && run_recipe lmtp
	r=$?
	ok $r "LMTP: the recipes of docs/hosts.md run as written (sievec, Dovecot restarted, Postfix reloaded)"
	if [ $r -ne 0 ]; then	# nothing else can work
		dovecot_sys_restore; virtual_done LMTP
		return 1
	fi
	[ -f /etc/dovecot/sieve/backstop.svbin ]
	ok $? "LMTP: sievec compiled the global script, as written"
	vrules root 644 alice
	ok $? "LMTP: alice's rule file, owned by root, mode 644"
	unknown_refused LMTP
	rcpt=alice@$VDOM; md=$VMAIL/$VDOM/alice/Maildir

	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	ok $? "LMTP: ham delivered"
	grep -q " $q: to=<$rcpt>, .*relay=[^,]*\[private/dovecot-lmtp\].*status=sent (250 " "$PF_LOG"
	r=$?; ok $r "LMTP: Postfix handed it to lmtp:unix:private/dovecot-lmtp (250)"
	[ $r -eq 0 ] || grep " $q: to=" "$PF_LOG" | sed 's/^/#   /'
	vfiled "LMTP: ham" "$md" "" "$tg" -
	as_sent "$F" "$m"
	ok $? "LMTP: ham byte for byte apart from Return-Path:, Delivered-To:, Received:"
	is "$(stat -c %U "$F")" $VMAIL_USER "LMTP: stored by Dovecot as $VMAIL_USER"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "LMTP: forged DSN" "$md" .Junk "$tg" backscatter
	LMTP_JUNK_TAG=$tg
	as_sent "$F" "$m"; ok $? "LMTP: forged DSN byte for byte after the added fields"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "LMTP: DSN of alice's own message (her rule file)" "$md" "" "$tg" ours

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(sys_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "LMTP: DSN of the host's message (system rules)" "$md" "" "$tg" ours

	doveadm fetch -u "$rcpt" 'hdr.subject' mailbox Junk ALL 2>> "$LOG" |
		grep -q "$LMTP_JUNK_TAG"
	ok $? "LMTP: doveadm finds the forged DSN in alice's Junk"

	# bob has no rule file: the system rules alone
	rcpt=bob@$VDOM; md=$VMAIL/$VDOM/bob/Maildir
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(our_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "LMTP, user without a rule file: a DSN only alice's rules know" "$md" .Junk "$tg" backscatter
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(sys_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	vfiled "LMTP, user without a rule file: DSN of the host's message" "$md" "" "$tg" ours

	# check-config --filter as vmail (docs/hosts.md): Dovecot makes the
	# maildir; Dovecot's Sieve for LMTP allowed to run backstop, compiled
	run_recipe lmtp-check
	r=$?
	ok $r "LMTP: the check of docs/hosts.md (check-config --filter as $VMAIL_USER): exit 0"
	out=$(recipe_text lmtp-check | to_test_paths | sed 's/^runuser .* -- //' |
		env -u BACKSTOP_SYSTEM_RULES PATH=$W/bin:$PATH setpriv --reuid=$VMAIL_USER --regid=$VMAIL_USER --clear-groups sh 2>&1)
	echo "$out" | grep -q "^dovecot lmtp (delivers Postfix's mail): Sieve on; programs allowed (sieve_extprograms, vnd.dovecot.filter); sieve_filter_bin_dir = $W/sieve-filter; sieve_before = /etc/dovecot/sieve/backstop.sieve\$"
	r=$?
	ok $r "LMTP: check-config shows Dovecot's Sieve for LMTP, allowed to run backstop"
	[ $r -eq 0 ] || echo "$out" | sed 's/^/#   /'
	! echo "$out" | grep -q 'not compiled'
	ok $? "LMTP: check-config finds the script compiled"

	# a good run leaves no error in Dovecot's log (issue 25: without the
	# compiled script, two per delivery)
	! grep -E 'Error:|Fatal:|Panic:' "$DCS_LOG"
	ok $? "LMTP: no Error: line in Dovecot's log of the good run"
	grep -q "lmtp(alice@$VDOM)" "$DCS_LOG"
	ok $? "LMTP: ... which is the log the deliveries wrote to"

	# Dovecot cannot write: LMTP answers 4xx, Postfix defers, the flush delivers
	rcpt=alice@$VDOM; md=$VMAIL/$VDOM/alice/Maildir
	vset_writable "$md" no
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m")
	line=$(pf_status "$q")
	case $line in *"dsn=4."*"status=deferred"*) r=0 ;; *) r=1 ;; esac
	ok $r "LMTP: read-only maildir: deferred (4.x.x)"; [ $r -eq 0 ] || diag "$line"
	pf_queued "$q"; ok $? "LMTP: read-only maildir: the message stays queued"
	is "$(all_with "$md" "$tg" | grep -c .)" 0 "LMTP: read-only maildir: nothing stored"
	vset_writable "$md" yes
	postqueue -i "$q"
	pf_sent "$q" 2; ok $? "LMTP: after the fix, the flush delivers it"
	vfiled "LMTP: deferred forged DSN" "$md" .Junk "$tg" backscatter

	# backstop cannot run: the filter action fails, the implicit keep
	# stores the message in INBOX unfiltered: delivered, not sorted
	chmod 644 "$E2E_BIN"
	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"; r=$?
	chmod 755 "$E2E_BIN"
	ok $r "LMTP: backstop cannot run: delivered all the same"
	vfiled "LMTP: backstop cannot run: implicit keep" "$md" "" "$tg" -

	dovecot_sys_restore
	is "$(tree_sum /etc/dovecot)" "$dc_etc_sum" "LMTP: Debian's /etc/dovecot back as it was"
	virtual_done LMTP
}

# The Message-IDs this Postfix writes, for learn: messages without one,
# sent by a user with sendmail, with short and then long queue IDs
# (enable_long_queue_ids); learn, by a user with no sent folder, must
# propose a pattern that matches every one Postfix wrote in the run.
mta_learn_tests() {
	local u=bse2emc rcpt=bse2emc2@$DOMAIN lq i tg F mid ids pat out r ns nl
	: > "$W/postfix-ids"
	for lq in no yes; do
		postconf -e "enable_long_queue_ids = $lq" && postfix reload >> "$LOG" 2>&1
		sleep 1		# the reload reaches pickup and cleanup
		for i in 1 2; do
			tg=$(tag)
			printf 'From: %s@%s\nTo: %s\nSubject: learn %s\n\nno Message-ID\n' \
				"$u" "$DOMAIN" "$rcpt" "$tg" | as_user $u /usr/sbin/sendmail "$rcpt"
			F=$(find_msg "$(home_of bse2emc2)/Maildir" "$tg")
			mid=$(sed -n '/^$/q; s/^[Mm]essage-[Ii][Dd]: *//p' "${F:-/dev/null}")
			[ -n "$mid" ] && echo "$mid" >> "$W/postfix-ids"
			[ -n "$mid" ] || diag "learn: message $tg (enable_long_queue_ids = $lq) not delivered, or no Message-ID"
		done
	done
	postconf -e 'enable_long_queue_ids = no' && postfix reload >> "$LOG" 2>&1
	# and every other one Postfix wrote in the run (its own bounces):
	# "QID: message-id=<STAMP.QID@myhostname>", "<QID@myhostname>"
	sed -n 's/.* \([0-9A-Za-z]*\): message-id=\(<\([0-9]\{14\}\.\)\{0,1\}\1@[^>]*>\)$/\2/p' "$PF_LOG" >> "$W/postfix-ids"
	ids=$(sort -u "$W/postfix-ids")
	ns=$(echo "$ids" | grep -c '\.[0-9A-F]*@')
	nl=$(echo "$ids" | grep -c '<[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]\{10\}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]*@')
	[ "$ns" -ge 2 ] && [ "$nl" -ge 2 ]
	r=$?
	ok $r "learn: Postfix wrote $ns Message-IDs with short queue IDs and $nl with long ones in this run"
	[ $r -eq 0 ] || echo "$ids" | sed 's/^/#   /' 
	out=$(as_user bse2emc2 "$E2E_BIN" learn 2>&1); r=$?
	ok $r "learn on the Postfix host, no sent folder: exit 0"
	pat=$(echo "$out" | sed -n "s/^  propose: '\\(.*\\)'\$/\\1/p")
	[ "$(echo "$pat" | grep -c .)" -eq 1 ]
	ok $? "learn proposes one pattern, from Postfix's configuration"
	echo "$out" | sed 's/^/#   /'
	printf '%s\n' "$ids" | py -c '
import re, sys
pat = re.compile(sys.argv[1])
bad = [l.strip() for l in sys.stdin if l.strip() and not pat.match(l.strip())]
print("\n".join("# not matched: " + b for b in bad))
sys.exit(1 if bad else 0)' "$pat"
	ok $? "learn: the pattern matches all $(echo "$ids" | grep -c .) Message-IDs Postfix wrote in the run"
}

dovecot_tests() {
	# --- Dovecot reads what backstop filed; backstop works among Dovecot's files ----
	u=bse2efwd; rcpt=$u@$DOMAIN; h=$(home_of $u)

	doveadm -c "$DC_CONF" mailbox list -u $u 2>> "$LOG" | grep -qx Junk
	ok $? "Dovecot: doveadm mailbox list shows Junk"
	imap $u list 2>> "$LOG" | grep -q '(.*\\Junk.*) "." Junk$'
	ok $? "Dovecot: IMAP LIST shows Junk with \\Junk"
	is "$(imap $u find Junk "$FWD_JUNK_TAG" | cut -d';' -f1)" "X-Backstop: backscatter" \
		"Dovecot: IMAP finds the forged DSN in Junk with its X-Backstop:"
	is "$(imap $u find INBOX "$FWD_OURS_TAG" | cut -d';' -f1)" "X-Backstop: ours" \
		"Dovecot: IMAP finds our bounce in INBOX"
	is "$(imap bse2esv find Junk "$SV_JUNK_TAG" | cut -d';' -f1)" "X-Backstop: backscatter" \
		"Dovecot: IMAP finds the Sieve-filed forged DSN in Junk"
	imap $u select INBOX >/dev/null 2>> "$LOG" && imap $u select Junk >/dev/null 2>> "$LOG"
	ok $? "Dovecot: read-write SELECT of INBOX and Junk"
	f=$(msgs_with "$h/Maildir/.Junk" "$FWD_JUNK_TAG")
	case $f in */.Junk/cur/*:2,*) r=0 ;; *) r=1 ;; esac
	ok $r "Dovecot: moved the filed message to cur/ with :2, flags"; [ $r -eq 0 ] || diag "$f"
	[ -f "$h/Maildir/dovecot-uidlist" ] && [ -f "$h/Maildir/.Junk/dovecot-uidlist" ] &&
		ls "$h/Maildir/.Junk" | grep -q '^dovecot.index'
	ok $? "Dovecot: its uidlist and index files are in the maildirs"

	tg=$(tag); m=$(mkmsg dsn "$tg" "$rcpt" "$(forged_mid)")
	q=$(send "" "$rcpt" "$m"); pf_sent "$q"
	filed "Dovecot's maildir: backstop files a new forged DSN" $u .Junk "$tg" backscatter
	case $F in */.Junk/new/*) r=0 ;; *) r=1 ;; esac
	ok $r "Dovecot's maildir: into .Junk/new"; [ $r -eq 0 ] || diag "$F"
	is "$(imap $u find Junk "$tg" | cut -d';' -f1)" "X-Backstop: backscatter" \
		"Dovecot's maildir: IMAP sees it in Junk at once"
	tg=$(tag); m=$(mkmsg ham "$tg" "$rcpt")
	q=$(send carol@sender.example "$rcpt" "$m"); pf_sent "$q"
	filed "Dovecot's maildir: ham" $u "" "$tg" -
	is "$(imap $u find INBOX "$tg")" "X-Backstop: -" "Dovecot's maildir: IMAP sees the ham in INBOX"
	out=$(as_user $u "$E2E_BIN" scan "$h/Maildir" "$h/Maildir/.Junk" 2>&1); r=$?
	ok $r "Dovecot's maildir: backstop scan reads the inbox and Junk (exit 0)"; [ $r -eq 0 ] || diag "$out"
	echo "$out" | grep -q 'dovecot'; r=$((! $?))
	ok $r "Dovecot's maildir: backstop scan skips Dovecot's files"; [ $r -eq 0 ] || diag "$out"
	f=$(msgs_with "$h/Maildir/.Junk" "$FWD_JUNK_TAG")
	is "$(echo "$out" | grep -F "$f" | cut -f2)" backscatter \
		"Dovecot's maildir: backstop scan classifies the message Dovecot moved to cur/"
	! grep -iE 'error|fatal|panic' "$W/dovecot/dovecot.log"
	ok $? "Dovecot: no errors in its log"
}

if [ -n "${postfix_up:-}" ]; then
	postfix_tests
	if [ -n "${dovecot_up:-}" ]; then dovecot_tests
	else diag "Dovecot did not start: no IMAP tests"; fi
	t2=$EPOCHREALTIME
	mailbox_command_tests
	t3=$EPOCHREALTIME
	pf_record_tests
	diag "record: $(since "$t3") s"
	pipe_tests
	lmtp_tests
	mta_learn_tests
	diag "mail host phase: $(since "$t2") s"
else
	diag "Postfix did not start: no Postfix, procmail, maildrop, Sieve or IMAP tests"
fi
diag "Postfix and Dovecot phase: $(since "$t") s"

# --- the end ---------------------------------------------------------------------
t=$EPOCHREALTIME
pf_queue=$(postqueue -p 2>&1)
dovecot_stop
! listening "$IMAP_PORT"; ok $? "Dovecot stopped (doveadm stop)"
postfix_stop
! listening "$SMTP_PORT"; ok $? "Postfix stopped (postfix stop)"
case $pf_queue in *"Mail queue is empty"*) r=0 ;; *) r=1 ;; esac
ok $r "Postfix queue was empty at the end"
[ $r -eq 0 ] || echo "$pf_queue" | sed 's/^/#   /'
[ $r -eq 0 ] || for q_ in $(echo "$pf_queue" | sed -n 's/^\([0-9A-Za-z]\{6,\}\)[*! ].*/\1/p'); do
	grep " $q_: " "$PF_LOG" | tail -n 3 | sed 's/^/#   /'
done
trap - EXIT
e2e_teardown
r=0
for u in $E2E_USERS; do id "$u" >/dev/null 2>&1 && r=1; done
[ -e "$W" ] || [ -e "$E2E_DIR" ] && r=1
ok $r "test users, $W and $E2E_DIR removed"
is "$(cat /etc/postfix/main.cf /etc/postfix/master.cf 2>/dev/null | md5sum)" \
	"${pf_conf_sum:-}" "Postfix's main.cf and master.cf restored"
diag "teardown: $(since "$t") s; whole suite: $(since "$T0") s"
done_testing
