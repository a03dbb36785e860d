#!/bin/sh
# Faults on the way to disk and in classification: whatever fails, deliver
# exits 0 with the message complete in its maildir, or 75 with one stderr
# line and nothing left in new/ or tmp/.  Read-only and full filesystems
# are real mounts (CI runs as root); as another user, chmod stands in.
. "$(dirname "$0")/../lib.sh"
scratch
MOUNTS=
cleanup() {
	for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done
	chmod -R u+w "$T" 2>/dev/null; rm -rf "$T" ${U:+"$U"}
}
trap cleanup EXIT
R=$T/rules.yaml
cp "$FIX/rules.yaml" "$R"; chmod 600 "$R"
FORGED=$FIX/dsn-forged.eml	# backscatter: goes to .Junk
HAM=$FIX/ham-plain.eml
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1

# a tmpfs of SIZE at DIR, or fail (not root, no mount in a container)
tmpfs() {
	mkdir -p "$2"
	mount -t tmpfs -o "size=$1,mode=0700" backstop-test "$2" 2>/dev/null ||
		return 1
	MOUNTS="$2 $MOUNTS"
}
mkmaildir() { mkdir -p "$1/tmp" "$1/new" "$1/cur"; }
# nothing in DIR/new nor DIR/tmp
empty_md() {
	[ -z "$(ls -A "$1/new" 2>/dev/null)" ] &&
	    [ -z "$(ls -A "$1/tmp" 2>/dev/null)" ]
}
# exit 75 and exactly one stderr line starting with "backstop: ", no
# status code at its start (Postfix would take "4.x.x" as its own)
tempfail() {	# RC ERRFILE WHAT
	is "$1" 75 "$3: exit 75"
	is "$(wc -l < "$2" | tr -d ' ')" 1 "$3: one line on stderr"
	grep -q '^backstop: [^0-9]' "$2"; ok $? "$3: stderr says why"
}

# --- a read-only maildir -------------------------------------------------
M=$T/ro/Maildir
if [ $ROOT = 1 ] && tmpfs 1m "$T/ro"; then
	mkmaildir "$M"
	mount -o remount,ro "$T/ro"; how="read-only mount"
else
	mkmaildir "$M"; chmod a-w "$M/tmp" "$M/new" "$M"; how="chmod a-w"
fi
diag "read-only maildir by $how"
"$BACKSTOP" deliver -d "$M" -r "$R" < "$HAM" 2> "$T/err"
tempfail $? "$T/err" "read-only maildir"
empty_md "$M"; ok $? "read-only maildir: nothing in new/ or tmp/"
"$BACKSTOP" deliver -d "$M/sub" -r "$R" < "$HAM" 2> "$T/err"
tempfail $? "$T/err" "maildir to create on a read-only filesystem"
[ ! -e "$M/sub" ]; ok $? "read-only: nothing created"

