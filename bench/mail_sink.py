"""A local SMTP server that accepts and discards every mail (aiosmtpd, Debian's
python3-aiosmtpd), for bench/email.sh. It counts the SMTP sessions (EHLO) and the
mails (DATA) and prints both when it gets SIGTERM.

usage: /usr/bin/python3 bench/mail_sink.py PORT
"""
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self):
        self.sessions = 0
        self.mails = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.mails += 1
        return "250 OK"


def main():
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    controller.stop()
    print(f"sink: {counter.sessions} SMTP sessions, {counter.mails} mails", flush=True)


if __name__ == "__main__":
    main()
