#!/bin/sh
# The Debian package: the recipe of docs/hosts.md, as written (make deb,
# apt install ./backstop_VERSION_ARCH.deb), builds and installs it;
# lintian finds no error and no warning; the demo runs against
# /usr/bin/backstop, check-config reads the packaged
# /etc/backstop/rules.yaml, Dovecot's sieve-filter link is in place;
# installing it again over itself keeps a changed conffile; removing keeps
# only the conffile and names a mailbox_command left behind; purging
# leaves no file or link of the package anywhere.
#
# Needs root (it installs and removes a package) and dpkg-buildpackage.
# It leaves the machine as it found it: it skips when a backstop package
# is installed already, and puts back an /etc/backstop that `make install`
# left.  The package is built from the tree, not from $BACKSTOP, so the
# sanitizer run of the suites skips it.
. "$(dirname "$0")/../lib.sh"

[ "${BACKSTOP_SANITIZED:-}" = 1 ] &&
	skip_all "the package is built from the tree, not the binary under test: run once, in the first pass"
[ "$(id -u)" -eq 0 ] || skip_all "needs root: it installs and purges the package"
command -v dpkg-buildpackage > /dev/null ||
	skip_all "no dpkg-buildpackage (scripts/deps.sh deb installs it)"
st=$(dpkg-query -W -f='${Status}' backstop 2>/dev/null)
case $st in
""|"unknown ok not-installed"|"deinstall ok not-installed"|"purge ok not-installed") ;;
*) skip_all "a backstop package is on this machine already ($st): left as it is" ;;
esac

scratch
V=$(sed -n 's/^#define BACKSTOP_VERSION "\(.*\)"$/\1/p' "$TOP/filter/backstop.h")
DEB=$TOP/backstop_${V}_$(dpkg --print-architecture).deb
SAVED=
installed=

PF_SAVED=

# what is named backstop in the system's directories, or links there
# (the tree and the e2e suite's own directories aside)
ours_anywhere() {
	find /etc /usr /var /opt /run /srv -xdev \( -path /var/tmp -o \
	    -path /usr/local/lib/backstop-e2e -o -path "$TOP" \) -prune -o \
	    \( -name '*backstop*' -o -lname '*backstop*' \) -print 2>/dev/null | sort
}

# whatever happens, no package of ours stays, /etc/backstop and Postfix's
# main.cf are back
restore() {
	[ -n "$installed" ] && dpkg -P backstop > /dev/null 2>&1
	[ -n "$PF_SAVED" ] && cp -p "$PF_SAVED" /etc/postfix/main.cf
	if [ -n "$SAVED" ]; then
		rm -rf /etc/backstop
		tar -C /etc -xpf "$SAVED"
	fi
	chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"
}
trap restore EXIT
trap 'exit 1' INT TERM HUP
if [ -e /etc/backstop ]; then	# from make install: put back at the end
	SAVED=$T/etc-backstop.tar
	tar -C /etc -cpf "$SAVED" backstop
	rm -rf /etc/backstop
fi

ours_anywhere > "$T/before"

