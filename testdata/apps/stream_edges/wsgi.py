"""Streams at their edges. /sse yields an event every 0.2 s for ever;
/closed says how many /sse streams have been closed. /export streams three
6-byte rows with a Content-Length of 18, 0.5 s apart, through an iterable
that is not a generator (as Flask's and Django's are not), then spends
2 s on cleanup; with ?raise=1 the cleanup raises instead."""
import threading
import time

_closed = 0
_lock = threading.Lock()


def _events():
    global _closed
    try:
        n = 0
        while True:
            yield b"data: %d\n\n" % n
            n += 1
            time.sleep(0.2)
    finally:
        with _lock:
            _closed += 1


def _rows(fail):
    for i in range(3):
        yield b"row,%d\n" % i
        if i < 2:
            time.sleep(0.5)
    if fail:
        raise RuntimeError("export cleanup failed")
    time.sleep(2)


class Wrapper:
    """An iterable over another, with a close(), as Werkzeug's
    ClosingIterator is."""

    def __init__(self, inner):
        self._inner = inner

    def __iter__(self):
        return iter(self._inner)

    def close(self):
        self._inner.close()


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sse":
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return _events()
    if path == "/closed":
        body = str(_closed).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    fail = environ.get("QUERY_STRING") == "raise=1"
    start_response("200 OK", [("Content-Type", "text/csv"), ("Content-Length", "18")])
    return Wrapper(_rows(fail))
