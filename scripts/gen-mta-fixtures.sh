#!/bin/sh
# gen-mta-fixtures.sh: regenerate tests/fixtures/mta/ from real MTA software.
#
# Every fixture there is a bounce, delay warning or auto-reply written by an
# unmodified program from Debian 12's packages, in answer to an original we
# sent ourselves with a known Message-ID.  Not run by `make check`: the
# fixtures are committed, tests/t/mta-fixtures.t only reads them.
#
# What it does:
#   * as root, `apt-get download` into $MTAGEN/debs (default /tmp/mtagen):
#     exim4-daemon-light exim4-base postfix dovecot-core dovecot-sieve
#     vacation sendmail-bin sendmail-base sendmail-cf m4;
#     then `dpkg -x` each into $MTAGEN/root-PKG.  Nothing is installed,
#     removed or reconfigured: no dpkg -i, no apt-get install, no service.
#     (Root is needed for apt-get download and to run the MTAs, which
#     change to their own users: Debian-exim, postfix, nobody.)
#   * runs them with private configuration, spool, queue and log
#     directories under $MTAGEN; the only listener is a loopback SMTP sink
#     (Python, 127.0.0.1:2626) that plays the remote server (550 at RCPT,
#     452 at RCPT, 552/554 after DATA, chosen by the recipient's local part)
#     and the final MTA of our own domain (it stores what alice receives,
#     with a Return-Path: on top and LF line ends, as a local delivery
#     would);
#     Postfix's master runs privately with no inet listener at all;
#   * Debian's and Sendmail's vacation(1) call /usr/sbin/sendmail: they run
#     inside a private mount namespace (unshare -m) where that path is
#     bind-mounted to a capture script; dovecot-lda likewise gets the
#     extracted doveconf and libraries bind-mounted over /usr/bin/doveconf
#     and /usr/lib/dovecot; the system's files are not touched;
#   * Sendmail runs in its own UTS namespace (unshare -u) so that its host
#     name is smtp.example.org (with an unqualified one it sleeps a minute);
#   * kills everything it started (by pid) and writes the captured
#     messages to tests/fixtures/mta/<mta>-<case>.eml, plus a few of the
#     originals as orig-*.eml.  expected.tsv is kept by hand: the ids are
#     fixed per case, so regenerating does not change it.
#
# Usage: sudo scripts/gen-mta-fixtures.sh [CASE-PREFIX...]
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/tests/fixtures/mta
W=${MTAGEN:-/tmp/mtagen}
SINKPORT=2626
PIDS=
[ "$(id -u)" = 0 ] || { echo "$0: run as root (apt-get download, MTAs)" >&2; exit 1; }
mkdir -p "$W/debs" "$OUT"

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	[ -f "$W/postfix/queue/pid/master.pid" ] &&
		kill "$(tr -d ' ' < "$W/postfix/queue/pid/master.pid")" 2>/dev/null || :
}
trap cleanup EXIT INT TERM

SELECT="$*"
want() {	# want CASE: is this case selected on the command line?
	[ -z "$SELECT" ] && return 0
	for s in $SELECT; do	# a case within a selected group, or a group of a selected case
		case $1 in "$s"*) return 0 ;; esac
		case $s in "$1"*) return 0 ;; esac
	done
	return 1
}