# --- a full filesystem ----------------------------------------------------
if [ $ROOT = 1 ] && tmpfs 64k "$T/full"; then
	M=$T/full/Maildir
	"$BACKSTOP" deliver -d "$M" -r "$R" < "$HAM"
	ok $? "64k tmpfs: a small message fits"
	rm -f "$M"/new/*
	# bigger than the filesystem: ENOSPC in the middle of write()
	perl -e 'print "x" x 76, "\n" for 1 .. 2000' | cat "$HAM" - > "$T/big"
	"$BACKSTOP" deliver -d "$M" -r "$R" < "$T/big" 2> "$T/err"
	tempfail $? "$T/err" "message larger than the filesystem"
	grep -q 'No space left' "$T/err"; ok $? "full: stderr names ENOSPC"
	empty_md "$M"; ok $? "full: nothing left in new/ or tmp/"
	# completely full: even a small message, and a Junk folder to create
	dd if=/dev/zero of="$T/full/filler" bs=1k count=1000 2>/dev/null
	"$BACKSTOP" deliver -d "$M" -r "$R" < "$HAM" 2> "$T/err"
	tempfail $? "$T/err" "full filesystem"
	empty_md "$M"; ok $? "full filesystem: nothing left in new/ or tmp/"
	"$BACKSTOP" deliver -d "$M" -r "$R" < "$FORGED" 2> "$T/err"
	tempfail $? "$T/err" "full filesystem, backscatter"
	empty_md "$M" && empty_md "$M/.Junk"
	ok $? "full filesystem: nothing in the inbox or .Junk"
	rm -f "$T/full/filler"
	"$BACKSTOP" deliver -d "$M" -r "$R" < "$HAM"
	ok $? "space again: delivered"
else
	ok 0 "# SKIP no tmpfs mount (not root?)"
fi

# --- no home directory ----------------------------------------------------
env HOME="$T/nohome" "$BACKSTOP" deliver < "$HAM" 2> "$T/err"
tempfail $? "$T/err" "HOME that does not exist"
[ ! -e "$T/nohome" ]; ok $? "HOME that does not exist: nothing created"
if [ $ROOT = 1 ] && command -v setpriv > /dev/null &&
    ! getent passwd 54321 > /dev/null; then
	# a uid without a passwd entry: no fallback for a missing HOME.  It
	# runs a copy of the binary that it can reach: the checkout may lie
	# under a directory only root can enter (exec would fail, 126)
	U=$(mktemp -d /tmp/backstop-other.XXXXXX)
	chmod 755 "$U"; cp "$BACKSTOP" "$U/backstop"; chmod 755 "$U/backstop"
	for h in unset "" relative/dir; do
		if [ "$h" = unset ]; then set -- env -u HOME
		else set -- env HOME="$h"; fi
		(cd "$T" && "$@" setpriv --reuid=54321 --regid=54321 \
		    --clear-groups "$U/backstop" deliver < "$HAM" 2> "$T/err")
		tempfail $? "$T/err" "HOME $h and no passwd entry"
		grep -q 'home' "$T/err"; ok $? "HOME $h: says no home"
	done
	[ ! -e "$T/relative" ]; ok $? "relative HOME: nothing created"
else
	ok 0 "# SKIP setpriv to a uid without a passwd entry needs root"
fi

# --- Junk unwritable, inbox fine: never fall back to the inbox --------------
M=$T/junk/Maildir
mkmaildir "$M"
if [ $ROOT = 1 ] && tmpfs 1m "$M/.Junk"; then
	mkmaildir "$M/.Junk"; : > "$M/.Junk/maildirfolder"
	mount -o remount,ro "$M/.Junk"; how="read-only mount"
else
	mkmaildir "$M/.Junk"; chmod a-w "$M/.Junk/tmp" "$M/.Junk/new"
	how="chmod a-w"
fi
diag "unwritable Junk by $how"
"$BACKSTOP" deliver -d "$M" -r "$R" < "$FORGED" 2> "$T/err"
tempfail $? "$T/err" "unwritable Junk"
empty_md "$M"; ok $? "unwritable Junk: backscatter not put in the inbox"
empty_md "$M/.Junk"; ok $? "unwritable Junk: nothing in .Junk"
"$BACKSTOP" deliver -d "$M" -r "$R" < "$HAM"
ok $? "unwritable Junk: ordinary mail still delivered"
cmp -s "$(only_new "$M")" "$HAM"; ok $? "unwritable Junk: ham in the inbox"
# a Junk folder whose new/ is a file: also exit 75, never the inbox
M=$T/junk2/Maildir
mkmaildir "$M"; mkdir -p "$M/.Junk/tmp" "$M/.Junk/cur"; : > "$M/.Junk/new"
"$BACKSTOP" deliver -d "$M" -r "$R" < "$FORGED" 2> "$T/err"
tempfail $? "$T/err" "Junk/new is a file"
empty_md "$M" && [ -z "$(ls -A "$M/.Junk/tmp")" ]
ok $? "Junk/new is a file: nothing in the inbox, nothing in Junk/tmp"

# --- EEXIST on the unique name ---------------------------------------------
# An LD_PRELOAD shim creates the tmp/ name just before deliver's
# open(O_EXCL), the first SHIM_EEXIST times: a real collision.
M=$T/eexist/Maildir
mkmaildir "$M"
cat > "$T/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int left = -1;
static int squat(const char *path, int flags)
{
	int (*real)(const char *, int, ...) =
	    (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	const char *e = getenv("SHIM_EEXIST");
	int fd;
	if (e == NULL || !(flags & O_EXCL) || strstr(path, "/tmp/") == NULL)
		return 0;
	if (left < 0)
		left = atoi(e);
	if (left == 0)
		return 0;
	left--;
	if ((fd = real(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0) {
		(void)!write(fd, "squatter\n", 9);
		close(fd);
	}
	return 0;
}
int open(const char *path, int flags, ...)
{
	int (*real)(const char *, int, ...) =
	    (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	va_list ap;
	int mode = 0;
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	squat(path, flags);
	return real(path, flags, mode);
}
int openat(int dfd, const char *path, int flags, ...)
{
	int (*real)(int, const char *, int, ...) =
	    (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	va_list ap;
	int mode = 0;
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (dfd == AT_FDCWD)
		squat(path, flags);
	return real(dfd, path, flags, mode);
}
int open64(const char *path, int flags, ...)
{
	va_list ap;
	int mode = 0;
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	return open(path, flags, mode);
}
EOF
if ldd "$BACKSTOP" 2>&1 | grep -q -e "statically linked" -e "not a dynamic"; then
	# the release binary is static (-static-pie): nothing to preload into;
	# make check runs this file again with the (dynamic) ASan build
	ok 0 "# SKIP static binary: the LD_PRELOAD shim runs with the ASan build"
elif cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl 2> "$T/cc.err"; then
	# gcc's ASan runtime wants to come first; the shim only wraps open()
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	SHIM_EEXIST=3 LD_PRELOAD=$T/shim.so \
	    "$BACKSTOP" deliver -d "$M" -r "$R" < "$HAM" 2> "$T/err"
	ok $? "3 collisions on the tmp/ name: delivered with a new name"
	cmp -s "$(only_new "$M")" "$HAM"; ok $? "after collisions: byte for byte"
	is "$(ls "$M/tmp" | wc -l | tr -d ' ')" 3 "the 3 colliding files are left alone"
	is "$(cat "$M"/tmp/* | sort -u)" squatter "and not overwritten"
	rm -f "$M"/tmp/* "$M"/new/*
	SHIM_EEXIST=1000 LD_PRELOAD=$T/shim.so \
	    "$BACKSTOP" deliver -d "$M" -r "$R" < "$HAM" 2> "$T/err"
	tempfail $? "$T/err" "every unique name taken"
	grep -q 'File exists' "$T/err"; ok $? "every name taken: says EEXIST"
	n=$(ls "$M/tmp" | wc -l | tr -d ' ')
	ok "$([ "$n" -ge 1 ] && [ "$n" -le 10 ]; echo $?)" \
	    "retries are bounded ($n names tried)"
	is "$(cat "$M"/tmp/* | sort -u)" squatter "no file of ours left in tmp/"
	[ -z "$(ls -A "$M/new")" ]; ok $? "every name taken: nothing in new/"
else
	ok 0 "# SKIP no C compiler for the LD_PRELOAD shim"
fi

# --- kill -9 at random moments ---------------------------------------------
# An 800 KB bounce of ours (inbox, with X-Backstop:), killed 1000 times at
# a random moment within its measured delivery time: new/ never holds a
# partial file, and exit 0 always means the message is there, complete.
M=$T/kill/Maildir
mkdir -p "$T/kill"
(cat "$FIX/dsn-ours.eml"
 perl -e 'print "padding line $_ of the epilogue, text to read\n" for 1..15000'
) > "$T/kill.eml"
perl - "$TOP/tests/signals.pl" "$BACKSTOP" "$M" "$R" "$T/kill.eml" 1000 \
    > "$T/kill.out" <<'EOF'
use strict;
use warnings;
use Time::HiRes qw(time);
my ($lib, $bin, $md, $rules, $msgf, $n) = @ARGV;
do $lib or die "$lib: $@ $!";
my $want = slurp($msgf);
my %c = (exit0 => 0, killed => 0, killed_after => 0, bad => 0,
    tmpleft => 0);
sub run { return deliver_signalled($bin, $md, $rules, $msgf, 'KILL', $_[0]) }
sub check {	# every file in new/: the input, or the input plus X-Backstop:
	my ($got, $wrong) = take_new($md, $want);
	$c{bad} += $wrong;
	return $got;
}
# the time one delivery takes, to aim the kills inside it
my $t0 = time;
for (1 .. 5) { run(undef); }
my $dur = (time - $t0) / 5;
check();
$t0 = time;
for my $i (1 .. $n) {
	my $st = run(rand($dur));
	my $got = check();
	if (($st & 127) == 0) {
		my $rc = $st >> 8;
		if ($rc != 0) { print "# exit $rc\n"; $c{bad}++; next; }
		$c{exit0}++;
		if ($got != 1) { print "# exit 0 but $got files\n"; $c{bad}++; }
	} else {
		$c{killed}++;
		$c{killed_after}++ if $got;
		$c{bad}++, print "# $got files\n" if $got > 1;
	}
	for (files($md, 'tmp')) {
		$c{tmpleft}++; unlink("$md/tmp/$_");
	}
}
printf("runs=%d delivery=%.1fms exit0=%d killed=%d killed_after_link=%d " .
    "tmp_left_by_kill=%d bad=%d seconds=%.1f\n", $n, $dur * 1000,
    $c{exit0}, $c{killed}, $c{killed_after}, $c{tmpleft}, $c{bad},
    time - $t0);
exit($c{bad} ? 1 : 0);
EOF
rc=$?
diag "$(cat "$T/kill.out")"
is $rc 0 "kill -9 x1000: never a partial file in new/, exit 0 always delivered"
grep -q 'killed=[1-9]' "$T/kill.out"; ok $? "kill -9: some runs were killed"
grep -q 'exit0=[1-9]' "$T/kill.out"; ok $? "kill -9: some runs completed"

# --- SIGTERM, SIGHUP, SIGINT while the message streams in ------------------
# The MTA (or an operator) stops a delivery whose message arrives slowly:
# its half-written tmp/ file must go, and the exit is 75 (the MTA keeps
# the message), never a death by the signal with the file left behind.
M=$T/sig/Maildir
mkmaildir "$M"
rules "$T/small.yaml" <<'EOF'
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]+@mail\.example\.org>$'
limits: {parse_bytes: 4096}
EOF
# 1 MB: well past what deliver reads before it starts the tmp/ file
perl -e 'print "x" x 76, "\n" for 1 .. 13000' | cat "$HAM" - > "$T/sig.eml"
for sig in TERM HUP INT; do
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	{ cat "$T/sig.eml"; sleep 30; } > "$T/fifo" &
	feeder=$!
	# env: a shell starts background jobs with SIGINT ignored, and under
	# nohup (a CI runner's, a cron job's) SIGHUP comes in ignored; deliver
	# keeps an ignored signal ignored, as nohup asks, so reset both
	env --default-signal=INT,HUP "$BACKSTOP" deliver -d "$M" \
	    -r "$T/small.yaml" < "$T/fifo" 2> "$T/err" &
	pid=$!
	# wait for the tmp/ file to hold the whole first part
	i=0; f=
	while [ $i -lt 100 ]; do
		f=$(ls "$M/tmp" 2>/dev/null | head -n 1)
		[ -n "$f" ] && [ "$(stat -c %s "$M/tmp/$f" 2>/dev/null ||
		    echo 0)" -ge 1000000 ] && break
		sleep 0.1; i=$((i + 1))
	done
	kill -$sig $pid
	wait $pid; rc=$?
	pkill -P $feeder 2>/dev/null; kill $feeder 2>/dev/null
	wait $feeder 2>/dev/null
	ok "$([ -n "$f" ]; echo $?)" "SIG$sig mid-stream: the message was streaming into tmp/"
	tempfail $rc "$T/err" "SIG$sig mid-stream"
	empty_md "$M"; ok $? "SIG$sig mid-stream: nothing left in tmp/ or new/"
done
rm -f "$T/fifo"

# SIGTERM at random moments: exit 0 always means the message is stored
# once and complete, 75 means nothing stored; never a death by SIGTERM,
# never a file left in tmp/ (after the link into new/ the signal changes
# nothing: a 75 then would have the MTA deliver it twice)
M=$T/term/Maildir
mkdir -p "$T/term"
perl - "$TOP/tests/signals.pl" "$BACKSTOP" "$M" "$R" "$T/kill.eml" 200 \
    > "$T/term.out" <<'EOF'
use strict;
use warnings;
use Time::HiRes qw(time);
my ($lib, $bin, $md, $rules, $msgf, $n) = @ARGV;
do $lib or die "$lib: $@ $!";
my $want = slurp($msgf);
my %c = (exit0 => 0, exit75 => 0, early => 0, bad => 0);
sub run { return deliver_signalled($bin, $md, $rules, $msgf, 'TERM', $_[0]) }
my $t0 = time;
for (1 .. 5) { run(undef); }
my $dur = (time - $t0) / 5;
unlink("$md/new/$_") for files($md, 'new');
for my $i (1 .. $n) {
	my $st = run(rand($dur * 1.2));
	my @new = files($md, 'new');
	my @tmp = files($md, 'tmp');
	if (@tmp) { $c{bad}++; print "# left in tmp/: @tmp\n"; }
	if ($st & 127) {
		# before deliver's handler is there (exec, start-up): the
		# default action, nothing written yet, the MTA retries
		$c{early}++;
		if (($st & 127) != 15 || @new) {
			$c{bad}++; print "# killed by signal ", $st & 127,
			    ", ", scalar(@new), " files\n";
		}
	} elsif (($st >> 8) == 0) {
		$c{exit0}++;
		if (@new != 1) {
			$c{bad}++; print "# exit 0, ", scalar(@new), " files\n";
		}
	} elsif (($st >> 8) == 75) {
		$c{exit75}++;
		if (@new) { $c{bad}++; print "# exit 75 but stored\n"; }
	} else {
		$c{bad}++; print "# exit ", $st >> 8, "\n";
	}
	$c{bad} += (take_new($md, $want))[1];
	unlink("$md/tmp/$_") for @tmp;
}
printf("runs=%d delivery=%.1fms exit0=%d exit75=%d " .
    "killed_before_start=%d bad=%d seconds=%.1f\n", $n, $dur * 1000,
    $c{exit0}, $c{exit75}, $c{early}, $c{bad}, time - $t0);
exit($c{bad} ? 1 : 0);
EOF
rc=$?
diag "$(head -n 5 "$T/term.out" | tr '\n' ' ')"
is $rc 0 "SIGTERM x200: 0 means stored once, 75 nothing stored, tmp/ empty"
grep -q 'exit75=[1-9]' "$T/term.out"; ok $? "SIGTERM: some runs were stopped"

# --- a crash or a hang in classification ------------------------------------
M=$T/inject/Maildir
mkdir -p "$T/inject"
BACKSTOP_TEST_INJECT=crash BACKSTOP_LOG_STDERR=1 \
    "$BACKSTOP" deliver -d "$M" -r "$R" < "$FORGED" 2> "$T/err"
ok $? "classifier crash: exit 0"
cmp -s "$(only_new "$M")" "$FORGED"; ok $? "classifier crash: inbox, byte for byte"
[ -z "$(ls -A "$M/.Junk/new" 2>/dev/null)" ]; ok $? "classifier crash: not in Junk"
grep -Eq 'log: classification failed.*(signal 11|status)' "$T/err"
ok $? "classifier crash: logged"
rm -f "$M"/new/*
rules "$T/timeout.yaml" <<'EOF'
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]+@mail\.example\.org>$'
limits: {timeout: 1s}
EOF
start=$(date +%s)
BACKSTOP_TEST_INJECT=hang BACKSTOP_LOG_STDERR=1 timeout 60 \
    "$BACKSTOP" deliver -d "$M" -r "$T/timeout.yaml" < "$FORGED" 2> "$T/err"
ok $? "classifier hang: exit 0"
took=$(( $(date +%s) - start ))
ok "$([ $took -le 10 ]; echo $?)" "classifier hang: cut by the 1 s deadline (took ${took}s)"
cmp -s "$(only_new "$M")" "$FORGED"; ok $? "classifier hang: inbox, byte for byte"
grep -q 'log: classification failed.*timed out after 1s' "$T/err"
ok $? "classifier hang: logged"
[ -z "$(ls -A "$M/tmp")" ]; ok $? "classifier hang: the rescue left nothing in tmp/"

# The guard (filter/guard.c): classification runs in the delivering
# process, and every way it can fail stores the message unclassified.
rm -f "$M"/new/*
for how in write stack oom; do
	BACKSTOP_TEST_INJECT=$how BACKSTOP_LOG_STDERR=1 \
	    "$BACKSTOP" deliver -d "$M" -r "$T/timeout.yaml" < "$FORGED" 2> "$T/err"
	ok $? "classifier $how: exit 0"
	cmp -s "$(only_new "$M")" "$FORGED"; ok $? "classifier $how: inbox, byte for byte"
	case $how in
	# ASan's allocator has no address-space limit: the deadline
	oom) want='classification failed \((out of memory|timed out after 1s)\)' ;;
	*) want='classification failed \(crashed on signal (11|7)\)' ;;
	esac
	grep -Eq "log: $want" "$T/err"; ok $? "classifier $how: logged"
	[ $? = 0 ] || sed 's/^/# /' "$T/err" | head -5
	rm -f "$M"/new/*
done
# a big message: the rest of stdin, never read by classification, is
# copied by the rescue
{ cat "$FORGED"; i=0; while [ $i -lt 90000 ]; do
	echo "line $i of a large returned attachment, padding padding padding"
	i=$((i + 1)); done; } > "$T/big.eml"
BACKSTOP_TEST_INJECT=crash "$BACKSTOP" deliver -d "$M" -r "$R" < "$T/big.eml" 2>/dev/null
ok $? "crash, 6 MB message: exit 0"
cmp -s "$(only_new "$M")" "$T/big.eml"; ok $? "crash, 6 MB message: inbox, byte for byte"
rm -f "$M"/new/*
# qmail: RPLINE and DTLINE prepended by the rescue too, and 99
RPLINE='Return-Path: <>
' DTLINE='Delivered-To: user@example.org
' BACKSTOP_TEST_INJECT=crash "$BACKSTOP" deliver --qmail -d "$M" -r "$R" < "$FORGED" 2>/dev/null
is $? 99 "crash under qmail: exit 99"
{ printf 'Return-Path: <>\nDelivered-To: user@example.org\n'; cat "$FORGED"; } > "$T/q.eml"
cmp -s "$(only_new "$M")" "$T/q.eml"; ok $? "crash under qmail: RPLINE and DTLINE, then the message"
rm -f "$M"/new/*
# filter: the message unchanged on stdout
BACKSTOP_TEST_INJECT=crash "$BACKSTOP" filter -r "$R" < "$T/big.eml" > "$T/out" 2>/dev/null
ok $? "crash in filter: exit 0"
cmp -s "$T/out" "$T/big.eml"; ok $? "crash in filter: the message unchanged on stdout"
BACKSTOP_TEST_INJECT=hang "$BACKSTOP" filter -r "$T/timeout.yaml" < "$FORGED" > "$T/out" 2>/dev/null
ok $? "hang in filter: exit 0"
cmp -s "$T/out" "$FORGED"; ok $? "hang in filter: the message unchanged on stdout"
# the rescue cannot store either: 75, nothing left behind
if [ "$(id -u)" != 0 ]; then
	chmod a-w "$M/tmp"
	BACKSTOP_TEST_INJECT=crash "$BACKSTOP" deliver -d "$M" -r "$R" < "$FORGED" 2> "$T/err"
	tempfail $? "$T/err" "crash, unwritable inbox"
	chmod u+w "$M/tmp"
elif tmpfs 1m "$T/gro"; then
	G=$T/gro/Maildir; mkmaildir "$G"
	mount -o remount,ro "$T/gro"
	BACKSTOP_TEST_INJECT=crash "$BACKSTOP" deliver -d "$G" -r "$R" < "$FORGED" 2> "$T/err"
	tempfail $? "$T/err" "crash, read-only inbox"
	empty_md "$G"; ok $? "crash, read-only inbox: nothing in new/ or tmp/"
else
	diag "no tmpfs for a read-only inbox: that case not run"
fi
[ -z "$(ls -A "$M/tmp")" ]; ok $? "injected faults: nothing left in tmp/"

# --- SIGTERM during the guard's out-of-memory rescue ------------------------
# Out of memory in classification (xmalloc) stores the message outside a
# signal handler, so deliver's SIGTERM handler can run in the middle of
# it: it must remove the rescue's tmp/ file (its publisher registers it)
# and, once the message is in new/, change nothing.  (Under ASan the
# allocator has no limit and the deadline rescues instead, inside a
# handler, where SIGTERM waits: the same outcome.)
M=$T/oomterm/Maildir
mkmaildir "$M"
perl -e 'print "x" x 76, "\n" for 1 .. 13000' | cat "$FORGED" - > "$T/oomterm.eml"
rm -f "$T/fifo"; mkfifo "$T/fifo"
{ cat "$T/oomterm.eml"; sleep 30; } > "$T/fifo" &
feeder=$!
BACKSTOP_TEST_INJECT=oom env --default-signal=INT "$BACKSTOP" deliver \
    -d "$M" -r "$T/small.yaml" < "$T/fifo" 2> "$T/err" &
pid=$!
i=0
while [ $i -lt 150 ] && [ -z "$(ls -A "$M/tmp")" ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
kill -TERM $pid
wait $pid; rc=$?
pkill -P $feeder 2>/dev/null; kill $feeder 2>/dev/null; wait $feeder 2>/dev/null
nnew=$(ls -A "$M/new" | wc -l | tr -d ' '); ntmp=$(ls -A "$M/tmp" | wc -l | tr -d ' ')
ok "$({ [ $rc = 75 ] && [ "$nnew$ntmp" = 00 ]; } ||
    { [ $rc = 0 ] && [ "$nnew$ntmp" = 10 ]; }; echo $?)" \
    "SIGTERM in the out-of-memory rescue: exit 75 with nothing left, or 0 stored once (exit $rc, $nnew in new/, $ntmp in tmp/)"
rm -f "$M"/new/* "$M"/tmp/*
# ... and after the link: the rescue, stored, counts the message in a
# maildirsize that is a fifo: never waited on, and SIGTERM then (if it
# comes) changes nothing: exit 0, stored once, never 75 (a duplicate)
mkfifo "$M/maildirsize"
BACKSTOP_TEST_INJECT=oom env --default-signal=INT "$BACKSTOP" deliver \
    -d "$M" -r "$T/timeout.yaml" < "$FORGED" 2> "$T/err" &
pid=$!
sleep 3
kill -TERM $pid 2>/dev/null
wait $pid; rc=$?
nnew=$(ls -A "$M/new" | wc -l | tr -d ' ')
is "$rc:$nnew" "0:1" "rescue stored, maildirsize a fifo, SIGTERM: exit 0, stored once"
rm -f "$M/maildirsize" "$M"/new/* "$T/fifo"

# --- out of memory at every step of a delivery ------------------------------
# An address-space limit a few KiB apart each run, from where deliver
# cannot start to where it just succeeds: wherever memory runs out, the
# message is stored once (exit 0) or not at all, and nothing is left in
# tmp/ (xmalloc exits 75; nothing may be allocated once the tmp/ file
# exists).  A maildirsize makes the quota step run too.  Not for the ASan
# binary, whose shadow memory needs terabytes of address space.
if [ "${BACKSTOP_SANITIZED:-0}" != 1 ] && command -v prlimit > /dev/null; then
	A=$T/as/Maildir
	mkmaildir "$A"
	printf '100000000S\n' > "$A/maildirsize"
	# as KIB: deliver under an address-space limit of KIB KiB
	as() {
		prlimit --as=$(($1 * 1024)) "$BACKSTOP" deliver -d "$A" -r "$R" \
		    < "$FIX/dsn-ours.eml" > /dev/null 2>&1
	}
	# the least limit (to 64 KiB) at which it succeeds
	lo=1024 hi=65536
	while [ $((hi - lo)) -gt 64 ]; do
		mid=$(((lo + hi) / 2))
		rm -f "$A"/new/* "$A"/tmp/*
		if as "$mid"; then hi=$mid; else lo=$mid; fi
	done
	rm -f "$A"/new/* "$A"/tmp/*
	bad=0 stored=0 refused=0
	kib=$((hi - 600))
	while [ "$kib" -le $((hi + 64)) ]; do
		as "$kib"
		rc=$?
		nnew=$(ls -A "$A/new" | wc -l)
		ntmp=$(ls -A "$A/tmp" | wc -l)
		if [ "$ntmp" -ne 0 ] || { [ "$rc" -eq 0 ] && [ "$nnew" -ne 1 ]; } ||
		    { [ "$rc" -ne 0 ] && [ "$nnew" -ne 0 ]; }; then
			diag "limit ${kib} KiB: exit $rc, $nnew in new/, $ntmp in tmp/"
			bad=$((bad + 1))
		fi
		[ "$rc" -eq 0 ] && stored=$((stored + 1))
		[ "$rc" -eq 75 ] && refused=$((refused + 1))
		rm -f "$A"/new/* "$A"/tmp/*
		kib=$((kib + 4))
	done
	diag "address-space limits $((hi - 600))-$((hi + 64)) KiB: $stored stored, $refused refused (75)"
	is "$bad" 0 "out of memory at every step: stored once or not at all, tmp/ empty"
	[ "$stored" -gt 0 ] && [ "$refused" -gt 0 ]
	ok $? "... the limits covered both outcomes"
fi

done_testing
