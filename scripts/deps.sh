#!/bin/sh
# Install the Debian packages that building and testing backstop need,
# only those that are missing.  Usage: scripts/deps.sh build|check|deb|e2e|bench
set -eu
want_build="gcc make pkg-config lld libetpan-dev libpcre2-dev libyaml-dev"
# make deb: the package's Build-Depends (debian/control) and lintian
want_deb="$want_build debhelper dpkg-dev fakeroot lintian"
want_check="$want_deb libcmocka-dev clang libclang-rt-dev valgrind perl man-db mandoc time"
want_e2e="postfix procmail maildrop dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sieve python3"
want_bench="hyperfine procmail maildrop safecat libsisimai-perl spamassassin spamc spamd time valgrind"

case "${1:-build}" in
build) want=$want_build ;;
check) want=$want_check ;;
deb) want=$want_deb ;;
e2e) want=$want_e2e ;;
bench) want="$want_check $want_bench" ;;
*) echo "usage: $0 build|check|deb|e2e|bench" >&2; exit 64 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "backstop: missing Debian packages:$missing" >&2
	echo "backstop: run as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
if [ "${1:-build}" = e2e ]; then
	# Local-only Postfix, no questions.
	debconf-set-selections <<'SEL'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string backstop-e2e.test
postfix postfix/destinations string backstop-e2e.test, localhost
postfix postfix/protocols select ipv4
SEL
fi
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }
# an old or empty package list finds nothing: update once, then install
apt_get install --no-install-recommends $missing >/dev/null 2>&1 || {
	apt_get update >/dev/null
	apt_get install --no-install-recommends $missing >/dev/null
}