# --- packages ---------------------------------------------------------------
fetch() {	# fetch PKG...: download and unpack into $W/root-PKG
	for p; do
		[ -d "$W/root-$p" ] && continue
		(cd "$W/debs" && ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p")
		dpkg -x "$W/debs/$(cd "$W/debs" && ls "${p}"_*.deb | head -n1)" "$W/root-$p"
	done
}

# --- the loopback SMTP sink ---------------------------------------------------
cat > "$W/sink.py" <<'EOF'
"""Loopback SMTP sink: plays the remote server and our own final MTA.
RCPT local part: rcpt550* -> 550 at RCPT, rcpt452* -> 452 at RCPT,
data552* / data554* -> accepted, then 552 / 554 after DATA; anything else
is accepted; what alice@mail.example.org gets is saved as
OUTDIR/<n>-<rcpt>.eml with a Return-Path on top and LF line ends, as a
local delivery writes it."""
import os, socketserver, sys
PORT, OUTDIR = int(sys.argv[1]), sys.argv[2]
count = [len(os.listdir(OUTDIR))]

class H(socketserver.StreamRequestHandler):
    def out(self, s):
        self.wfile.write(s.encode() + b"\r\n"); self.wfile.flush()
    def handle(self):
        try: self.session()
        except OSError: pass
    def session(self):
        self.out("220 mx.remote.example.net ESMTP ready")
        sender, rcpts, fail_data = "<>", [], None
        while True:
            line = self.rfile.readline()
            if not line: return
            cmd = line.decode("latin-1").rstrip("\r\n"); u = cmd.upper()
            if u.startswith("EHLO"):
                self.wfile.write(b"250-mx.remote.example.net\r\n250-SIZE 10485760\r\n"
                                 b"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING\r\n")
                self.wfile.flush()
            elif u.startswith("HELO"): self.out("250 mx.remote.example.net")
            elif u.startswith("MAIL FROM:"):
                rest = cmd[10:].strip()
                sender = rest.split()[0] if rest else "<>"
                rcpts, fail_data = [], None
                self.out("250 2.1.0 Ok")
            elif u.startswith("RCPT TO:"):
                r = cmd[8:].strip().split()[0].strip("<>")
                lp = r.split("@")[0].lower()
                if lp.startswith("rcpt550"):
                    self.out("550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table" % r)
                elif lp.startswith("rcpt452"):
                    self.out("452 4.2.2 <%s>: Recipient address rejected: Mailbox full, try again later" % r)
                else:
                    if lp.startswith("data552"):
                        fail_data = "552 5.2.2 <%s>: Message rejected: mailbox quota exceeded" % r
                    elif lp.startswith("data554"):
                        fail_data = "554 5.7.1 Message rejected as spam by content filter (id 4711)"
                    rcpts.append(r); self.out("250 2.1.5 Ok")
            elif u == "DATA":
                if not rcpts: self.out("554 5.5.1 Error: no valid recipients"); continue
                self.out("354 End data with <CR><LF>.<CR><LF>")
                buf = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"): break
                    if l.startswith(b".."): l = l[1:]
                    buf.append(l)
                if fail_data: self.out(fail_data); continue
                data = b"".join(buf).replace(b"\r\n", b"\n")
                for r in rcpts:
                    if r.lower() != "alice@mail.example.org": continue
                    count[0] += 1
                    p = os.path.join(OUTDIR, "%03d-%s.eml" % (count[0], r))
                    with open(p + ".tmp", "wb") as f:
                        f.write(b"Return-Path: " + sender.encode() + b"\n" + data)
                    os.rename(p + ".tmp", p)
                self.out("250 2.0.0 Ok: queued as 4B2A1C0D%02d" % count[0])
            elif u == "RSET": sender, rcpts, fail_data = "<>", [], None; self.out("250 2.0.0 Ok")
            elif u == "NOOP": self.out("250 2.0.0 Ok")
            elif u == "QUIT": self.out("221 2.0.0 Bye"); return
            else: self.out("502 5.5.2 Error: command not recognized")

class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("127.0.0.1", PORT), H).serve_forever()
EOF

start_sink() {
	rm -rf "${W:?}/sink"; mkdir -p "$W/sink"
	python3 "$W/sink.py" "$SINKPORT" "$W/sink" &
	SINKPID=$!; PIDS="$PIDS $SINKPID"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $SINKPORT), 1)" 2>/dev/null && return 0
		sleep 0.3
	done
	echo "sink did not start" >&2; exit 1
}

# wait_file DIR [SECONDS]: print the one file that appears in DIR
wait_file() {
	i=0
	while [ "$i" -lt "${2:-10}" ]; do
		f=$(find "$1" -type f ! -name '*.tmp' 2>/dev/null | sort | head -n1)
		[ -n "$f" ] && { sleep 0.5; echo "$f"; return 0; }
		sleep 1; i=$((i + 1))
	done
	echo "nothing arrived in $1" >&2; return 1
}

# save SRC NAME: store a captured message as a fixture (no mbox From_ line)
save() {
	sed '1{/^From /d}' "$1" > "$OUT/$2.eml"
	echo "  $2.eml ($(wc -c < "$OUT/$2.eml") bytes)"
}

# --- the originals --------------------------------------------------------------
# orig STYLE MSGID FROM TO SUBJECT: an original message on stdout.  Our
# outbound Message-IDs look like <20261128101500.4F1A2B3C@mail.example.org>.
orig() {
	style=$1 id=$2 from=$3 to=$4 subj=$5
	d=$(echo "$id" | sed 's/^<\(........\)\(..\)\(..\)\(..\).*/\1 \2:\3:\4/')
	date=$(LC_ALL=C date -u -d "$d" '+%a, %d %b %Y %H:%M:%S +0000')
	cat <<EOF
Received: from [192.0.2.10] (dyn-10.office.example.org [192.0.2.10])
	by mail.example.org with ESMTPSA id 0A1B2C3D
	for <$to>; $date
Message-ID: $id
Date: $date
From: Alice Example <$from>
To: <$to>
Subject: $subj
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Thunderbird/115.16.0
Content-Language: en-US
MIME-Version: 1.0
EOF
	case $style in
	plain) cat <<'EOF'
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

Hi,

as promised on the phone, here are the figures for the third quarter:
revenue is up 4 %, the warehouse move is on schedule for January, and
the new supplier contract is ready to be signed.

Could you confirm the meeting on Tuesday at 10:00?

Best regards,
Alice
-- 
Alice Example, Example Org, +1 555 0100
EOF
	;;
	attach) cat <<'EOF'
Content-Type: multipart/mixed;
 boundary="------------Z3k9sQw1bN0xLp7vYt2mRd4c"

