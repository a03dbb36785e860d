# shellcheck shell=bash
# Settings and helpers for tests/e2e.t (bash; sourced after tests/lib.sh).
#
# Everything the suite creates lives under $W, a fixed path so that a run
# that was killed leaves state the next run finds and removes (e2e_teardown
# runs first and last).  Ports are on 127.0.0.1 only: SMTP 2525 (Exim, then
# Postfix), IMAP 1143 (Dovecot), and 2526, a second Postfix smtpd standing
# for a remote MX that refuses every recipient (the record tests).

E2E=$TOP/tests/e2e
W=/tmp/backstop-e2e
E2E_LOCK=/tmp/backstop-e2e.lock
E2E_DIR=/usr/local/lib/backstop-e2e	# the binary under test, for all users
E2E_BIN=$E2E_DIR/backstop
SMTP_PORT=2525
SINK_PORT=2526
IMAP_PORT=1143
DOMAIN=backstop-e2e.test
IMAP_PASS=e2e-imap-secret
PF_LOG=$W/postfix.log
EXIM_LOG=/var/log/exim4/mainlog
DC_CONF=$W/dovecot/dovecot.conf	# the private Dovecot: IMAP, dovecot-lda
# The system's Dovecot, for the LMTP recipe of docs/hosts.md: Debian's
# /etc/dovecot (saved first, put back by e2e_teardown) plus the recipe's
# file, and local.conf of the suite's own (no TLS, LMTP only, its log here)
DCS_LOG=$W/dovecot-system.log
DCS_PID=/run/dovecot/master.pid
WAIT=${E2E_WAIT:-30}	# seconds to wait for one delivery
# fwd: ~/.forward under Postfix   ex: ~/.forward under Exim
# pm: procmail   md: maildrop   sv: dovecot-lda + Sieve   q: qmail harness
# mc, mc2: Postfix's mailbox_command for every local user (mc2 without
# ~/.backstop.yaml)   eu: Exim's router and transport for every local user
# rec: sends mail that the MTA hands to backstop record (docs/hosts.md)
# vmail: the one account of the virtual users
E2E_USERS="bse2efwd bse2eex bse2epm bse2emd bse2esv bse2eq bse2emc bse2emc2 bse2eeu bse2erec bse2evmail"
VMAIL_USER=bse2evmail
# Virtual users (no account, no home): delivered by Dovecot LMTP with a
# global Sieve script, or by Postfix's pipe(8) to backstop deliver; the
# domain and users of docs/hosts.md
VDOM=example.org
VMAIL=$W/vmail
ETC=$W/etc-backstop		# users/DOMAIN/USER.yaml of the virtual users
# The host's system rules: the suite puts its own in place and restores
# what was there (e2e_teardown)
SYS_RULES=/etc/backstop/rules.yaml
LMTP_SOCKET=/var/spool/postfix/private/dovecot-lmtp
# Outgoing Message-IDs of the host's own server, listed in the system
# rules (every user's bounces of these are ours)
SYS_MID_RE='^<[0-9]{14}\.[0-9A-Z]{6,20}@smtp\.backstop-e2e\.test>$'
# The files of the recipe record-postfix (docs/hosts.md); what was there
# before is saved in $W/postfix-record.saved and put back (record_undo)
PF_RECORD_FILES="/etc/postfix/backstop+record.forward /etc/postfix/backstop-record /etc/postfix/backstop-record.db /etc/postfix/backstop-record-refuse"
# Outgoing Message-IDs of the test users' own server: what ~/.backstop.yaml
# lists, and what "ours" bounces return.
OUR_MID_RE='^<[0-9]{14}\.[0-9A-Z]{6,20}@out\.backstop-e2e\.test>$'

# --- small helpers ----------------------------------------------------------

# Debian's python3 (install.sh installs it), not whatever python3 is first
# in root's PATH
py() {
	if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

home_of() { getent passwd "$1" | cut -d: -f6; }

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds
wait_for() {
	local n=$(($1 * 5))
	shift
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.2
	done
}

# as_user USER CMD...: run CMD as USER with a login-like environment
as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$(home_of "$u")" \
		USER="$u" LOGNAME="$u" "$@"
}

# put USER MODE PATH: stdin into PATH, owned by USER
put() {
	cat > "$3" && chown "$1:" "$3" && chmod "$2" "$3"
}

