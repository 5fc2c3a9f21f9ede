"""A head the server refuses (a header value with CR LF): write() raises
OSError, and since nothing went out the app may still replace the head with
start_response(..., exc_info). /retry writes twice (both must be refused),
/swallow ignores the error and returns an empty body."""
import sys

_BAD = [("Content-Type", "text/plain"), ("X-Bad", "a\r\nb")]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    write = start_response("200 OK", _BAD)
    refused = 0
    for _ in range(2 if path == "/retry" else 1):
        try:
            write(b"x")
        except OSError:
            refused += 1
            exc_info = sys.exc_info()
    if path == "/swallow":
        return []
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")], exc_info)
    return [b"replaced, refused %d" % refused]
