"""An app whose body disagrees with the Content-Length it declared. /big
sends the file $BIG_FILE names through wsgi.file_wrapper, whole. /endless
declares 10 bytes and yields 1000-byte chunks for good; /endless-closed
says whether its generator was closed, and after how many chunks."""
import itertools
import os

_endless = {"closed": False, "chunks": 0}


def _forever():
    try:
        for _ in itertools.count():
            _endless["chunks"] += 1
            yield b"e" * 1000
    finally:
        _endless["closed"] = True

TEXT = [("Content-Type", "text/plain")]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/short":
        start_response("200 OK", TEXT + [("Content-Length", "100")])
        return [b"s" * 10]
    if path == "/big":
        f = open(os.environ["BIG_FILE"], "rb")
        start_response("200 OK", TEXT + [("Content-Length", str(os.fstat(f.fileno()).st_size))])
        return environ["wsgi.file_wrapper"](f)
    if path == "/long":
        start_response("200 OK", TEXT + [("Content-Length", "10")])
        return [b"y" * 5, b"y" * 80, b"y" * 15]
    if path == "/endless":
        start_response("200 OK", TEXT + [("Content-Length", "10")])
        return _forever()
    if path == "/endless-closed":
        body = ("%s %d" % (_endless["closed"], _endless["chunks"])).encode()
        start_response("200 OK", TEXT + [("Content-Length", str(len(body)))])
        return [body]
    if path == "/long-write":
        write = start_response("200 OK", TEXT + [("Content-Length", "10")])
        write(b"w" * 100)
        return [b"w" * 50]
    start_response("200 OK", TEXT + [("Content-Length", "2")])
    return [b"ok"]
