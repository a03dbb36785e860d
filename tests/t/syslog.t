#!/bin/sh
# What deliver sends to syslog: one datagram per line to /dev/log,
# "<PRI>backstop[PID]: MESSAGE" with the mail facility, as syslog(3) would
# send it less the time stamp (the daemon adds it).  Needs root: each
# listener runs in a mount namespace of its own (unshare -m) whose /dev is
# a private tmpfs, so that the machine's /dev/log (its syslog daemon, or
# nothing) is never taken, and no other backstop on the machine logs into
# the test's listener or waits on its full queue.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for a mount namespace"
command -v unshare > /dev/null || skip_all "no unshare(1)"
scratch
R=$T/rules.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
LOG=$T/log
before=$(ls -ld /dev/log 2>&1)
mkdir "$T/dev"
cp -a /dev/null /dev/zero /dev/random /dev/urandom "$T/dev/" ||
	skip_all "cannot copy device nodes"
# run "$@" with a private /dev: null, zero, random, urandom, fd, and the
# test's own log socket
ns() {
	unshare -m --propagation private sh -c '
		mount -t tmpfs -o mode=0755 backstop-dev /dev || exit 97
		cp -a "$0"/. /dev/ && ln -s /proc/self/fd /dev/fd || exit 97
		exec "$@"' "$T/dev" "$@"
}
ns true || skip_all "no mount namespace here"

# listen, run the command given, print every datagram received (one line
# each, as received) until 1 s of silence
listen() {
	ns perl -MSocket -MIO::Select -e '
		socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
		bind($s, pack_sockaddr_un("/dev/log")) or die "bind: $!";
		chmod 0666, "/dev/log";
		my $pid = fork() // die "fork: $!";
		if ($pid == 0) { close $s; exec @ARGV or die "exec: $!" }
		waitpid($pid, 0);
		my $sel = IO::Select->new($s);
		while ($sel->can_read(1)) {
			my $m; recv($s, $m, 65536, 0); print "$m\n";
		}
		unlink "/dev/log";' -- "$@"
}

listen sh -c "USER=ann \"$BACKSTOP\" deliver -d \"$T/M\" -r \"$R\" < \"$FIX/dsn-forged.eml\"" > "$LOG"
is "$(wc -l < "$LOG" | tr -d ' ')" 1 "one datagram for one delivery"
grep -Eq '^<22>backstop\[[0-9]+\]: user=ann verdict=backscatter kind=dsn original=<[^>]+> folder=\.Junk$' "$LOG"
ok $? "mail.info, backstop[PID], the user, the verdict, no time stamp"
sed 's/^/# /' "$LOG"

# One line per message in every mode, with the user, the verdict, the
# kind, the original and the folder (issue 25): deliver -u as Postfix's
# pipe(8) runs it, filter as Dovecot's Sieve runs it (USER set) and as
# procmail does (LOGNAME only); filter names no folder, its caller files.
listen sh -c "env -u USER -u LOGNAME \"$BACKSTOP\" deliver -u alice@example.org -d \"$T/M\" -r \"$R\" < \"$FIX/dsn-forged.eml\"" > "$LOG"
grep -Eq '^<22>backstop\[[0-9]+\]: user=alice@example.org verdict=backscatter kind=dsn original=<[^>]+> folder=\.Junk$' "$LOG"
ok $? "deliver -u (pipe): user=USER@DOMAIN"
sed 's/^/# /' "$LOG"
listen sh -c "env -u LOGNAME USER=carol@example.org \"$BACKSTOP\" filter -r \"$R\" < \"$FIX/dsn-forged.eml\" > /dev/null" > "$LOG"
is "$(wc -l < "$LOG" | tr -d ' ')" 1 "filter: one datagram for one message"
grep -Eq '^<22>backstop\[[0-9]+\]: user=carol@example.org verdict=backscatter kind=dsn original=<[^>]+> folder=-$' "$LOG"
ok $? "filter with USER (Dovecot LMTP): the user, the original, folder=-"
sed 's/^/# /' "$LOG"
listen sh -c "env -u USER LOGNAME=dave \"$BACKSTOP\" filter -r \"$R\" < \"$FIX/ham-plain.eml\" > /dev/null" > "$LOG"
grep -Eq '^<22>backstop\[[0-9]+\]: user=dave verdict=not-bounce kind=none original=- folder=-$' "$LOG"
ok $? "filter with LOGNAME only (procmail): the user"
sed 's/^/# /' "$LOG"