This is a multi-part message in MIME format.
--------------Z3k9sQw1bN0xLp7vYt2mRd4c
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

Hello Bob,

attached is the signed offer (PDF). Please check section 4 before
Friday.

Thanks,
Alice

--------------Z3k9sQw1bN0xLp7vYt2mRd4c
Content-Type: application/pdf; name="offer-2026-117.pdf"
Content-Disposition: attachment; filename="offer-2026-117.pdf"
Content-Transfer-Encoding: base64

EOF
		# a deterministic 6 KiB "PDF"
		{ printf '%%PDF-1.4\n%%\342\343\317\323\n'; i=0
		  while [ $i -lt 150 ]; do printf '%d 0 obj << /Type /Page /Parent 2 0 R /Contents %d 0 R >> endobj\n' $i $((i + 1)); i=$((i + 1)); done
		  printf '%%%%EOF\n'; } | head -c 6144 | base64 -w 76
		cat <<'EOF'

--------------Z3k9sQw1bN0xLp7vYt2mRd4c--
EOF
	;;
	8bit) cat <<'EOF'
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Hallo Jürgen,

vielen Dank für die schnelle Rückmeldung. Hier noch einmal die komplette Liste der Änderungen, die wir in der Besprechung am Dienstag beschlossen haben, damit niemand etwas übersieht: Grundriss Erdgeschoss (Küche größer, Tür zum Garten versetzt), Obergeschoss unverändert, Dachgeschoss mit zwei Gauben statt einer, Außenanlagen erst im Frühjahr – die Kosten dafür schätzen wir auf ungefähr 12.500 €, genaue Zahlen folgen nächste Woche.

Grüße aus Köln,
Alice — Café „Zur Börse“
EOF
	;;
	html) cat <<'EOF'
Content-Type: multipart/alternative;
 boundary="------------Aq8wE3rT6yU1iO4pS7dF0gHj"

This is a multi-part message in MIME format.
--------------Aq8wE3rT6yU1iO4pS7dF0gHj
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: quoted-printable

Dear Ms Garc=C3=ADa,

thank you for your order #2026-4471. It will be shipped on Monday; the
tracking number follows in a separate message.

Kind regards,
Alice Example =E2=80=93 Customer Service

--------------Aq8wE3rT6yU1iO4pS7dF0gHj
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<!DOCTYPE html>
<html><head><meta http-equiv=3D"content-type" content=3D"text/html; charset=
=3DUTF-8"></head><body><p>Dear Ms Garc=C3=ADa,</p><p>thank you for your ord=
er <b>#2026-4471</b>. It will be shipped on Monday; the tracking number fol=
lows in a separate message.</p><p>Kind regards,<br>Alice Example =E2=80=93 =
Customer Service</p></body></html>

--------------Aq8wE3rT6yU1iO4pS7dF0gHj--
EOF
	;;
	esac
}

# --- Exim 4.96 (exim4-daemon-light) ----------------------------------------------
# One process per message: `exim -odi` receives, routes and delivers, and
# the bounce it writes is delivered at once into alice's maildir.
exim_setup() {
	fetch exim4-base exim4-daemon-light
	EX=$W/root-exim4-daemon-light/usr/sbin/exim4
	E=$W/exim
	rm -rf "${E:?}"; mkdir -p "$E/spool" "$E/log" "$E/mail"
	cat > "$E/conf" <<EOF
exim_path = $EX
primary_hostname = mail.example.org
keep_environment =
qualify_domain = mail.example.org
domainlist local_domains = mail.example.org
spool_directory = $E/spool
log_file_path = $E/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
trusted_users = root
never_users = root
host_lookup =
rfc1413_hosts =
delay_warning = DELAYW
.ifdef HEADERS_ONLY
bounce_return_body = false
.endif
.ifdef RETSIZE
bounce_return_size_limit = RETSIZE
.endif
.ifdef MSGSIZE
message_size_limit = \${if def:sender_address{MSGSIZE}{1M}}
.endif

begin routers
closed_list:
  driver = redirect
  domains = +local_domains
  local_parts = ^list-closed
  allow_fail
  data = :fail: This mailing list has been closed; write to lists-owner@mail.example.org instead
away:
  driver = redirect
  domains = +local_domains
  local_parts = ^away
  allow_filter
  file = $E/carol.filter
  user = Debian-exim
  group = Debian-exim
  reply_transport = auto_reply
local_user:
  driver = accept
  domains = +local_domains
  local_parts = alice : away-carol
  transport = local_maildir
remote:
  driver = manualroute
  domains = ! +local_domains
  route_list = * 127.0.0.1 byname
  self = send
  transport = remote_smtp
  no_more

begin transports
local_maildir:
  driver = appendfile
  directory = $E/mail/\${local_part_data}/Maildir
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim
  delivery_date_add
  envelope_to_add
  return_path_add
remote_smtp:
  driver = smtp
  port = $SINKPORT
  hosts_avoid_tls = *
.ifdef TRANSPORT_SIZE
  message_size_limit = TRANSPORT_SIZE
.endif
auto_reply:
  driver = autoreply

begin retry
*  *  F,10s,1s
EOF
	cat > "$E/carol.filter" <<EOF
# Exim filter
if personal alias away-carol@mail.example.org then
  vacation
    file $E/vacation.txt
    once $E/vacation.db
    once_repeat 7d
    from "Carol Away <away-carol@mail.example.org>"
    subject "Out of office: \$h_subject:"
endif
EOF
	printf '%s\n' "I am out of the office until 7 December with limited access" \
	    "to e-mail. For urgent matters please contact Dave Example" \
	    "<dave@mail.example.org>." "" "Carol" > "$E/vacation.txt"
	chown -R Debian-exim:Debian-exim "$E/spool" "$E/log" "$E/mail"
	chmod 644 "$E/carol.filter" "$E/vacation.txt"
	chown Debian-exim "$E"
}

