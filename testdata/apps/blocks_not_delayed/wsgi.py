"""Blocks the server must send as the app yields them, though the next is
slow to come (PEP 3333: a server "must not delay the transmission of any
block"). /cl is a generator that declared Content-Length; /pipe is
wsgi.file_wrapper over a pipe. Each gives its first block, then waits for
GET /release (at most 10 s) before it gives the rest. /last is a generator
that gives its whole Content-Length at once, then waits for /release
before it ends; /last_raise raises once it has given it."""
import os
import threading

FIRST, REST = b"first-part\n", b"second-p\n"
_release = threading.Event()


def _cl(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(FIRST + REST)))])

    def blocks():
        yield FIRST
        _release.wait(10)
        yield REST

    return blocks()


def _last(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(FIRST + REST)))])

    def blocks():
        yield FIRST + REST
        if environ["PATH_INFO"] == "/last_raise":
            raise RuntimeError("after the whole body")
        _release.wait(10)

    return blocks()


def _pipe(environ, start_response):
    r, w = os.pipe()
    os.write(w, FIRST)

    def rest():
        _release.wait(10)
        os.write(w, REST)
        os.close(w)

    threading.Thread(target=rest, daemon=True).start()
    start_response("200 OK", [("Content-Type", "text/plain")])
    # Unbuffered: read(8192) gives what the pipe holds, not 8192 bytes.
    return environ["wsgi.file_wrapper"](os.fdopen(r, "rb", buffering=0), 8192)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/release":
        _release.set()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "8")])
        return [b"released"]
    _release.clear()
    return {"/cl": _cl, "/pipe": _pipe, "/last": _last, "/last_raise": _last}[path](environ, start_response)
