"""start_response called from inside the generator; headers wait for real body bytes."""
import sys
from wsgiref.validate import validator

TEXT = [("Content-Type", "text/plain")]


def _lazy(environ, start_response):
    start_response("200 OK", TEXT)
    yield b""
    yield b"hello "
    yield b""
    yield b"lazy"


def _held(environ, start_response):
    # Only an empty chunk went by, so the headers are still ours to change.
    start_response("200 OK", TEXT)
    yield b""
    try:
        raise RuntimeError("changed my mind")
    except RuntimeError:
        start_response("503 Service Unavailable", TEXT, sys.exc_info())
    yield b"replaced after empty chunk"


def _app(environ, start_response):
    if environ["PATH_INFO"] == "/held":
        return _held(environ, start_response)
    return _lazy(environ, start_response)


application = validator(_app)
