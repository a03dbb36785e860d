#!/bin/sh
# Install the Debian packages the end-to-end suite needs, only those that
# are missing, with no questions asked.
#
#   install.sh postfix   the common packages and Postfix ("Local only")
#   install.sh exim      the common packages and Exim (exim4-daemon-light)
#
# Postfix and Exim conflict as Debian packages (both provide
# mail-transport-agent): installing one makes apt remove the other, which
# is how tests/e2e.t swaps them for its Exim phase.  Nothing is started:
# apt never starts services here (no systemd, policy-rc.d), and the suite
# starts each daemon itself.  Output goes to stdout; exit 0 when every
# wanted package is installed.
set -eu

common="procmail maildrop dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sieve python3"
case "${1:-}" in
postfix) want="$common postfix" ;;
exim) want="$common exim4-daemon-light" ;;
*) echo "usage: $0 postfix|exim" >&2; exit 64 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
# Local-only mail systems: no relaying, no questions.  Exim's
# update-exim4.conf.conf keeps an administrator's earlier answers; the
# suite does not depend on them (it starts Exim with its own listener).
debconf-set-selections <<'SEL'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string backstop-e2e.test
postfix postfix/destinations string backstop-e2e.test, localhost
postfix postfix/protocols select ipv4
exim4-config exim4/dc_eximconfig_configtype select local delivery only; not on a network
exim4-config exim4/mailname string backstop-e2e.test
exim4-config exim4/dc_other_hostnames string backstop-e2e.test
exim4-config exim4/dc_local_interfaces string 127.0.0.1
exim4-config exim4/dc_minimaldns boolean false
exim4-config exim4/use_split_config boolean false
exim4-config exim4/dc_localdelivery select mbox format in /var/mail/
exim4-config exim4/dc_postmaster string
SEL

apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }
echo "installing:$missing"
# An old or missing package list finds nothing: update once, then retry.
# --no-install-recommends keeps the swap small (no bsd-mailx, no extras).
apt_get install --no-install-recommends $missing || {
	apt_get update
	apt_get install --no-install-recommends $missing
}