exim() { "$EX" -C "$E/conf" -DDELAYW="${DELAYW:-24h}" ${XOPT:-} "$@"; }

exim_wait_queue() {
	i=0
	while [ "$(exim -bpc)" != 0 ] && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
}

# exim_case NAME STYLE MSGID SUBJECT RCPT...: send as alice, store the
# one message that lands in alice's maildir
exim_case() {
	name=$1 style=$2 id=$3 subj=$4; shift 4
	want "exim-$name" || return 0
	rm -rf "${E:?}/mail/alice"
	orig "$style" "$id" alice@mail.example.org "$1" "$subj" > "$W/orig-exim-$name.eml"
	exim -odi -oi -f alice@mail.example.org "$@" < "$W/orig-exim-$name.eml" || :
	f=$(wait_file "$E/mail/alice/Maildir/new") || return 0
	exim_wait_queue
	save "$f" "exim-$name"
}

if want exim; then
	echo "== Exim"
	exim_setup
	start_sink
	exim_case unknown-user plain '<20261128101500.E4A10001@mail.example.org>' \
	    'Q3 figures' nosuchuser@mail.example.org
	exim_case router-fail html '<20261128101600.E4A10002@mail.example.org>' \
	    'Your order #2026-4471' list-closed@mail.example.org
	exim_case rcpt-550 attach '<20261128101700.E4A10003@mail.example.org>' \
	    'Signed offer 2026-117' rcpt550-bob@remote.example.net
	exim_case data-552 8bit '<20261128101800.E4A10004@mail.example.org>' \
	    '=?UTF-8?Q?=C3=84nderungen_Grundriss?=' data552-juergen@remote.example.net
	exim_case two-rcpts plain '<20261128101900.E4A10005@mail.example.org>' \
	    'Meeting on Tuesday' nosuchuser@mail.example.org rcpt550-dave@remote.example.net
	XOPT=-DHEADERS_ONLY exim_case headers-only attach '<20261128102000.E4A10006@mail.example.org>' \
	    'Offer, second copy' rcpt550-erin@remote.example.net
	XOPT=-DRETSIZE=2K exim_case return-size-limit attach '<20261128102100.E4A10007@mail.example.org>' \
	    'Offer, third copy' data554-frank@remote.example.net
	XOPT=-DTRANSPORT_SIZE=4K exim_case transport-size attach '<20261128102200.E4A10008@mail.example.org>' \
	    'Offer with attachment' grace@remote.example.net
	XOPT=-DMSGSIZE=4K exim_case message-size-limit attach '<20261128102300.E4A10009@mail.example.org>' \
	    'Offer, large' heidi@remote.example.net
	exim_case vacation plain '<20261128102400.E4A1000A@mail.example.org>' \
	    'Q3 figures for Carol' away-carol@mail.example.org
	# a 452 at RCPT: the delay warning after 2 s, the bounce when the
	# retry rule (F,10s,1s) times out
	if want exim-delay; then
		rm -rf "${E:?}/mail/alice"
		orig plain '<20261128102500.E4A1000B@mail.example.org>' alice@mail.example.org \
		    rcpt452-ivan@remote.example.net 'Contract draft' > "$W/orig-exim-delay.eml"
		exim -odi -oi -f alice@mail.example.org rcpt452-ivan@remote.example.net < "$W/orig-exim-delay.eml"
		sleep 3
		DELAYW=2s exim -qff
		f=$(wait_file "$E/mail/alice/Maildir/new") && save "$f" exim-delay-warning
		rm -rf "${E:?}/mail/alice"; sleep 9
		DELAYW=2s exim -qff
		f=$(wait_file "$E/mail/alice/Maildir/new") && save "$f" exim-retry-timeout
	fi
	kill "$SINKPID"
fi

