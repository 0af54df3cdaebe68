#!/usr/bin/env python3
"""moto's server (S3, Glue, Athena, SNS, Secrets Manager on one port), one request at a time.

moto checks an S3 conditional write (`If-None-Match: *`, `If-Match`) and then stores the
object in two steps, so two concurrent writers can both pass the check: S3 itself makes the
check and the write one atomic step. The exactly-once sink and the replay's per-object lock
rely on that, and their concurrency tests race two writers, so this server handles one
request at a time. moto answers in milliseconds; the tests' parallelism barely notices.

Usage: moto-server.py HOST PORT (run with the venv's Python, which has moto installed).
"""

import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            # The whole answer is made under the lock (moto's bodies are in memory).
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
