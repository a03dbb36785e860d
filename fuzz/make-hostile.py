#!/usr/bin/env python3
"""Regenerate the large hostile fixtures in tests/fixtures/hostile/.

Developer tool only: the files are committed (they compress to almost
nothing in git), the tests never run this.  Each file is deterministic.
"""
import base64
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "fixtures", "hostile")

BOUNCE = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
          b"To: ann@example.org\n"
          b"Subject: Undelivered Mail Returned to Sender\n"
          b"Date: Thu, 1 Jan 2026 00:00:00 +0000\n"
          b"Message-ID: <bounce.1@mx.example.net>\n"
          b"MIME-Version: 1.0\n")
ORIG = (b"From: ann@example.org\nTo: bob@example.net\nSubject: hello\n"
        b"Date: Wed, 31 Dec 2025 23:59:00 +0000\n"
        b"Message-ID: <20251231235900.ABCDEF12@mail.example.org>\n\n"
        b"Hello Bob.\n")


def w(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def dsn(orig=ORIG, boundary=b"b1"):
    return (BOUNCE +
            b'Content-Type: multipart/report; report-type=delivery-status;'
            b' boundary="' + boundary + b'"\n\n--' + boundary + b"\n"
            b"Content-Type: text/plain\n\nI'm sorry to have to inform you "
            b"that your message could not be delivered.\n\n--" + boundary +
            b"\nContent-Type: message/delivery-status\n\n"
            b"Reporting-MTA: dns; mx.example.net\n\n"
            b"Final-Recipient: rfc822; bob@example.net\nAction: failed\n"
            b"Status: 5.1.1\n\n--" + boundary +
            b"\nContent-Type: message/rfc822\n\n" + orig + b"\n--" +
            boundary + b"--\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    rnd = random.Random(6)
    w("garbage.eml", bytes(rnd.getrandbits(8) for _ in range(65536)))
    full = dsn()
    w("truncated.eml", full[:len(full) - len(ORIG) // 2 - 20])
    # 5000 levels of multipart, and of message/rfc822
    s = BOUNCE
    for i in range(5000):
        s += b'Content-Type: multipart/mixed; boundary="n%d"\n\n--n%d\n' % (
            i, i)
    s += b"Content-Type: message/rfc822\n\n" + ORIG
    for i in reversed(range(5000)):
        s += b"--n%d--\n" % i
    w("nest-multipart-5000.eml", s)
    s = BOUNCE
    for i in range(5000):
        s += b"Content-Type: message/rfc822\n\nSubject: level %d\n" % i
    w("nest-rfc822-5000.eml", s + b"\n" + ORIG)
    # 100k parts in one multipart
    s = [BOUNCE + b'Content-Type: multipart/mixed; boundary="p"\n\n']
    for i in range(100000):
        s.append(b"--p\nContent-Type: text/plain\n\npart %d\n" % i)
    s.append(b"--p\nContent-Type: message/rfc822\n\n" + ORIG + b"--p--\n")
    w("parts-100k.eml", b"".join(s))
    # NUL bytes everywhere, CR-only line ends, raw 8-bit headers
    w("nul-bytes.eml", dsn().replace(b"Subject: hello", b"Subject: he\0llo")
      .replace(b"Reporting-MTA", b"\0Reporting-MTA")
      .replace(b"<20251231235900", b"<\0\0")
      .replace(b"I'm sorry", b"\0\0\0I'm sorry\0"))
    w("cr-only.eml", dsn().replace(b"\n", b"\r"))
    w("8bit-headers.eml", dsn().replace(
        b"Subject: Undelivered Mail Returned to Sender",
        "Subject: Unzustellbar: Grüße ä\xff\xfe 配信".encode("utf-8",
                                                            "surrogateescape")
        + b" \xe9\xff\x80").replace(
        b"From: Mail Delivery System", b"From: \xc4\xd6\xdc \xff\xfe"))
    w("header-1mb.eml", BOUNCE.replace(
        b"Subject: Undelivered Mail Returned to Sender",
        b"Subject: Undelivered " + b"x" * (1 << 20)) + b"\nbody\n")
    # 6 MB of base64 (over the 4 MB parse limit) before the original
    text = b"".join(b"line %08d of a huge attachment\n" % i
                    for i in range(130000))
    b64 = base64.encodebytes(text)
    w("base64-huge.eml", BOUNCE +
      b'Content-Type: multipart/mixed; boundary="h"\n\n--h\n'
      b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" +
      b64 + b"--h\nContent-Type: message/rfc822\n\n" + ORIG + b"--h--\n")
    # crashes found: see the README's fuzzing section
    w("crash-deep-comment.eml", BOUNCE.replace(
        b"MIME-Version: 1.0\n", b"MIME-Version: 1.0\nContent-Type: text/plain"
        b" " + b"(" * 200000 + b"\n") + b"\nbody\n")
    s = BOUNCE
    for i in range(60000):
        s += b"Content-Type:\n message/rfc822\n\nSubject: %d\n" % i
    w("crash-folded-content-type.eml", s + b"\n" + ORIG)
    s = BOUNCE
    for i in range(60000):
        s += b"Content-Type : message/rfc822\n\nSubject: %d\n" % i
    w("crash-blank-before-colon.eml", s + b"\n" + ORIG)
    # 64 decoded parts fill the outer list; the inner bounce's decoded
    # original starts with a NUL, so strlen() said 0 and it was freed
    # while still pointed to (read by relay_evidence with relays set)
    s = BOUNCE + b'Content-Type: multipart/mixed; boundary="o"\n\n'
    for i in range(64):
        s += (b"--o\nContent-Type: text/plain\n"
              b"Content-Transfer-Encoding: base64\n\naGVsbG8K\n")
    inner = (b"\0\nReceived: from smtp.example.org by x\nFrom: a@b\n"
             b"Message-ID: <x@evil.example>\nSubject: s\n\nbody\n")
    s += (b"--o\nContent-Type: text/plain\n\nYour message could not be "
          b"delivered.\nBelow this line is a copy of the message.\n\n"
          b"From: MAILER-DAEMON@inner.example\nTo: ann@example.org\n"
          b"Subject: failure\nMessage-ID: <inner@inner.example>\n"
          b'Content-Type: multipart/report; report-type=delivery-status; '
          b'boundary="i"\n\n--i\nContent-Type: message/rfc822\n'
          b"Content-Transfer-Encoding: base64\n\n" +
          base64.encodebytes(inner) + b"--i--\n\n--o--\n")
    w("crash-nul-nested-uaf.eml", s)


main()