# --- Postfix 3.7 ---------------------------------------------------------------
# A private instance: its own config, queue and data directories, master.cf
# without any inet service (mail enters through sendmail/postdrop), no
# chroot.  Mail for other domains and for alice goes to the sink.
pf_setup() {
	fetch postfix
	PR=$W/root-postfix
	P=$W/postfix
	rm -rf "${P:?}"; mkdir -p "$P/etc" "$P/queue" "$P/data" "$P/log"
	chown postfix "$P/data"
	cp "$PR/etc/postfix/postfix-files" "$P/etc/"
	: > "$P/etc/dynamicmaps.cf"
	cat > "$P/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $P/etc
meta_directory = $P/etc
queue_directory = $P/queue
data_directory = $P/data
command_directory = $PR/usr/sbin
daemon_directory = $PR/usr/lib/postfix/sbin
shlib_directory = $PR/usr/lib/postfix
sendmail_path = $PR/usr/sbin/sendmail
newaliases_path = /nonexistent
mailq_path = /nonexistent
manpage_directory = $PR/usr/share/man
html_directory = no
readme_directory = no
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH=$PR/usr/lib/postfix
maillog_file = $P/log/maillog
maillog_file_prefixes = $P/log
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.org
mydomain = example.org
myorigin = mail.example.org
mydestination = mail.example.org
inet_interfaces = loopback-only
inet_protocols = ipv4
relayhost = [127.0.0.1]:$SINKPORT
transport_maps = texthash:$P/etc/transport
relocated_maps = texthash:$P/etc/relocated
alias_maps =
alias_database =
biff = no
smtp_tls_security_level = none
smtp_dns_support_level = disabled
disable_dns_lookups = yes
delay_warning_time = 3s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 12s
bounce_queue_lifetime = 12s
bounce_size_limit = PF_BOUNCE_SIZE
EOF
	printf 'alice@mail.example.org smtp:[127.0.0.1]:%s\n' "$SINKPORT" > "$P/etc/transport"
	printf 'alice-old@mail.example.org alice@newcorp.example.com\n' > "$P/etc/relocated"
	cat > "$P/etc/master.cf" <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	pf_config "${PF_BOUNCE_SIZE:-50000}"
}
pf_config() { sed -i "s/^bounce_size_limit = .*/bounce_size_limit = $1/" "$P/etc/main.cf"; }
pf() { LD_LIBRARY_PATH=$PR/usr/lib/postfix MAIL_CONFIG=$P/etc "$@"; }

# pf_case NAME STYLE MSGID SUBJECT RCPT...: what reaches alice (the sink)
pf_case() {
	name=$1 style=$2 id=$3 subj=$4; shift 4
	want "postfix-$name" || return 0
	rm -f "${W:?}/sink/"*
	orig "$style" "$id" alice@mail.example.org "$1" "$subj" > "$W/orig-postfix-$name.eml"
	# shellcheck disable=SC2086
	pf "$PR/usr/sbin/sendmail" -C "$P/etc" -oi ${PFOPT:-} -f alice@mail.example.org "$@" \
	    < "$W/orig-postfix-$name.eml"
	f=$(wait_file "$W/sink" 30) || return 0
	save "$f" "postfix-$name"
}

if want postfix; then
	echo "== Postfix"
	pf_setup
	start_sink
	pf "$PR/usr/sbin/postfix" -c "$P/etc" start
	pf_case unknown-user plain '<20261128111500.5F0A0001@mail.example.org>' \
	    'Q3 figures' nosuchuser@mail.example.org
	pf_case relocated html '<20261128111600.5F0A0002@mail.example.org>' \
	    'Your order #2026-4471' alice-old@mail.example.org
	pf_case rcpt-550 attach '<20261128111700.5F0A0003@mail.example.org>' \
	    'Signed offer 2026-117' rcpt550-bob@remote.example.net
	pf_case data-552 8bit '<20261128111800.5F0A0004@mail.example.org>' \
	    '=?UTF-8?Q?=C3=84nderungen_Grundriss?=' data552-juergen@remote.example.net
	pf_case two-rcpts plain '<20261128111900.5F0A0005@mail.example.org>' \
	    'Meeting on Tuesday' nosuchuser@mail.example.org rcpt550-dave@remote.example.net
	# DSN NOTIFY=SUCCESS to a server without DSN: "relayed" report
	PFOPT='-N success' pf_case dsn-relayed plain '<20261128112200.5F0A0008@mail.example.org>' \
	    'Contract, signed' grace@remote.example.net
	# a 452: the delay warning after 3 s, the bounce after 12 s
	if want postfix-delay; then
		rm -f "${W:?}/sink/"*
		orig plain '<20261128112000.5F0A0006@mail.example.org>' alice@mail.example.org \
		    rcpt452-ivan@remote.example.net 'Contract draft' > "$W/orig-postfix-delay.eml"
		pf "$PR/usr/sbin/sendmail" -C "$P/etc" -oi -f alice@mail.example.org \
		    rcpt452-ivan@remote.example.net < "$W/orig-postfix-delay.eml"
		f=$(wait_file "$W/sink" 30) && save "$f" postfix-delay-warning && rm -f "$f"
		f=$(wait_file "$W/sink" 40) && save "$f" postfix-expired
	fi
	# over bounce_size_limit: the headers only, as text/rfc822-headers
	pf_config 2000
	pf "$PR/usr/sbin/postfix" -c "$P/etc" reload
	sleep 1
	pf_case headers-only attach '<20261128112100.5F0A0007@mail.example.org>' \
	    'Offer, second copy' data554-frank@remote.example.net
	pf "$PR/usr/sbin/postfix" -c "$P/etc" stop
	kill "$SINKPID"
