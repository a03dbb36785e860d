#!/usr/bin/perl
# Sisimai in one process over many files, for bench/run.sh (speed) and
# bench/sisimai-compare.sh (detection): Sisimai->make() on every file named
# on the command line, one line each on stdout:
#	FILE <TAB> MESSAGE-ID-or-"-"
# (Sisimai strips the angle brackets).  On stderr, the files and the
# messages per second, wall clock, module loading excluded.
use strict;
use warnings;
use Time::HiRes ();
use Sisimai;
use Sisimai::Data;
use Sisimai::Message;
use Sisimai::Mail;

my $t0 = Time::HiRes::time();
my $n = 0;
for my $f (@ARGV) {
	my $list = Sisimai->make($f, 'delivered' => 1);
	my ($id) = grep { defined && length } map { $_->messageid } @{ $list || [] };
	print $f, "\t", (defined $id ? $id : '-'), "\n";
	$n++;
}
my $dt = Time::HiRes::time() - $t0;
printf STDERR "sisimai: %d files in %.3f s, %.0f messages/s\n", $n, $dt, $dt > 0 ? $n / $dt : 0;
