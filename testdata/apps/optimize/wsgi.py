"""Answers Python's -O level (sys.flags.optimize), whether an assert
statement runs, and the PYTHONOPTIMIZE the programs it starts would get:
"optimize=2 assert=off child=None"."""
import os
import sys


def application(environ, start_response):
    asserts = "off"
    try:
        assert False
    except AssertionError:
        asserts = "on"
    body = ("optimize=%d assert=%s child=%s" % (sys.flags.optimize, asserts,
                                                os.environ.get("PYTHONOPTIMIZE"))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
