"""start_response(..., exc_info) before and after the headers went out."""
import sys
from wsgiref.validate import validator

TEXT = [("Content-Type", "text/plain")]


def _replace(environ, start_response):
    # exc_info before any body: the second status replaces the first.
    start_response("200 OK", TEXT)
    try:
        raise ValueError("replace me")
    except ValueError:
        start_response("500 Internal Server Error", TEXT, sys.exc_info())
    return [b"replaced"]


def _after_body(environ, start_response):
    # exc_info after body bytes: start_response must re-raise.
    start_response("200 OK", TEXT)
    yield b"first"
    try:
        raise ValueError("late failure 9431")
    except ValueError:
        try:
            start_response("500 Internal Server Error", TEXT, sys.exc_info())
        except ValueError:
            environ["wsgi.errors"].write("exc_info reraised\n")
            raise
        environ["wsgi.errors"].write("exc_info NOT reraised\n")
    yield b"should-not-appear"


def _after_write(environ, start_response):
    # The same, with the body bytes sent through write().
    write = start_response("200 OK", TEXT)
    write(b"first")
    try:
        raise ValueError("late failure 9433")
    except ValueError:
        try:
            start_response("500 Internal Server Error", TEXT, sys.exc_info())
        except ValueError:
            environ["wsgi.errors"].write("exc_info after write() reraised\n")
            raise
    return [b"should-not-appear"]


def _after_body_length(environ, start_response):
    # The same, with a Content-Length: the body must stop short of it. A
    # sized body is batched up to 64 KiB, so the first chunk is larger than
    # that to make the headers go out before the failure.
    start_response("200 OK", TEXT + [("Content-Length", "100000")])
    yield b"first" + b"x" * 70000
    try:
        raise ValueError("late failure 9432")
    except ValueError:
        start_response("500 Internal Server Error", TEXT, sys.exc_info())
    yield b"should-not-appear"


def _twice(environ, start_response):
    # Deliberately broken: a second start_response without exc_info.
    start_response("200 OK", TEXT)
    start_response("201 Created", TEXT)
    return [b"second call accepted"]


ROUTES = {"/replace": validator(_replace), "/after-body": validator(_after_body),
          "/after-write": validator(_after_write),
          "/after-body-length": validator(_after_body_length),
          "/twice": _twice}


def application(environ, start_response):
    return ROUTES[environ["PATH_INFO"]](environ, start_response)