fi

# --- Dovecot 2.3 LDA with Pigeonhole Sieve ----------------------------------------
# dovecot-lda runs as nobody (no -d, no userdb): HOME is carol's private
# home under $W; reject, vacation and quota rejections are sent through
# submission_host, the sink.  dovecot-lda runs doveconf by its built-in
# path, so both run in a private mount namespace where the extracted
# doveconf and a merged library directory (core + Pigeonhole, symbolic
# links) are bind-mounted over /usr/bin/doveconf and /usr/lib/dovecot when
# those exist; the system's files are not touched.
dc_setup() {
	fetch dovecot-core dovecot-sieve
	DR=$W/root-dovecot-core SR=$W/root-dovecot-sieve
	D=$W/dovecot
	rm -rf "${D:?}"; mkdir -p "$D/run" "$D/home" "$D/lib"
	# one library directory: the core's and Pigeonhole's, as symbolic links
	cp -rs "$DR/usr/lib/dovecot/." "$D/lib/"
	cp -rs "$SR/usr/lib/dovecot/." "$D/lib/"
	cat > "$D/dovecot.conf" <<EOF
base_dir = $D/run
log_path = $D/log
info_log_path = $D/log
protocols =
ssl = no
hostname = mail.example.org
postmaster_address = postmaster@mail.example.org
submission_host = 127.0.0.1:$SINKPORT
mail_location = maildir:~/Maildir
mail_plugin_dir = $D/lib/modules
import_environment = TZ LD_LIBRARY_PATH
mail_plugins = quota
quota_full_tempfail = no
lda_mailbox_autocreate = yes
protocol lda {
  mail_plugins = quota sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_plugin_dir = $D/lib/modules/sieve
  sieve_vacation_send_from_recipient = no
  quota = maildir:User quota
  quota_rule = *:storage=QUOTA
}
EOF
	chmod 644 "$D/dovecot.conf"
	touch "$D/log"; chown nobody "$D/log" "$D/home"
}

# dc_case NAME SIEVE-SCRIPT QUOTA STYLE MSGID SUBJECT: deliver an original
# from alice to carol with that script; store what comes back to alice
dc_case() {
	name=$1 script=$2 quota=$3 style=$4 id=$5 subj=$6
	want "dovecot-$name" || return 0
	rm -f "${W:?}/sink/"*
	rm -rf "${D:?}/home"; mkdir -p "$D/home"
	printf '%s\n' "$script" > "$D/home/.dovecot.sieve"
	chown -R nobody "$D/home"
	sed -i "s/quota_rule = .*/quota_rule = *:storage=$quota/" "$D/dovecot.conf"
	orig "$style" "$id" alice@mail.example.org carol@mail.example.org "$subj" \
	    > "$W/orig-dovecot-$name.eml"
	unshare -m sh -c '
		set -e
		[ -e /usr/bin/doveconf ] && mount --bind "$1/usr/bin/doveconf" /usr/bin/doveconf
		[ -d /usr/lib/dovecot ] && mount --bind "$2" /usr/lib/dovecot
		exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    env -i HOME="$3" USER=carol PATH=/usr/bin:/bin \
		    LD_LIBRARY_PATH="$2" \
		    "$1/usr/lib/dovecot/dovecot-lda" -c "$4" \
		    -f alice@mail.example.org -a carol@mail.example.org
	' sh "$DR" "$D/lib" "$D/home" "$D/dovecot.conf" < "$W/orig-dovecot-$name.eml" || :
	f=$(wait_file "$W/sink") || { tail -5 "$D/log" >&2; return 0; }
	save "$f" "dovecot-$name"
}

if want dovecot; then
	echo "== Dovecot LDA + Pigeonhole Sieve"
	dc_setup
	start_sink
	dc_case sieve-reject 'require ["reject"];
if header :contains "subject" "offer" {
  reject "Your message was refused by the recipient'"'"'s mail filter: attachments are not accepted here. Please use the upload portal.";
  stop;
}' 10M attach '<20261128121500.D0FE0001@mail.example.org>' 'Signed offer 2026-117'
	dc_case sieve-vacation 'require ["vacation"];
vacation :days 7 :subject "Out of office" :addresses ["carol@mail.example.org"]
"I am out of the office until 7 December. For urgent matters please
contact Dave Example <dave@mail.example.org>.

Carol";' 10M plain '<20261128121600.D0FE0002@mail.example.org>' 'Q3 figures'
	dc_case sieve-vacation-8bit 'require ["vacation", "variables"];
