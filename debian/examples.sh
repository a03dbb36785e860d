#!/bin/sh
# The set-ups of docs/setups.md and docs/hosts.md, from the files the
# end-to-end suite runs (tests/e2e/conf/), with the paths of the
# package, into DIR: what
# /usr/share/doc/backstop/examples/ holds.  Usage: debian/examples.sh DIR
set -eu
dir=$1
conf=tests/e2e/conf
install -d "$dir"
fill() { tests/e2e/readme-conf.sh "$1"; }
# one user: ~/.forward, ~/.procmailrc, ~/.mailfilter, ~/.dovecot.sieve,
# ~/.qmail; a mail host: the files of docs/hosts.md
for f in forward procmailrc mailfilter-xfilter mailfilter-deliver \
    dovecot-sieve.conf dovecot.sieve dot-qmail $(cat debian/host-examples); do
	fill "$conf/$f" > "$dir/$f"
	chmod 644 "$dir/$f"
done
sed 's|/usr/local/bin/backstop|/usr/bin/backstop|g' scripts/crontab.example \
	> "$dir/crontab.example"
chmod 644 "$dir/crontab.example"
