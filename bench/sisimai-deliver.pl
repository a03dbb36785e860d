#!/usr/bin/perl
# Sisimai as a per-message delivery filter, the way a user would put it in
# ~/.forward: read the message from stdin, let Sisimai find the bounced
# original's Message-ID, file the message into MAILDIR (a bounce whose
# original is not ours into MAILDIR/.Junk), by the Maildir protocol with the
# same fsyncs as backstop and bench/floor.c.  Exit 75 on any failure.
#
#	sisimai-deliver.pl MAILDIR < message
use strict;
use warnings;
use Fcntl qw(O_WRONLY O_CREAT O_EXCL O_RDONLY O_DIRECTORY);
use IO::Handle;
use Time::HiRes ();
use Sisimai::Message;
use Sisimai::Data;

my $root = shift or do { print STDERR "usage: $0 MAILDIR\n"; exit 64 };
my $ours = qr/\A<?[0-9]{14}\.[0-9A-F]{6,20}\@mail\.example\.org>?\z/;

binmode STDIN;
my $msg = do { local $/; <STDIN> };
exit 75 unless defined $msg;

my $folder = $root;
my $mesg = Sisimai::Message->new('data' => $msg);
if ($mesg) {
	my $data = Sisimai::Data->make('data' => $mesg) || [];
	my ($id) = grep { defined && length } map { $_->messageid } @$data;
	$folder = "$root/.Junk" if defined $id && $id !~ $ours;
}

my ($s, $us) = Time::HiRes::gettimeofday();
my $name = "$s.M${us}P$$.sisimai";
sysopen(my $fh, "$folder/tmp/$name", O_WRONLY | O_CREAT | O_EXCL, 0600)
	or exit 75;
binmode $fh;
my $off = 0;
while ($off < length $msg) {
	my $k = syswrite($fh, $msg, length($msg) - $off, $off);
	if (!defined $k) { unlink "$folder/tmp/$name"; exit 75 }
	$off += $k;
}
unless ($fh->sync && close $fh && rename("$folder/tmp/$name", "$folder/new/$name")) {
	unlink "$folder/tmp/$name";
	exit 75;
}
sysopen(my $dh, "$folder/new", O_RDONLY | O_DIRECTORY) or exit 75;
$dh->sync or exit 75;
close $dh;
exit 0;