if header :matches "subject" "*" { set "subject" "${1}"; }
vacation :days 1 :subject "Abwesenheitsnotiz: ${subject}" :addresses ["carol@mail.example.org"]
"Ich bin bis zum 7. Dezember nicht im Büro und lese meine E-Mails nur unregelmäßig.

Carol";' 10M 8bit '<20261128121700.D0FE0003@mail.example.org>' '=?UTF-8?Q?=C3=84nderungen_Grundriss?='
	dc_case quota-full 'keep;' 1K attach '<20261128121800.D0FE0004@mail.example.org>' 'Offer with attachment'
	kill "$SINKPID"
fi

# --- vacation(1): Debian's 3.3.3 and Sendmail's 8.17 --------------------------------
# As from carol's ~/.forward: "|/usr/bin/vacation -a carol nobody", run as
# nobody with its database and message under $W.  Both send through
# /usr/sbin/sendmail, which a private mount namespace replaces by a script
# that stores the reply as alice would receive it.
# vac_case PREFIX NAME STYLE MSGID SUBJECT BINARY [OPTION...]
vac_case() {
	pfx=$1 name=$2 style=$3 id=$4 subj=$5 bin=$6; shift 6
	want "$pfx-$name" || return 0
	V=$W/vacation
	rm -rf "${V:?}"; mkdir -p "$V/out"
	cat > "$V/sendmail" <<EOF
#!/bin/sh
# capture: the envelope sender as Return-Path, then the message
from=nobody@mail.example.org
while [ \$# -gt 0 ]; do
	case \$1 in -f) from=\$2; shift ;; -f*) from=\${1#-f} ;; esac
	shift
done
case \$from in *@*) ;; *) from=\$from@mail.example.org ;; esac
{ echo "Return-Path: <\$from>"; cat; } > "$V/out/reply.tmp"
mv "$V/out/reply.tmp" "$V/out/reply.eml"
EOF
	chmod 755 "$V/sendmail"
	cat > "$V/vacation.msg" <<'EOF'
From: Carol Away <carol@mail.example.org>
Subject: I am away from my mail
Content-Type: text/plain; charset=us-ascii

I am away until 7 December and will read your message about
"$SUBJECT" after my return. For urgent matters please contact
Dave Example <dave@mail.example.org>.

Carol
EOF
	chown -R nobody "$V"
	{ echo "From alice@mail.example.org  $(LC_ALL=C date -u '+%a %b %e %H:%M:%S %Y')"
	  orig "$style" "$id" alice@mail.example.org carol@mail.example.org "$subj"; } \
	    > "$W/orig-$pfx-$name.eml"
	unshare -m sh -c '
		set -e
		V=$1; shift
		mount --bind "$V/sendmail" /usr/sbin/sendmail
		exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    env -i HOME="$V" PATH=/usr/bin:/bin "$@"
	' sh "$V" "$bin" "$@" < "$W/orig-$pfx-$name.eml" || :
	f=$(wait_file "$V/out" 5) || return 0
	save "$f" "$pfx-$name"
}
if want vacation; then
	echo "== vacation(1), Debian's"
	fetch vacation
	VB=$W/root-vacation/usr/bin/vacation
	VO="-d -r 0 -f $W/vacation/vacation.db -m $W/vacation/vacation.msg -a carol nobody"
	# shellcheck disable=SC2086
	vac_case vacation plain plain '<20261128131500.7AC00001@mail.example.org>' 'Q3 figures' $VB $VO
	# shellcheck disable=SC2086
	vac_case vacation html html '<20261128131600.7AC00002@mail.example.org>' 'Your order #2026-4471' $VB $VO
fi
if want sendmail-vacation; then
	echo "== vacation(1), Sendmail's"
	fetch sendmail-bin
	VB=$W/root-sendmail-bin/usr/libexec/sendmail/vacation.sendmail
	VO="-U -r 0 -f $W/vacation/vacation.db -m $W/vacation/vacation.msg -a carol nobody"
	# shellcheck disable=SC2086
	vac_case sendmail-vacation plain plain '<20261128131700.7AC00003@mail.example.org>' 'Q3 figures' $VB $VO
fi

