#!/bin/sh
# Write the generated benchmark messages into DIR (default bench/out/cases):
#   ordinary.eml    an ordinary person-to-person message of about 2.8 KB,
#                   the same size as the typical bounce
#   big-bounce.eml  a Postfix DSN of exactly 20 MiB whose returned original
#                   carries a large base64 attachment (random bytes), the
#                   kind of bounce a big message with a typo'd address gives
# The typical bounce itself is read from the corpus by path, not copied.
set -eu
dir=${1:-bench/out/cases}
mkdir -p "$dir"

cat > "$dir/ordinary.eml" <<'MSG'
Return-Path: <ann.example@mail.example.net>
X-Original-To: bob@example.org
Delivered-To: bob@example.org
Received: from mx2.example.net (mx2.example.net [198.51.100.25])
	by mail.example.org (Postfix) with ESMTPS id 4Xk2pQ0ZzVz9sT
	for <bob@example.org>; Tue, 14 Jan 2025 09:12:44 +0100 (CET)
Received: from [192.168.1.20] (dsl-203-0-113-7.example.net [203.0.113.7])
	(Authenticated sender: ann.example)
	by mx2.example.net (Postfix) with ESMTPSA id 6F1C83E01B
	for <bob@example.org>; Tue, 14 Jan 2025 09:12:43 +0100 (CET)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net;
	s=2024; t=1736842363; h=from:from:reply-to:subject:subject:date:date:
	message-id:message-id:to:to:cc:mime-version:mime-version:content-type:
	content-type; bh=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8=;
	b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSwgaXQgb25seSBoYXMgdGhlIHNpemUg
	b2Ygb25lOyBiZW5jaG1hcmtzIGRvIG5vdCB2ZXJpZnkgaXQuIFRoaXMgaXMgbm90IGEgcm
	VhbCBzaWduYXR1cmUsIGl0IG9ubHkgaGFzIHRoZSBzaXplIG9mIG9uZS4=
Message-ID: <5c1e9a02-7f3b-4d1e-9a55-2e0c41b7d3aa@example.net>
Date: Tue, 14 Jan 2025 09:12:41 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-GB
To: Bob Example <bob@example.org>
From: Ann Example <ann.example@mail.example.net>
Subject: Re: minutes of Thursday's meeting, and the room for February
In-Reply-To: <20250113174502.9C1D2A0042@mail.example.org>
References: <20250113174502.9C1D2A0042@mail.example.org>
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Hi Bob,

thanks for sending the minutes so quickly. Two small corrections before
they go to the whole group:

- the budget line for the spring workshop is 4,200, not 4,800; the
  higher figure was the first quote, before we dropped the second day;
- Clara will not be able to take over the newsletter until March, so
  please leave my name on it for February.

About the room: the large one on the second floor is booked on the 6th,
but the smaller one next to the library is free all afternoon. It seats
fourteen, which should be enough if we do not invite the whole
department this time. I can put a hold on it today if you agree.

On the other point you raised, whether we should move the meeting to
Wednesdays: I do not mind, but Daniel teaches on Wednesday mornings until
eleven, so it would have to start at half past eleven at the earliest.
Maybe ask the others before we change anything.

Best wishes,
Ann

On 13/01/2025 18:45, Bob Example wrote:
> Dear all,
>
> please find the minutes of Thursday's meeting below. Corrections by
> Wednesday, please; after that I will send them to the group.
>
> Bob
MSG

perl -MMIME::Base64 -e '
	use strict; use warnings;
	my ($path, $want) = @ARGV;
	my $head = <<"HDR";
Return-Path: <>
Delivered-To: bob\@example.org
Received: by mx.example.com (Postfix)
	id 3F2A1C0155; Tue, 14 Jan 2025 10:02:11 +0100 (CET)
Date: Tue, 14 Jan 2025 10:02:11 +0100 (CET)
From: MAILER-DAEMON\@mx.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bob\@example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="3F2A1C0155.1736845331/mx.example.com"
Message-Id: <20250114090211.3F2A1C0155\@mx.example.com>

This is a MIME-encapsulated message.

--3F2A1C0155.1736845331/mx.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.

I am sorry to have to inform you that your message could not
be delivered to one or more recipients. It is attached below.

                   The mail system

<carol\@example.com>: host mail.example.com[192.0.2.9] said: 552 5.2.2
    Mailbox full (in reply to end of DATA command)

--3F2A1C0155.1736845331/mx.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
X-Postfix-Queue-ID: 3F2A1C0155
X-Postfix-Sender: rfc822; bob\@example.org
Arrival-Date: Tue, 14 Jan 2025 10:01:58 +0100 (CET)

Final-Recipient: rfc822; carol\@example.com
Original-Recipient: rfc822;carol\@example.com
Action: failed
Status: 5.2.2
Remote-MTA: dns; mail.example.com
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

--3F2A1C0155.1736845331/mx.example.com
Content-Description: Undelivered Message
Content-Type: message/rfc822

Received: from mail.example.org (mail.example.org [203.0.113.10])
	by mx.example.com (Postfix) with ESMTPS id 3F2A1C0155
	for <carol\@example.com>; Tue, 14 Jan 2025 10:01:58 +0100 (CET)
Message-ID: <20250114090150.4E5F60A1B2C3\@mail.example.org>
Date: Tue, 14 Jan 2025 10:01:50 +0100
From: Bob Example <bob\@example.org>
To: Carol <carol\@example.com>
Subject: the photos from Saturday
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=-=photos=-="

--=-=photos=-=
Content-Type: text/plain; charset=us-ascii

Here they are, all of them in one archive.

--=-=photos=-=
Content-Type: application/zip; name="photos.zip"
Content-Disposition: attachment; filename="photos.zip"
Content-Transfer-Encoding: base64

HDR
	my $tail = "\n--=-=photos=-=--\n\n--3F2A1C0155.1736845331/mx.example.com--\n";
	my $room = $want - length($head) - length($tail);
	# base64 lines of 76 characters: 57 input bytes each
	my $lines = int($room / 77);
	my $pad = $room - $lines * 77;
	# deterministic bytes (an LCG), so every run sees the same message
	my ($x, $raw) = (12345, "");
	for (1 .. $lines * 57 / 4 + 1) {
		$x = ($x * 1103515245 + 12345) % 4294967296;
		$raw .= pack("N", $x);
	}
	$raw = substr($raw, 0, $lines * 57);
	my $b64 = encode_base64($raw, "");
	$b64 =~ s/(.{76})/$1\n/g;
	open(my $fh, ">", $path) or die "$path: $!";
	print $fh $head, $b64, "\n" x $pad, $tail;
	close($fh) or die "$path: $!";
' "$dir/big-bounce.eml" 20971520
