# tests/signals.pl: what faults.t's signal loops share (kill -9 x1000,
# SIGTERM x200): one delivery signalled at a moment, the files of a
# maildir directory, the stored copies checked against the input.
# Loaded with `do`; plain subs, no package.
use strict;
use warnings;
use Time::HiRes qw(sleep);

# The bytes of a file.
sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!";
	binmode $fh;
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

# `BIN deliver -d MD -r RULES < MSGF`, sent signal SIG after DELAY
# seconds (undef: never).  Returns the wait status.
sub deliver_signalled {
	my ($bin, $md, $rules, $msgf, $sig, $delay) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open(STDIN, '<', $msgf) or die;
		open(STDERR, '>', '/dev/null');
		exec($bin, 'deliver', '-d', $md, '-r', $rules) or exit 127;
	}
	if (defined $delay) { sleep($delay); kill $sig, $pid; }
	waitpid($pid, 0);
	return $?;
}

# The names in MD/SUB, dot files left out.
sub files {
	my ($md, $sub) = @_;
	opendir(my $d, "$md/$sub") or return ();
	my @f = grep { !/^\./ } readdir($d);
	closedir($d);
	return @f;
}

# Remove the files of MD/new, each of which must be WANT, or WANT after
# backstop's X-Backstop: line; each that is not is printed as a TAP
# comment and counted.  Returns (files, wrong).
sub take_new {
	my ($md, $want) = @_;
	my $wrong = 0;
	my @f = files($md, 'new');
	for my $f (@f) {
		my $got = slurp("$md/new/$f");
		$got =~ s/\AX-Backstop: [^\n]*\n//;
		if ($got ne $want) {
			$wrong++;
			print "# partial or wrong file in new/: $f (",
			    length($got), " bytes)\n";
		}
		unlink("$md/new/$f");
	}
	return (scalar @f, $wrong);
}

1;