# --- build and install, as docs/hosts.md says -------------------------------------
recipe=$(awk '$0 == "<!-- recipe: package -->" { on = 1; next }
    on && $0 == "<!-- /recipe -->" { exit }
    on && /^```/ { inb = !inb; next } on && inb { print }' "$TOP/docs/hosts.md")
is "$(echo "$recipe" | head -1)" "make deb" "docs/hosts.md: the package's recipe starts with make deb"
is "$(echo "$recipe" | sed -n 2p)" "apt install ./${DEB##*/}" \
	"docs/hosts.md: then apt install of the package make deb builds"
(cd "$TOP" && eval "$(echo "$recipe" | head -1)") > "$T/build.log" 2>&1
r=$?
ok $r "make deb: $DEB built"
[ $r -eq 0 ] || { tail -n 30 "$T/build.log" | sed 's/^/#   /'; done_testing; exit 1; }
lint=$TOP/build-deb/lintian.txt
! grep -E '^[EW]: ' "$lint"; ok $? "lintian: no error, no warning"
grep -E '^O: ' "$lint" | sed 's/^/# override: /'
is "$(dpkg-deb -f "$DEB" Version)" "$V" "the package's version is BACKSTOP_VERSION ($V)"
dpkg-deb -f "$DEB" Built-Using | grep -q 'libetpan (= .*pcre2 (= '
ok $? "Built-Using names the static libraries"

# --- install ------------------------------------------------------------------------
(cd "$TOP" && export DEBIAN_FRONTEND=noninteractive &&
    eval "$(echo "$recipe" | sed -n 2p)") \
	< /dev/null > "$T/dpkg.log" 2>&1; r=$?
installed=1
ok $r "apt install ./${DEB##*/}: installed"; [ $r -eq 0 ] || sed 's/^/#   /' "$T/dpkg.log"
is "$(/usr/bin/backstop --version)" "backstop $V" "/usr/bin/backstop --version"
dpkg -L backstop > "$T/files"
for f in /usr/bin/backstop /usr/share/man/man1/backstop.1.gz \
    /usr/share/man/man5/backstop.yaml.5.gz /etc/backstop/rules.yaml \
    /usr/lib/systemd/user/backstop-expire.service \
    /usr/lib/systemd/user/backstop-expire.timer \
    /usr/share/doc/backstop/copyright /usr/share/doc/backstop/changelog.gz \
    /usr/share/doc/backstop/examples/forward \
    /usr/share/doc/backstop/examples/master.cf-pipe \
    /usr/share/doc/backstop/examples/dovecot-lmtp.conf \
    /usr/share/doc/backstop/examples/backstop.sieve \
    /usr/share/doc/backstop/examples/exim-transport \
    /usr/share/doc/backstop/examples/exim-record.filter \
    /usr/share/doc/backstop/examples/postfix-record.forward \
    /usr/share/doc/backstop/examples/crontab.example \
    /usr/share/doc/backstop/README.Debian \
    /usr/share/doc/backstop/docs/hosts.md.gz \
    /usr/lib/dovecot/sieve-filter/backstop; do
	grep -qx "$f" "$T/files" && [ -e "$f" ]
	ok $? "installed: $f"
done
[ "$(readlink -f /usr/lib/dovecot/sieve-filter/backstop)" = /usr/bin/backstop ]
ok $? "Dovecot's sieve-filter link points at /usr/bin/backstop"
# README.Debian's commands (its lines indented by four) are those
# docs/hosts.md has, whose blocks the e2e suite runs
# (none read, when there is no such file, is not a pass)
rd=/usr/share/doc/backstop/README.Debian
bad=$( { [ -f "$rd" ] || echo "no $rd"; sed -n 's/^    \([a-z].*\)$/\1/p' "$rd"; } 2>/dev/null |
	while read -r l; do grep -qF -- "$l" "$TOP/docs/hosts.md" || printf '%s\n' "$l"; done)
is "$bad" "" "README.Debian: every command is one docs/hosts.md has"
dpkg-query -W -f='${Conffiles}\n' backstop | grep -q '^ /etc/backstop/rules.yaml '
ok $? "/etc/backstop/rules.yaml is a conffile"
grep -qx 'ExecStart=/usr/bin/backstop expire' /usr/lib/systemd/user/backstop-expire.service
ok $? "the expiry service runs /usr/bin/backstop"
grep -q '^17 4 \* \* \* /usr/bin/backstop expire' /usr/share/doc/backstop/examples/crontab.example
ok $? "the cron example runs /usr/bin/backstop"
! grep -rq /usr/local /usr/share/doc/backstop/examples /usr/lib/systemd/user/backstop-expire.*
ok $? "no example names /usr/local"
man -l /usr/share/man/man1/backstop.1.gz 2>/dev/null | grep -q 'check-config'
ok $? "the packaged man page documents check-config"
[ ! -e /etc/systemd/user/timers.target.wants/backstop-expire.timer ]
ok $? "the expiry timer is not enabled for every user"

# --- the demo, against the packaged binary ----------------------------------------------
mkdir -p "$T/demo/scripts" "$T/demo/tests"
cp "$TOP/scripts/demo.sh" "$T/demo/scripts/"
ln -s "$FIX" "$T/demo/tests/fixtures"
BACKSTOP=/usr/bin/backstop sh "$T/demo/scripts/demo.sh" > "$T/demo.out" 2>&1
ok $? "scripts/demo.sh with BACKSTOP=/usr/bin/backstop: exit 0"
for m in ham-plain dsn-ours dsn-forged ndr-quoted-copy; do
	grep -qx "== $m.eml: exit 0" "$T/demo.out"; ok $? "demo: $m delivered"
done
grep -q '^Maildir/.Junk/new *X-Backstop: backscatter' "$T/demo.out"
ok $? "demo: backscatter in .Junk"
grep -q '^Maildir/new *X-Backstop: ours' "$T/demo.out"
ok $? "demo: the bounce of our own message in the inbox"

mkdir -p "$T/md/tmp" "$T/md/new" "$T/md/cur"
env -u BACKSTOP_SYSTEM_RULES HOME="$T" /usr/bin/backstop check-config -d "$T/md" \
    > "$T/cc.out" 2> "$T/cc.err"
ok $? "check-config with the packaged system rules: exit 0"
grep -qx 'system rules: /etc/backstop/rules.yaml' "$T/cc.out"
ok $? "check-config reads /etc/backstop/rules.yaml"

# --- again over itself, with a changed conffile ---------------------------------------
echo '# changed by the administrator' >> /etc/backstop/rules.yaml
dpkg -i "$DEB" > "$T/dpkg.log" 2>&1
ok $? "dpkg -i again, over itself"
grep -qx '# changed by the administrator' /etc/backstop/rules.yaml
ok $? "the changed conffile is kept"
/usr/bin/backstop --version > /dev/null; ok $? "/usr/bin/backstop still runs"

# --- remove, then purge -----------------------------------------------------------------
# a mailbox_command left behind is named when the package goes
if [ -f /etc/postfix/main.cf ] && command -v postconf > /dev/null; then
	PF_SAVED=$T/main.cf.saved
	cp -p /etc/postfix/main.cf "$PF_SAVED"
	postconf -e 'mailbox_command = /usr/bin/backstop deliver'
fi
dpkg -r backstop > "$T/dpkg.log" 2>&1; ok $? "dpkg -r"
if [ -n "$PF_SAVED" ]; then
	grep -qx '  Postfix: mailbox_command = /usr/bin/backstop deliver (postconf -X mailbox_command; postfix reload)' "$T/dpkg.log"
	ok $? "removed: it names the mailbox_command that still runs backstop"
	sed 's/^/#   /' "$T/dpkg.log"
	cp -p "$PF_SAVED" /etc/postfix/main.cf && PF_SAVED=
else
	ok 0 "# SKIP no Postfix here"
fi
[ ! -e /usr/lib/dovecot/sieve-filter/backstop ] && [ ! -L /usr/lib/dovecot/sieve-filter/backstop ]
ok $? "removed: Dovecot's sieve-filter link gone, none dangling"
is "$(dpkg-query -W -f='${Status}' backstop)" "deinstall ok config-files" \
	"removed: only its configuration left"
[ ! -e /usr/bin/backstop ]; ok $? "removed: /usr/bin/backstop gone"
[ -f /etc/backstop/rules.yaml ]; ok $? "removed: the conffile kept"
dpkg -P backstop > "$T/dpkg.log" 2>&1; ok $? "dpkg -P"
installed=
st=$(dpkg-query -W -f='${Status}' backstop 2>/dev/null)
case $st in ""|*not-installed) r=0 ;; *) r=1 ;; esac
ok $r "purged: dpkg knows no backstop package ($st)"
left=
while read -r f; do
	[ -d "$f" ] && continue		# shared directories such as /usr/share/man
	[ -e "$f" ] && left="$left $f"
done < "$T/files"
[ -e /etc/backstop ] && left="$left /etc/backstop"
[ -e /usr/share/doc/backstop ] && left="$left /usr/share/doc/backstop"
is "$left" "" "purged: none of its files left, nor /etc/backstop"
ours_anywhere > "$T/after"
diff "$T/before" "$T/after" > "$T/diff"
ok $? "purged: no file or link named backstop, or to it, in /etc /usr /var /opt /run /srv that was not there before"
sed 's/^/#   /' "$T/diff"
done_testing
