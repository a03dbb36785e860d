#!/usr/bin/env python3
"""Messages for the end-to-end suite, written to stdout with LF line ends
(SMTP clients turn them into CRLF; MTAs store LF).

  mkmsg.py ham TAG RCPT                ordinary mail with awkward bytes
  mkmsg.py own TAG SENDER RCPT MSGID   a message the user sends (to be bounced
                                       by a real MTA)
  mkmsg.py dsn TAG RCPT ORIG-MSGID     a Postfix-style RFC 3464 bounce from a
                                       remote MX, returning a message that says
                                       it was from RCPT with Message-ID ORIG-MSGID
  mkmsg.py qmail TAG RCPT ORIG-MSGID   a qmail-send style bounce (inline copy)
  mkmsg.py noid TAG RCPT FAILED        a bounce, dated now, of a message RCPT
                                       sent to FAILED, that quotes no
                                       Message-ID (only some of its header)

TAG appears in each message's own Message-ID and Subject (or body) so the
tests find the stored file by it, never by "the newest file".  A dsn or
qmail bounce is "ours" or "backscatter" only through ORIG-MSGID, matched
against the user's ~/.backstop.yaml: the same shape serves both cases.
"""
import email.utils
import sys

DATE = 'Sat, 28 Nov 2026 09:14:07 +0000'


def ham(tag, rcpt):
    # Folded header, 8-bit UTF-8 body, a body line starting with "From "
    # (no ">From" quoting may happen), lines starting with dots (SMTP dot
    # stuffing must be undone), trailing white space, a tab, a long line.
    long_line = 'x' * 900
    return f"""\
From: Carol Example <carol@sender.example>
To: <{rcpt}>
Subject: e2e ham {tag}
 with a folded subject line
Date: {DATE}
Message-ID: <{tag}@sender.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
X-Tab:\tvalue with a tab

Grüße aus Köln, ordinary mail {tag}.
From the body: this line starts with "From ".
.
..two dots
trailing spaces   
\tindented with a tab
{long_line}

last line
"""


def own(tag, sender, rcpt, msgid):
    return f"""\
From: <{sender}>
To: <{rcpt}>
Subject: e2e own message {tag}
Date: {DATE}
Message-ID: {msgid}

Hello, this message {tag} goes to an address that does not exist.
"""


def original(rcpt, msgid):
    # What the remote MX got: for a real bounce the user's own message, for
    # backscatter spam that forged the user's address.  Only the
    # Message-ID tells them apart.
    return f"""\
Return-Path: <{rcpt}>
Received: from [192.0.2.77] (unknown [192.0.2.77])
\tby mx.remote.example (Postfix) with ESMTP id 4Zq1Jk3m9Tz9sWq
\tfor <nobody@remote.example>; Fri, 27 Nov 2026 22:01:40 +0000 (UTC)
From: <{rcpt}>
To: <nobody@remote.example>
Subject: Lunch on Friday?
Date: Fri, 27 Nov 2026 22:01:39 +0000
Message-ID: {msgid}
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Shall we meet at noon?
"""


def report_head(date, mx, tag, rcpt, b):
    # The header of a Postfix-style report from MAILER-DAEMON at mx, up to
    # its boundary
    return f"""\
Date: {date}
From: MAILER-DAEMON@{mx} (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender {tag}
To: <{rcpt}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{b}"
"""


def dsn(tag, rcpt, orig):
    b = f'4Zq1Jk3m9Tz9sWq.{tag}/mx.remote.example'
    return f"""\
Received: by mx.remote.example (Postfix)
\tid 4Zq1Jk5r2Lz9sWr; Sat, 28 Nov 2026 09:14:07 +0000 (UTC)
{report_head(DATE, 'mx.remote.example', tag, rcpt, b)}\
Content-Transfer-Encoding: 8bit
Message-Id: <{tag}@mx.remote.example>

This is a MIME-encapsulated message.

--{b}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.remote.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<nobody@remote.example>: unknown user: "nobody"

--{b}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.example
X-Postfix-Queue-ID: 4Zq1Jk3m9Tz9sWq
X-Postfix-Sender: rfc822; {rcpt}
Arrival-Date: Fri, 27 Nov 2026 22:01:40 +0000 (UTC)

Final-Recipient: rfc822; nobody@remote.example
Original-Recipient: rfc822;nobody@remote.example
Action: failed
Status: 5.1.1
Diagnostic-Code: X-Postfix; unknown user: "nobody"

--{b}
Content-Description: Undelivered Message
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

{original(rcpt, orig)}
--{b}--
"""


def qmail(tag, rcpt, orig):
    return f"""\
Date: {DATE}
From: MAILER-DAEMON@mail.remote.example
To: {rcpt}
Subject: failure notice
Message-ID: <{tag}@mail.remote.example>

Hi. This is the qmail-send program at mail.remote.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nobody@remote.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

{original(rcpt, orig)}"""


def noid(tag, rcpt, failed):
    # Dated now: the recipient evidence asks whom the user wrote to in
    # the days before the report's own Date.
    b = f'noid.{tag}/mx.partner.example'
    mx = 'mx.partner.example'
    return f"""\
{report_head(email.utils.formatdate(), mx, tag, rcpt, b)}\
Message-Id: <{tag}@{mx}>

--{b}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.partner.example

Final-Recipient: rfc822; {failed}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: unknown user

--{b}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: <{rcpt}>
To: <{failed}>
Subject: See you there

--{b}--
"""


def main(argv):
    kinds = {'ham': (ham, 2), 'own': (own, 4), 'dsn': (dsn, 3),
             'qmail': (qmail, 3), 'noid': (noid, 3)}
    if len(argv) < 2 or argv[1] not in kinds or \
            len(argv) - 2 != kinds[argv[1]][1]:
        sys.exit(__doc__)
    fn, _ = kinds[argv[1]]
    sys.stdout.buffer.write(fn(*argv[2:]).encode('utf-8'))


if __name__ == '__main__':
    main(sys.argv)