listen sh -c "BACKSTOP_TEST_INJECT=crash \"$BACKSTOP\" deliver -d \"$T/M\" -r \"$R\" < \"$FIX/dsn-forged.eml\"" > "$LOG"
grep -Eq '^<19>backstop\[[0-9]+\]: classification failed \(crashed on signal 11\), delivered as not-bounce to the inbox: '"$T"'/M/new/' "$LOG"
ok $? "the guard's rescue logs mail.err from its signal handler"
sed 's/^/# /' "$LOG"

printf 'outbound: [\n' > "$T/bad.yaml"; chmod 600 "$T/bad.yaml"
listen sh -c "\"$BACKSTOP\" deliver -d \"$T/M\" -r \"$T/bad.yaml\" < \"$FIX/ham-plain.eml\" 2>/dev/null" > "$LOG"
grep -Eq '^<19>backstop\[[0-9]+\]: rules not used: '"$T"'/bad.yaml:' "$LOG"
ok $? "a broken rule file: mail.err naming the file"
is "$(ls -ld /dev/log 2>&1)" "$before" "the machine's /dev/log is untouched"

# A syslog that does not read: its socket's queue is full, and sendmsg()
# to it would block.  Once the message is stored nothing may wait on the
# log: deliver returns at once, exit 0, the message stored exactly once
# (a delivery held until the MTA's time limit is a bounce under Postfix,
# and the deadline firing in the rescue was a 75: delivered twice).
stuck() {	# CMD...: run it against a full, never-read /dev/log
	ns perl -MSocket -e '
		socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
		bind($s, pack_sockaddr_un("/dev/log")) or die "bind: $!";
		chmod 0666, "/dev/log";
		socket(my $f, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
		my $to = pack_sockaddr_un("/dev/log");
		my $n = 0;
		$n++ while $n < 100000 && defined send($f, "<22>fill: x", MSG_DONTWAIT, $to);
		print STDERR "# queue full after $n datagrams\n";
		my $pid = fork() // die "fork: $!";
		if ($pid == 0) { close $s; close $f; exec @ARGV or die "exec: $!" }
		waitpid($pid, 0);
		print $? >> 8, "\n";
		unlink "/dev/log";' -- "$@"
}
for how in plain crash rules; do
	rm -rf "$T/S"
	r=$R; in=$FIX/ham-plain.eml; inj=
	case $how in
	crash) inj=crash; in=$FIX/dsn-forged.eml ;;
	rules) r=$T/bad.yaml ;;
	esac
	start=$(date +%s)
	# -k: the baseline's rescue blocks SIGTERM while it waits on the log
	rc=$(stuck env BACKSTOP_TEST_INJECT=$inj timeout -k 2 20 "$BACKSTOP" deliver \
	    -d "$T/S" -r "$r" < "$in" 2>/dev/null)
	took=$(( $(date +%s) - start ))
	is "$rc" 0 "syslog not reading ($how): exit 0"
	ok "$([ $took -le 5 ]; echo $?)" "syslog not reading ($how): did not wait on the log (${took}s)"
	is "$(ls "$T/S/new" 2>/dev/null | wc -l | tr -d ' ')" 1 "syslog not reading ($how): stored exactly once"
	is "$(ls -A "$T/S/tmp" 2>/dev/null | wc -l | tr -d ' ')" 0 "syslog not reading ($how): nothing in tmp/"
done
is "$(ls -ld /dev/log 2>&1)" "$before" "the machine's /dev/log is still untouched"

done_testing
