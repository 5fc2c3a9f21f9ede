"""A handler that waits 50 ms, as one blocked on a database or an API would."""

import time

BODY = b"slept 50 ms"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    time.sleep(0.05)
    start_response("200 OK", HEADERS)
    return [BODY]
