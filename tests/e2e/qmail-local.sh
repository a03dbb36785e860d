#!/bin/bash
# qmail-local.sh: a harness for the "|command" lines of ~/.qmail, since
# Debian ships no qmail.  It is NOT qmail; it reproduces the contract that
# qmail-local(8) gives a delivery program, from qmail-command(8),
# dot-qmail(5) and qmail-local.c (mailprogram(), checkhome(), the
# environment it sets):
#   - the program runs as the user, in the home directory, umask 077,
#     through /bin/sh -c "command";
#   - stdin is the message as a SEEKABLE regular file, at offset 0 for
#     each line; the message has no From_ line and no Return-Path: or
#     Delivered-To: (those come in $RPLINE and $DTLINE, each ending in a
#     newline; a program that writes a maildir prepends them, as
#     qmail-local's own maildir delivery does);
#   - environment: SENDER (empty for a bounce) NEWSENDER RECIPIENT USER
#     HOME HOST LOCAL EXT EXT2-4 HOST2-4 DTLINE RPLINE UFLINE, and PATH;
#   - exit 0: delivered, go on with the next line; 99: delivered, ignore
#     the following lines; 100 64 65 70 76 77 78 112: hard error (qmail
#     bounces); killed by a signal or any other code: soft error (qmail
#     keeps the message and retries);
#   - a world-writable home directory or .qmail (qmail's default
#     conf-patrn 002): soft error.
#
# usage: qmail-local.sh USER MSGFILE SENDER RECIPIENT
# Prints "program exited N: COMMAND" per program line; exits as
# qmail-local does: 0 delivered, 100 hard failure, 111 soft failure.
set -u
[ $# -eq 4 ] || { echo "usage: $0 USER MSGFILE SENDER RECIPIENT" >&2; exit 64; }
user=$1 msg=$2 sender=$3 recip=$4
pw=$(getent passwd "$user") || { echo "qmail-local: no such user $user"; exit 100; }
IFS=: read -r _ _ uid gid _ home _ <<<"$pw"
local=${recip%@*} host=${recip#*@}
soft() { echo "qmail-local: soft: $*"; exit 111; }
hard() { echo "qmail-local: hard: $*"; exit 100; }

mode=$(stat -c %a "$home")
(( 8#$mode & 8#002 )) && soft "home directory is writable (#4.7.0)"
qf=$home/.qmail
[ -f "$qf" ] || hard "no $qf in this harness"
(( 8#$(stat -c %a "$qf") & 8#002 )) && soft ".qmail file is writable (#4.7.0)"
# qmail-local's loop check: our Delivered-To: already in the header
sed '/^$/q' "$msg" | grep -qix "Delivered-To: $recip" &&
	hard "message is looping: it already has my Delivered-To line (#5.4.6)"

# the message on a seekable file that the user can read (qmail-local's
# stdin is the queue file, opened by qmail-local, which runs as the user)
tmp=$(mktemp) || soft "mktemp failed"
trap 'rm -f "$tmp"' EXIT
cat -- "$msg" > "$tmp" && chmod 644 "$tmp" || soft "cannot copy the message"
ufline="From ${sender:-MAILER-DAEMON} $(LC_ALL=C date '+%a %b %e %T %Y')"

while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'#'* | '') continue ;;
	'|'*)
		cmd=${line#|}
		(cd "$home" && umask 077 &&
			exec setpriv --reuid="$uid" --regid="$gid" --init-groups \
			env -i PATH=/usr/local/bin:/usr/bin:/bin \
			SENDER="$sender" NEWSENDER="$sender" RECIPIENT="$recip" \
			USER="$user" HOME="$home" HOST="$host" LOCAL="$local" \
			EXT= EXT2= EXT3= EXT4= HOST2="${host%.*}" \
			HOST3="${host%.*.*}" HOST4="${host%.*.*.*}" \
			DTLINE="Delivered-To: $recip"$'\n' \
			RPLINE="Return-Path: <$sender>"$'\n' \
			UFLINE="$ufline"$'\n' \
			/bin/sh -c "$cmd") < "$tmp"
		rc=$?
		echo "program exited $rc: $cmd"
		case $rc in
		0) ;;
		99) exit 0 ;;	# delivered; the following lines are ignored
		100 | 64 | 65 | 70 | 76 | 77 | 78 | 112) hard "program failed permanently" ;;
		*) soft "program failed temporarily" ;;	# also signals (rc > 128)
		esac
		;;
	*) hard "only |program lines are simulated: $line" ;;
	esac
done < "$qf"
exit 0
