#!/bin/sh
# The Debian package: make deb builds backstop_VERSION_ARCH.deb and lintian
# finds no error and no warning; the package installs on this machine,
# the demo runs against /usr/bin/backstop, check-config reads the packaged
# /etc/backstop/rules.yaml; installing it again over itself keeps a changed
# conffile; removing keeps only the conffile; purging leaves nothing.
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

# whatever happens, no package of ours stays, and /etc/backstop is back
restore() {
	[ -n "$installed" ] && dpkg -P backstop > /dev/null 2>&1
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

# --- build and lint -------------------------------------------------------------
make -C "$TOP" deb > "$T/build.log" 2>&1
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
dpkg -i "$DEB" > "$T/dpkg.log" 2>&1; r=$?
installed=1
ok $r "dpkg -i: installed"; [ $r -eq 0 ] || sed 's/^/#   /' "$T/dpkg.log"
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
    /usr/share/doc/backstop/examples/crontab.example; do
	grep -qx "$f" "$T/files" && [ -e "$f" ]
	ok $? "installed: $f"
done
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
dpkg -r backstop > "$T/dpkg.log" 2>&1; ok $? "dpkg -r"
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
done_testing