# conf NAME: a file of tests/e2e/conf with the placeholders filled in
conf() {
	sed -e "s|@BACKSTOP@|$E2E_BIN|g" -e "s|@W@|$W|g" \
		-e "s|@IMAP_PORT@|$IMAP_PORT|g" \
		-e "s|@SIEVE_FILTER_DIR@|$W/sieve-filter|g" \
		-e "s|@VMAIL_USER@|$VMAIL_USER|g" -e "s|@VMAIL@|$VMAIL|g" \
		-e "s|@ETC@|$ETC|g" -e "s|@SIEVE_DIR@|$W/sieve|g" \
		-e "s|@DOVECOT_USERS@|$W/dovecot/users|g" "$E2E/conf/$1"
}

# readme_conf NAME: the same file as the docs show it, with the paths
# of an installed system (the package's /usr/bin/backstop)
readme_conf() { "$E2E/readme-conf.sh" "$E2E/conf/$1" "${2:-}"; }

# --- the recipes of docs/hosts.md, run as written ---------------------------

# to_test_paths: the installed paths of the docs (stdin) as the suite has
# them: the binary under test, its sieve-filter directory, the virtual
# users' rule files, maildirs and account (the inverse of readme-conf.sh)
to_test_paths() {
	sed -e "s|/usr/bin/backstop|$E2E_BIN|g" \
	    -e "s|/usr/local/bin/backstop|$E2E_BIN|g" \
	    -e "s|/usr/lib/dovecot/sieve-filter|$W/sieve-filter|g" \
	    -e "s|/etc/backstop/users|$ETC/users|g" \
	    -e "s|/var/vmail|@VMAIL@|g" -e "s/\\bvmail\\b/$VMAIL_USER/g" \
	    -e "s|@VMAIL@|$VMAIL|g"
}

