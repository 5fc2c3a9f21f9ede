"""A head the server refuses (a header value with CR LF): start_response
raises ValueError while the app runs, as PEP 3333 asks, so the app may
answer with another head (exc_info). /retry tries the bad head twice (both
must be refused), /swallow ignores the error and returns an empty body
without a head."""
import sys

_BAD = [("Content-Type", "text/plain"), ("X-Bad", "a\r\nb")]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    refused = 0
    for _ in range(2 if path == "/retry" else 1):
        try:
            start_response("200 OK", _BAD)
        except ValueError:
            refused += 1
            exc_info = sys.exc_info()
    if path == "/swallow":
        return []
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")], exc_info)
    return [b"replaced, refused %d" % refused]
