#!/usr/bin/env python3
"""Send one message file over SMTP on loopback, exactly as written: its
LF line ends become SMTP's CRLF (smtplib dot-stuffs, but leaves the line
ends of bytes as they are, and bare LFs would reach the MTA).  Prints the queue id the server gave in
its reply to DATA: Postfix says "queued as 4Zq...", Exim "OK id=1xX6...".

  smtp-send.py PORT SENDER RCPT FILE

SENDER '' sends MAIL FROM:<>, as bounces do.  Exit 1 when the server
refuses any step, with its reply on stderr.
"""
import re
import smtplib
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    port, sender, rcpt, path = sys.argv[1:]
    with open(path, 'rb') as f:
        data = f.read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    with smtplib.SMTP('127.0.0.1', int(port), timeout=60) as s:
        s.ehlo('e2e-client.test')
        # mail('') issues MAIL FROM:<>
        for step, (code, resp) in (('MAIL FROM', s.mail(sender)),
                                   ('RCPT TO', s.rcpt(rcpt))):
            if code not in (250, 251):
                sys.exit('%s refused: %d %s' % (step, code, resp.decode()))
        code, resp = s.data(data)
        if code != 250:
            sys.exit('DATA refused: %d %s' % (code, resp.decode()))
    resp = resp.decode()
    m = re.search(r'queued as ([0-9A-Za-z]+)', resp) or \
        re.search(r'id=([0-9A-Za-z-]+)', resp)
    if not m:
        sys.exit('no queue id in the reply: %s' % resp)
    print(m.group(1))


if __name__ == '__main__':
    main()