# recipe_text NAME: the lines of the fenced block of docs/hosts.md between
# "<!-- recipe: NAME -->" and "<!-- /recipe -->", as written
recipe_text() {
	awk -v n="<!-- recipe: $1 -->" '
	    $0 == n { on = 1; next }
	    on && $0 == "<!-- /recipe -->" { exit }
	    on && /^```/ { inb = !inb; next }
	    on && inb { print }' "$TOP/docs/hosts.md"
}

# The two commands a recipe names that the suite answers itself.
# systemctl: PID 1 is not systemd here (and apt never starts daemons):
# the suite starts, restarts and stops them, on loopback.
systemctl() {
	case "$1 $2" in
	"restart exim4") exim_stop && exim_start ;;
	"restart dovecot") dovecot_sys_restart ;;
	"reload postfix"|"restart postfix") postfix reload ;;
	*) echo "systemctl $*: not one the suite knows" >&2; return 1 ;;
	esac
}
# apt install: the suite installed its packages (install.sh); the recipe
# must name only packages that are there
apt() {
	local p
	[ "$1" = install ] || { echo "apt $1: not one the suite knows" >&2; return 1; }
	shift
	for p; do
		case $p in -*) continue ;; esac
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed' ||
			{ echo "apt install: $p is not installed" >&2; return 1; }
	done
}

# run_recipe NAME: the recipe's commands, with the test's paths, in a
# shell of their own that stops at the first failure (its output in the
# log); the binary under test is "backstop" on PATH, as the package's is
run_recipe() {
	local text
	text=$(recipe_text "$1" | to_test_paths)
	[ -n "$text" ] || { diag "docs/hosts.md has no recipe $1"; return 1; }
	{ echo "== recipe $1"; printf '%s\n' "$text"; } >> "$LOG"
	(
		set -e -o pipefail
		PATH=$W/bin:/usr/sbin:/usr/bin:/sbin:/bin
		unset BACKSTOP_SYSTEM_RULES	# the tests' own: not an admin's
		eval "$text"
	) > "$W/recipe-$1.out" 2>&1
	local r=$?
	cat "$W/recipe-$1.out" >> "$LOG"
	if [ $r -ne 0 ]; then
		diag "recipe $1 failed (exit $r); its output:"
		tail -n 20 "$W/recipe-$1.out" | sed 's/^/#   /'
	fi
	return $r
}

# tree_sum DIR: one checksum of a directory tree: names, types, modes,
# owners, link targets and file contents
tree_sum() {
	{ find "$1" -printf '%P %y %m %u %g %l\n' | sort
	  find "$1" -type f -exec md5sum {} + | sort; } 2>/dev/null | md5sum
}

# --- the system's Dovecot (LMTP) ------------------------------------------------

# Debian's /etc/dovecot saved, and the suite's own local.conf (Debian's
# dovecot.conf includes it last): only LMTP's socket may listen, and this
# machine has no certificate for Dovecot's TLS (dovecot-core makes one
# with ssl-cert, not installed here): TLS off, and empty stand-ins for
# the files 10-ssl.conf reads
dovecot_sys_prepare() {
	local f
	[ -e "$W/dovecot-etc.saved" ] && return 0
	cp -a /etc/dovecot "$W/dovecot-etc.saved" || return 1
	for f in /etc/dovecot/private/dovecot.pem /etc/dovecot/private/dovecot.key; do
		[ -e "$f" ] || install -m 600 /dev/null "$f" || return 1
	done
	cat > /etc/dovecot/local.conf <<EOF
# backstop's e2e suite (tests/e2e.t), removed at its end
ssl = no
protocols = lmtp
log_path = $DCS_LOG
EOF
}

dovecot_sys_restart() {
	local pid
	pid=$(cat "$DCS_PID" 2>/dev/null || :)
	if alive "$pid"; then
		doveadm reload
	else
		: > "$W/dovecot-sys.started"
		dovecot < /dev/null >> "$LOG" 2>&1 || return 1
	fi
	wait_for 15 test -S "$LMTP_SOCKET"
}

dovecot_sys_stop() {
	local pid
	[ -e "$W/dovecot-sys.started" ] || return 0
	pid=$(cat "$DCS_PID" 2>/dev/null || :)
	if alive "$pid"; then
		doveadm stop
		wait_for 10 eval "! alive $pid" || diag "system dovecot $pid did not stop"
	fi
	rm -f "$W/dovecot-sys.started"
}

# Debian's /etc/dovecot back as it was
dovecot_sys_restore() {
	dovecot_sys_stop
	if [ -d "$W/dovecot-etc.saved" ]; then
		rm -rf /etc/dovecot && cp -a "$W/dovecot-etc.saved" /etc/dovecot &&
			rm -rf "$W/dovecot-etc.saved"
	fi
	rm -f "$LMTP_SOCKET"
}

# Exim as the suite runs it: the daemon of the configuration that
# update-exim4.conf wrote, listening on 127.0.0.1:$SMTP_PORT only
exim_start() {
	/usr/sbin/exim4 -bd -oX "127.0.0.1.$SMTP_PORT" -oP "$W/exim.pid" \
		< /dev/null >> "$LOG" 2>&1 &&
		wait_for 15 eval "(exec 3<> /dev/tcp/127.0.0.1/$SMTP_PORT)"
}

# Debian's /etc/exim4 back as it was, and its configuration rebuilt
exim_etc_restore() {
	[ -d "$W/exim4-etc.saved" ] || return 0
	rm -rf /etc/exim4 && cp -a "$W/exim4-etc.saved" /etc/exim4 &&
		rm -rf "$W/exim4-etc.saved"
	if command -v update-exim4.conf > /dev/null 2>&1; then
		update-exim4.conf >> "${LOG:-/dev/null}" 2>&1
	fi
}

# The virtual users' set-up undone: the account, its maildirs, Postfix's
# list, the rule files
virtual_undo() {
	if id "$VMAIL_USER" > /dev/null 2>&1; then
		userdel "$VMAIL_USER" > /dev/null 2>&1
	fi
	getent group "$VMAIL_USER" > /dev/null && groupdel "$VMAIL_USER" > /dev/null 2>&1
	rm -rf "$VMAIL" "$ETC/users"
	if [ -e "$W/postfix-vmailbox.saved" ]; then
		cp -p "$W/postfix-vmailbox.saved" /etc/postfix/vmailbox &&
			postmap /etc/postfix/vmailbox && rm -f "$W/postfix-vmailbox.saved"
	elif [ -e "$W/postfix-vmailbox.none" ]; then
		rm -f /etc/postfix/vmailbox /etc/postfix/vmailbox.db \
			"$W/postfix-vmailbox.none"
	fi
}

# Before the recipe record-postfix: the files it writes, saved
record_prepare() {
	local f
	mkdir -p "$W/postfix-record.saved" || return 1
	for f in $PF_RECORD_FILES; do
		[ -e "$f" ] && cp -p "$f" "$W/postfix-record.saved/"
	done
	return 0
}

# ... and after it: its files removed, what was there put back
record_undo() {
	local f
	[ -d "$W/postfix-record.saved" ] || return 0
	for f in $PF_RECORD_FILES; do
		rm -f "$f"
		[ -e "$W/postfix-record.saved/${f##*/}" ] &&
			cp -p "$W/postfix-record.saved/${f##*/}" "$f"
	done
	rm -rf "$W/postfix-record.saved"
}

# Before the virtual users' recipe: what it will overwrite, saved
virtual_prepare() {
	if [ -e /etc/postfix/vmailbox ]; then
		[ -e "$W/postfix-vmailbox.saved" ] ||
			cp -p /etc/postfix/vmailbox "$W/postfix-vmailbox.saved"
	else
		: > "$W/postfix-vmailbox.none"
	fi
	mkdir -p "$ETC" && chmod 755 "$ETC"
}

# A tag unique to one message (in its Message-ID and Subject), and Message-IDs
# that our outgoing server writes (they match OUR_MID_RE) or that spam had.
# Called in $(...): no state may be kept, the clock makes them unique.
tag() { printf 'E2E%sR%05d' "${EPOCHREALTIME/./}" "$RANDOM"; }
our_mid() {
	printf '<%s.%s%05d@out.backstop-e2e.test>' "$(date -u +%Y%m%d%H%M%S)" \
		"${EPOCHREALTIME#*.}" "$RANDOM"
}
sys_mid() {
	printf '<%s.%s%05d@smtp.backstop-e2e.test>' "$(date -u +%Y%m%d%H%M%S)" \
		"${EPOCHREALTIME#*.}" "$RANDOM"
}
forged_mid() { printf '<%s.%05d@spam-relay.example>' "${EPOCHREALTIME/./}" "$RANDOM"; }

# mkmsg KIND ARGS...: a fixture message into a new file; prints its path
mkmsg() {
	local f
	f=$(mktemp "$W/msg.XXXXXX") && py "$E2E/mkmsg.py" "$@" > "$f" &&
		chmod 644 "$f" && echo "$f"
}

# send SENDER RCPT FILE: SMTP to 127.0.0.1:$SMTP_PORT; prints the queue id
send() { py "$E2E/smtp-send.py" "$SMTP_PORT" "$@"; }

# --- finding stored messages --------------------------------------------------

# files in maildir folder DIR (new/ and cur/) that contain TAG
msgs_with() { grep -lsF -- "$2" "$1"/new/* "$1"/cur/* 2>/dev/null; }
count_with() { msgs_with "$1" "$2" | wc -l; }
# messages (files in new/ or cur/ of any folder) under maildir DIR with TAG;
# not Dovecot's index files, which cache header fields
all_with() { grep -rlsF -- "$2" "$1" | grep -E '/(new|cur)/[^/]+$'; }
# msg_count DIR: the number of messages under maildir DIR, in any folder
msg_count() {
	find "$1" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | wc -l
}

# find_msg DIR TAG: wait until exactly one file in DIR holds TAG; print it
find_msg() {
	local n=$((WAIT * 5)) c
	while :; do
		c=$(count_with "$1" "$2")
		if [ "$c" -eq 1 ]; then msgs_with "$1" "$2"; return 0; fi
		[ "$c" -gt 1 ] && { diag "$c copies of $2 in $1"; return 1; }
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.2
	done
}

# the X-Backstop: field of a stored message (first one), or "-"
xb() { sed -n '/^$/q; s/^X-Backstop: //p' "$1" | head -1 | grep . || echo -; }

# added_fields: from a header block on stdin, print the lines that are not
# fields an MTA, MDA or backstop adds on top of a message (Return-Path,
# X-Original-To, Delivered-To, Received, X-Backstop, Exim's Envelope-to and
# Delivery-date, and their continuation lines; names in any case, as
# Exim writes "Return-path:")
added_fields() {
	awk '/^[ \t]/ && ok { next }
	     { ok = tolower($0) ~ /^(return-path|x-original-to|delivered-to|received|x-backstop|envelope-to|delivery-date):/ }
	     !ok { print }'
}

# as_sent STORED SENT [SUFFIX]: STORED is SENT byte for byte (followed by
# SUFFIX, a printf format: Exim's pipe adds "\n"), after some fields that
# the MTA, MDA or backstop put on top of it (diag otherwise)
as_sent() {
	local s t want=$W/as-sent.want
	{ cat "$2"; printf "${3:-}"; } > "$want"
	s=$(stat -c %s "$1") t=$(stat -c %s "$want")
	if [ "$s" -lt "$t" ] || ! tail -c "$t" "$1" | cmp -s - "$want"; then
		diag "$1 does not end with the message as sent:"
		tail -c "$t" "$1" | diff "$want" - | head -n 10 | sed 's/^/#   /'
		return 1
	fi
	if [ -n "$(head -c $((s - t)) "$1" | added_fields)" ]; then
		diag "unexpected lines on top of $1:"
		head -c $((s - t)) "$1" | sed 's/^/#   /'
		return 1
	fi
}

# --- Postfix ------------------------------------------------------------------

# pf_status QID [N]: wait for the N-th delivery status of QID in the log
pf_status() {
	local q=$1 n=${2:-1}
	wait_for "$WAIT" eval \
		"[ \$(grep -c ' $q: to=<.*status=' '$PF_LOG') -ge $n ]" ||
		return 1
	grep " $q: to=<.*status=" "$PF_LOG" | sed -n "${n}p"
}

pf_queued() { postqueue -p | grep -q "^$1[*! ]"; }

# --- Exim -----------------------------------------------------------------------

# exim_status ID: wait for the next delivery line of ID (=> delivered,
# == deferred, ** failed) after line $2 of the main log; print it
exim_status() {
	local id=$1 from=${2:-0}
	wait_for "$WAIT" eval \
		"tail -n +$((from + 1)) '$EXIM_LOG' | grep -qE '^.{19} $id (=>|==|\*\*) '" ||
		return 1
	tail -n +$((from + 1)) "$EXIM_LOG" | grep -E "^.{19} $id (=>|==|\*\*) " | head -1
}
exim_loglines() { if [ -f "$EXIM_LOG" ]; then wc -l < "$EXIM_LOG"; else echo 0; fi; }

# --- daemons ------------------------------------------------------------------

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
	! grep -qs '^State:.*Z' "/proc/$1/status"; }

dovecot_stop() {
	local pid
	[ -f "$DC_CONF" ] || return 0
	pid=$(cat "$W/dovecot/run/master.pid" 2>/dev/null || :)
	alive "$pid" || return 0
	doveadm -c "$DC_CONF" stop
	wait_for 10 eval "! alive $pid" || diag "dovecot $pid did not stop"
}

# Exim has no stop command of its own: its init script's "stop" sends
# SIGTERM to the daemon's pid from the pid file, and so do we.
exim_stop() {
	local pid
	pid=$(cat "$W/exim.pid" 2>/dev/null || :)
	alive "$pid" || return 0
	kill -TERM "$pid"
	wait_for 10 eval "! alive $pid" || diag "exim $pid did not stop"
}

postfix_stop() {
	local pid
	[ -e "$W/postfix.started" ] || return 0
	if postfix status >/dev/null 2>&1; then
		pid=$(tr -d ' ' < /var/spool/postfix/pid/master.pid 2>/dev/null)
		postsuper -d ALL >/dev/null 2>&1	# test mail still queued
		postfix stop 2>/dev/null
		wait_for 10 eval "! alive $pid" || diag "postfix $pid did not stop"
		# the master is gone before the smtpd children that share
		# its listening socket have noticed: give them the same time
		wait_for 10 eval "! (exec 3<> /dev/tcp/127.0.0.1/$SMTP_PORT)" ||
			diag "127.0.0.1:$SMTP_PORT still open after postfix stop"
	fi
	rm -f "$W/postfix.started"
}

# Everything back as it was, also after a run that was killed: daemons
# stopped by their own stop commands, Postfix's configuration restored,
# mail of the test users dropped from Exim's queue, users and files removed.
e2e_teardown() {
	local u q
	dovecot_stop
	exim_stop
	postfix_stop
	dovecot_sys_restore
	if [ -f "$W/postfix-orig/main.cf" ]; then
		cp -p "$W/postfix-orig/main.cf" "$W/postfix-orig/master.cf" \
			/etc/postfix/
	fi
	virtual_undo
	record_undo
	exim_etc_restore
	if command -v exiqgrep >/dev/null 2>&1; then
		for q in $(exiqgrep -i -r "(bse2e|nosuchuser)" 2>/dev/null) \
		    $(exiqgrep -i -f "bse2e" 2>/dev/null); do
			exim4 -Mrm "$q" >/dev/null 2>&1
		done
	fi
	if [ -e "$W/sys-rules.saved" ]; then
		cp -p "$W/sys-rules.saved" "$SYS_RULES"
	elif [ -e "$W/sys-rules.none" ]; then
		rm -f "$SYS_RULES"
		[ -e "$W/sys-rules.mkdir" ] && rmdir /etc/backstop
	fi
	for u in $E2E_USERS; do
		if id "$u" >/dev/null 2>&1; then
			userdel -r "$u" >/dev/null 2>&1 || userdel "$u"
		fi
		rm -f "/var/mail/$u"
	done
	rm -rf "$E2E_DIR" "$W"
}
