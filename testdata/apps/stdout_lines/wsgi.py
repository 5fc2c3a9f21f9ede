"""Prints pieces of lines to stdout and stderr, across requests.

/start writes the first half of a line to each stream and returns; carafe
logs the request in between; /end writes the second halves and the
newlines. The halves must reach the log as one line each, and carafe's own
lines must not land inside them.
"""
import sys


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/start":
        print("stdout-half-one", end="")
        sys.stderr.write("stderr-half-one")
    elif path == "/end":
        print("-stdout", "half-two")
        sys.stderr.write("-stderr half-two\n")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [path.encode()]
