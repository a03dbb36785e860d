#!/bin/sh
# Set up the tools a user would run instead of backstop, for one mail
# store: bench/anchors.sh CONF STORE
#   CONF   where the configuration goes (rules, rc files, SpamAssassin)
#   STORE  where the maildirs go, one per tool
# Every tool gets what the issue measured: procmail and maildrop with one
# body regex for our Message-IDs (":0 B"), safecat as a bare maildir
# writer, Sisimai (bench/sisimai-deliver.pl), SpamAssassin with VBounce
# one process per message, spamc -> spamd with VBounce (run.sh starts
# spamd with CONF/sa-site).  backstop's rules: one outbound pattern.
set -eu
conf=$1
store=$2
mkdir -p "$conf" "$conf/home"
for t in floor backstop procmail maildrop safecat sisimai spamc spamassassin; do
	for d in "$store/$t" "$store/$t/.Junk"; do
		mkdir -p "$d/tmp" "$d/new" "$d/cur"
	done
done

# the outbound pattern of the README's example; mode 600 as required
cat > "$conf/rules.yaml" <<'YAML'
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]{6,20}@mail\.example\.org>$'
YAML
chmod 600 "$conf/rules.yaml"

tag=$(basename "$store")
cat > "$conf/procmailrc-$tag" <<RC
MAILDIR=$store/procmail
DEFAULT=$store/procmail/
:0 B
* ^Message-ID: *<[0-9]+\.[0-9A-F]+@mail\.example\.org>
$store/procmail/
RC
cat > "$conf/mailfilter-$tag" <<RC
if (/^Message-ID: *<[0-9]+\.[0-9A-F]+@mail\.example\.org>/:b)
{
	to "$store/maildrop"
}
to "$store/maildrop"
RC
chmod 600 "$conf/procmailrc-$tag" "$conf/mailfilter-$tag"

# SpamAssassin: Debian's site config plus what VBounce needs, no Bayes
if [ -d /etc/spamassassin ] && [ ! -d "$conf/sa-site" ]; then
	mkdir -p "$conf/sa-site"
	cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$conf/sa-site/"
	cat >> "$conf/sa-site/local.cf" <<'CF'

# bench: VBounce tells bounces of our mail (relayed by our outbound
# server) from backscatter; no Bayes, no learning, no network tests
whitelist_bounce_relays mail.example.org
use_bayes 0
bayes_auto_learn 0
CF
fi
