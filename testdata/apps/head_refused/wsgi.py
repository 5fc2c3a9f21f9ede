"""A head the server refuses (a header value with CR LF): start_response
raises ValueError while the app runs, as PEP 3333 asks, so the app may
answer with another head (exc_info). /retry tries the bad head twice (both
must be refused), /swallow ignores the error and returns an empty body
without a head. /freed-value gives a header name whose __str__ (which the
error message calls) drops the list's only reference to its header: the
value, formatted after it, must still be there."""
import sys

_BAD = [("Content-Type", "text/plain"), ("X-Bad", "a\r\nb")]


class _ClearingName(str):
    def __str__(self):
        _HELD.clear()
        return "X-Cleared"


_HELD = []


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/freed-value":
        # Built at run time: the tuple holds the only references.
        _HELD[:] = [(_ClearingName("X-Name"), "a" + chr(1) * 1000)]
        try:
            start_response("200 OK", _HELD)
            said = "accepted"
        except ValueError as e:
            said = str(e)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [said.encode()]
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
