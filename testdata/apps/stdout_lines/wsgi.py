"""Prints pieces of lines to stdout and stderr, across requests.

/start writes the first half of a line to each stream and returns; carafe
logs the request in between; /end writes the second halves and the
newlines. The halves must reach the log as one line each, and carafe's own
lines must not land inside them. /fork leaves a piece pending and forks:
the piece must be written once, not again by the child. /exit leaves a
piece pending and ends the process with os._exit: the piece must not be
lost.
"""
import os
import sys


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/start":
        print("stdout-half-one", end="")
        sys.stderr.write("stderr-half-one")
    elif path == "/end":
        print("-stdout", "half-two")
        sys.stderr.write("-stderr half-two\n")
    elif path == "/fork":
        print("fork-piece", end="")
        pid = os.fork()
        if pid == 0:
            print("fork-child-line")
            os._exit(0)
        os.waitpid(pid, 0)
        print("-parent-end")
    elif path == "/exit":
        print("exit-piece", end="")
        os._exit(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [path.encode()]
