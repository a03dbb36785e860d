#!/bin/sh
# What deliver sends to syslog: one datagram per line to /dev/log,
# "<PRI>backstop[PID]: MESSAGE" with the mail facility, as syslog(3) would
# send it less the time stamp (the daemon adds it).  Needs root and no
# syslog daemon of the machine's own on /dev/log (a test must not take its
# place): a perl listener is bound there for the run, then removed.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root to listen on /dev/log"
[ -e /dev/log ] && skip_all "/dev/log belongs to this machine's syslog"
scratch
R=$T/rules.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
LOG=$T/log
cleanup() { rm -f /dev/log; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# listen, run the command given, print every datagram received (one line
# each, as received) until 1 s of silence
listen() {
	perl -MSocket -MIO::Select -e '
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

listen sh -c "\"$BACKSTOP\" deliver -d \"$T/M\" -r \"$R\" < \"$FIX/dsn-forged.eml\"" > "$LOG"
is "$(wc -l < "$LOG" | tr -d ' ')" 1 "one datagram for one delivery"
grep -Eq '^<22>backstop\[[0-9]+\]: verdict=backscatter kind=dsn original=<[^>]+> folder=\.Junk$' "$LOG"
ok $? "mail.info, backstop[PID], the verdict, no time stamp"
sed 's/^/# /' "$LOG"

listen sh -c "BACKSTOP_TEST_INJECT=crash \"$BACKSTOP\" deliver -d \"$T/M\" -r \"$R\" < \"$FIX/dsn-forged.eml\"" > "$LOG"
grep -Eq '^<19>backstop\[[0-9]+\]: classification failed \(crashed on signal 11\), delivered as not-bounce to the inbox: '"$T"'/M/new/' "$LOG"
ok $? "the guard's rescue logs mail.err from its signal handler"
sed 's/^/# /' "$LOG"

printf 'outbound: [\n' > "$T/bad.yaml"; chmod 600 "$T/bad.yaml"
listen sh -c "\"$BACKSTOP\" deliver -d \"$T/M\" -r \"$T/bad.yaml\" < \"$FIX/ham-plain.eml\"" > "$LOG"
grep -Eq '^<19>backstop\[[0-9]+\]: rules not used: '"$T"'/bad.yaml:' "$LOG"
ok $? "a broken rule file: mail.err naming the file"
[ ! -e /dev/log ]; ok $? "the listener is gone"

done_testing
