#!/usr/bin/env python3
"""Look at a user's mailboxes over IMAP (plaintext login on loopback).

  imap-check.py PORT USER PASS list
      print one line per mailbox: its flags and name
  imap-check.py PORT USER PASS find MAILBOX TAG
      EXAMINE MAILBOX (read-only: new/ stays as it is), find the messages
      whose Message-ID contains TAG and print their X-Backstop: field (or
      "X-Backstop: -"); exit 1 unless there is exactly one
  imap-check.py PORT USER PASS select MAILBOX
      a read-write SELECT, as a mail client does: Dovecot moves the
      mailbox's new/ messages to cur/
"""
import email
import imaplib
import sys


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    port, user, password, cmd = sys.argv[1:5]
    args = sys.argv[5:]
    m = imaplib.IMAP4('127.0.0.1', int(port))
    m.login(user, password)
    rc = 0
    if cmd == 'list':
        typ, boxes = m.list()
        for b in boxes:
            print(b.decode())
    elif cmd == 'find' and len(args) == 2:
        box, tag = args
        typ, data = m.select(box, readonly=True)
        if typ != 'OK':
            sys.exit('EXAMINE %s: %s' % (box, data))
        typ, data = m.search(None, 'HEADER', 'Message-ID', tag)
        nums = data[0].split()
        for n in nums:
            typ, msg = m.fetch(n, '(BODY.PEEK[HEADER])')
            h = email.message_from_bytes(msg[0][1])
            print('X-Backstop: %s' % (h.get('X-Backstop') or '-'))
        if len(nums) != 1:
            print('%d messages with %s in %s' % (len(nums), tag, box))
            rc = 1
    elif cmd == 'select' and len(args) == 1:
        typ, data = m.select(args[0])
        if typ != 'OK':
            sys.exit('SELECT %s: %s' % (args[0], data))
        print('%s: %s messages' % (args[0], data[0].decode()))
        m.close()
    else:
        sys.exit(__doc__)
    m.logout()
    sys.exit(rc)


if __name__ == '__main__':
    main()
