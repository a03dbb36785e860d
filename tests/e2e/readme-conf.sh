#!/bin/sh
# readme-conf.sh FILE [BACKSTOP]: a file of tests/e2e/conf/ as the docs
# shows it and the package installs it under /usr/share/doc/backstop/
# examples/, with the paths of an installed system (BACKSTOP, default the
# package's /usr/bin/backstop).  The suite fills the same placeholders
# with its own paths (common.sh, conf).
exec sed -e "s|@BACKSTOP@|${2:-/usr/bin/backstop}|g" \
	-e 's|@SIEVE_FILTER_DIR@|/usr/lib/dovecot/sieve-filter|g' \
	-e 's|@VMAIL_USER@|vmail|g' -e 's|@VMAIL@|/var/vmail|g' \
	-e 's|@ETC@|/etc/backstop|g' -e 's|@SIEVE_DIR@|/etc/dovecot/sieve|g' \
	-e 's|@DOVECOT_USERS@|/etc/dovecot/users|g' "$1"
