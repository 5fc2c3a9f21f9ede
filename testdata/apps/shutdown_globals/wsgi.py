"""The module's globals are finalised at a graceful stop, as under python.

LOG is a buffered file that each request writes a line to: its lines reach
the disk only when the file is flushed or finalised. BYE says so on stderr
when it is finalised. Both are reachable only through this module's
globals, which the WSGI callable (a function) keeps alive.
"""
import os
import sys

LOG = open(os.environ["GLOBALS_LOG"], "a")


class _Bye:
    def __del__(self):
        sys.stderr.write("shutdown_globals: module global finalised\n")
        sys.stderr.flush()


BYE = _Bye()


def application(environ, start_response):
    LOG.write("hit\n")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
