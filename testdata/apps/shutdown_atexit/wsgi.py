"""Prints a marker from an atexit handler: SIGTERM must finalise Python."""
import atexit
import sys


def _bye():
    sys.stderr.write("atexit-handler-ran\n")
    sys.stderr.flush()


atexit.register(_bye)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
