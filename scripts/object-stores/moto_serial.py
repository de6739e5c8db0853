"""moto (S3) in server mode, answering one request at a time: python moto_serial.py HOST PORT

moto_server always serves with threads, and moto checks If-None-Match and then writes without a
lock, so two racing conditional creates can both succeed there (seen with 6 MiB bodies: two
winners). Real S3 arbitrates them atomically. Served one request at a time, every request is
atomic, as S3's conditional writes are, and the race tests test our client instead of moto's
threading. Everything else is moto_server's own setup.
"""
import signal
import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
