"""Answers Python's -O level (sys.flags.optimize) and whether an assert
statement runs: "optimize=2 assert=off"."""
import sys


def application(environ, start_response):
    asserts = "off"
    try:
        assert False
    except AssertionError:
        asserts = "on"
    body = ("optimize=%d assert=%s" % (sys.flags.optimize, asserts)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