# --- Sendmail 8.17 ----------------------------------------------------------------------
# A .cf built by m4 from sendmail-cf, with its own queue, aliases and
# status files; `sendmail -C cf -odi` delivers in the foreground, and its
# bounces go (like all non-local mail) to the smart host, the sink.  The
# host is our relay smtp.example.org (its own UTS namespace gives it that
# host name); mail.example.org (alice) is not local to it.
sm_setup() {
	fetch sendmail-bin sendmail-base sendmail-cf m4
	SMR=$W/root-sendmail-bin
	CF=$W/root-sendmail-cf/usr/share/sendmail/cf
	M=$W/sendmail
	rm -rf "${M:?}"; mkdir -p "$M/queue" "$M/mqueue"
	chmod 700 "$M/queue" "$M/mqueue"
	printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' > "$M/aliases"
	printf 'hosts files\naliases files\n' > "$M/service.switch"
	printf 'smtp.example.org\n' > "$M/local-host-names"
	cp "$SMR/etc/mail/helpfile" "$M/helpfile"
	cat > "$M/sendmail.mc" <<EOF
divert(-1)
divert(0)dnl
include(\`$CF/m4/cf.m4')dnl
VERSIONID(\`backstop fixtures')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`smtp.example.org')dnl
define(\`confCW_FILE', \`$M/local-host-names')dnl
define(\`confSERVICE_SWITCH_FILE', \`$M/service.switch')dnl
define(\`confHOSTS_FILE', \`/dev/null')dnl
define(\`ALIAS_FILE', \`$M/aliases')dnl
define(\`confDONT_BLAME_SENDMAIL', \`MapInUnsafeDirPath,WriteMapToHardLink,WriteMapToSymLink')dnl
define(\`QUEUE_DIR', \`$M/queue')dnl
define(\`MSP_QUEUE_DIR', \`$M/mqueue')dnl
define(\`STATUS_FILE', \`$M/statistics')dnl
define(\`HELP_FILE', \`$M/helpfile')dnl
define(\`confPID_FILE', \`$M/sendmail.pid')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confTO_QUEUEWARN', \`3s')dnl
define(\`confTO_QUEUERETURN', \`12s')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
define(\`confDEF_USER_ID', \`nobody:nogroup')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SINKPORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINKPORT')dnl
define(\`LOCAL_MAILER_PATH', \`/bin/false')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`no_default_msa')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	"$W/root-m4/usr/bin/m4" "$M/sendmail.mc" > "$M/sendmail.cf"
	sm -bi >/dev/null 2>&1	# the alias database
}
sm() {
	unshare -u sh -c 'hostname smtp.example.org; exec "$@"' sh \
	    "$SMR/usr/libexec/sendmail/sendmail" -C "$M/sendmail.cf" "$@"
}

# sm_case NAME STYLE MSGID SUBJECT [SENDMAIL-OPTION...] -- RCPT...
sm_case() {
	name=$1 style=$2 id=$3 subj=$4; shift 4
	opts=
	while [ "$1" != -- ]; do opts="$opts $1"; shift; done; shift
	want "sendmail-$name" || return 0
	rm -f "${W:?}/sink/"*
	orig "$style" "$id" alice@mail.example.org "$1" "$subj" > "$W/orig-sendmail-$name.eml"
	# shellcheck disable=SC2086
	sm -odi -oi $opts -f alice@mail.example.org "$@" < "$W/orig-sendmail-$name.eml" || :
	f=$(wait_file "$W/sink") || return 0
	save "$f" "sendmail-$name"
}

if want sendmail; then
	echo "== Sendmail"
	sm_setup
	start_sink
	sm_case unknown-user plain '<20261128141500.5E0D0001@mail.example.org>' \
	    'Q3 figures' -- nosuchuser@smtp.example.org
	sm_case rcpt-550 attach '<20261128141600.5E0D0002@mail.example.org>' \
	    'Signed offer 2026-117' -- rcpt550-bob@remote.example.net
	sm_case data-552 8bit '<20261128141700.5E0D0003@mail.example.org>' \
	    '=?UTF-8?Q?=C3=84nderungen_Grundriss?=' -- data552-juergen@remote.example.net
	sm_case headers-only attach '<20261128141800.5E0D0004@mail.example.org>' \
	    'Offer, second copy' -R hdrs -- data554-frank@remote.example.net
	sm_case dsn-relayed plain '<20261128142100.5E0D0007@mail.example.org>' \
	    'Contract, signed' -N success -- grace@remote.example.net
	sm_case two-rcpts html '<20261128141900.5E0D0005@mail.example.org>' \
	    'Your order #2026-4471' -- nosuchuser@smtp.example.org rcpt550-dave@remote.example.net
	if want sendmail-delay; then
		rm -f "${W:?}/sink/"*
		orig plain '<20261128142000.5E0D0006@mail.example.org>' alice@mail.example.org \
		    rcpt452-ivan@remote.example.net 'Contract draft' > "$W/orig-sendmail-delay.eml"
		sm -odi -oi -f alice@mail.example.org rcpt452-ivan@remote.example.net \
		    < "$W/orig-sendmail-delay.eml" || :
		sleep 4; sm -q
		f=$(wait_file "$W/sink" 5) && save "$f" sendmail-delay-warning && rm -f "$f"
		sleep 9; sm -q
		f=$(wait_file "$W/sink" 5) && save "$f" sendmail-queue-return
	fi
	kill "$SINKPID"
fi

# --- a few originals, as sent: ham for the test -----------------------------------
for o in attach:exim-rcpt-550 8bit:postfix-data-552 plain:dovecot-sieve-vacation \
    html:exim-router-fail; do
	[ -f "$W/orig-${o#*:}.eml" ] && cp "$W/orig-${o#*:}.eml" "$OUT/orig-${o%%:*}.eml"
done
ls "$OUT"/*.eml | wc -l | sed 's/$/ files in tests\/fixtures\/mta/'
