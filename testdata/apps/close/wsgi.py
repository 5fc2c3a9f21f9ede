"""close() on the body iterable writes MARKER_DIR/<id>: 'exhausted', 'aborted N' or 'closed'."""
import os
import time
from urllib.parse import parse_qs
from wsgiref.validate import validator


class Body:
    def __init__(self, name, chunks, size, fail_at=None, delay=0.0):
        self.name, self.chunks, self.size = name, chunks, size
        self.fail_at, self.delay = fail_at, delay
        self.sent, self.exhausted = 0, False

    def __iter__(self):
        for i in range(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failure while iterating " + self.name)
            if self.delay:
                time.sleep(self.delay)
            self.sent = i + 1
            yield b"x" * self.size
        self.exhausted = True

    def close(self):
        state = "exhausted" if self.exhausted else "aborted %d" % self.sent
        with open(os.path.join(os.environ["MARKER_DIR"], self.name), "w") as f:
            f.write(state)


def _slow_write(environ, start_response, name):
    # write() to a client that left must raise, or this loop runs ~20 s.
    write = start_response("200 OK", [("Content-Type", "application/octet-stream")])
    for i in range(2000):
        try:
            write(b"w" * 65536)
        except Exception as e:
            state = "write raised %s after %d" % (type(e).__name__, i)
            break
        time.sleep(0.01)
    else:
        state = "write never raised"
    with open(os.path.join(os.environ["MARKER_DIR"], name), "w") as f:
        f.write(state)
    return []


def _app(environ, start_response):
    q = parse_qs(environ["QUERY_STRING"])
    name, path = q["id"][0], environ["PATH_INFO"]
    if path == "/slow-write":
        return _slow_write(environ, start_response, name)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if path == "/ok":
        return Body(name, 3, 10)
    if path == "/raise-early":
        return Body(name, 3, 10, fail_at=0)
    if path == "/raise-late":
        return Body(name, 3, 10, fail_at=2)
    return Body(name, 2000, 65536, delay=0.01)  # /slow: ~20 s if nobody stops it


class ClosingList(list):
    """A list with close(): carafe skips the lookup for plain lists, not for this."""

    def __init__(self, name, items):
        super().__init__(items)
        self.name = name

    def close(self):
        with open(os.path.join(os.environ["MARKER_DIR"], self.name), "w") as f:
            f.write("closed")


_validated = validator(_app)


def application(environ, start_response):
    # /list-subclass bypasses the validator, whose wrapper would hide the list.
    if environ["PATH_INFO"] == "/list-subclass":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ClosingList(parse_qs(environ["QUERY_STRING"])["id"][0], [b"listed"])
    return _validated(environ, start_response)
