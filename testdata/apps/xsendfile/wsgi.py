"""Answers with X-Sendfile / X-Accel-Redirect; carafe serves the files."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/download":
        start_response("200 OK", [("X-Sendfile", os.path.join(HERE, "files", "report.txt")),
                                  ("Content-Disposition", "attachment; filename=report.txt")])
        return [b"this body is replaced by the file"]
    if path == "/escape":
        start_response("200 OK", [("X-Sendfile", os.path.join(HERE, "files", "..", "outside.txt"))])
        return [b""]
    if path == "/outside":
        start_response("200 OK", [("X-Sendfile", os.path.join(HERE, "outside.txt"))])
        return [b""]
    if path == "/accel":
        start_response("200 OK", [("X-Accel-Redirect", "/protected/report.txt")])
        return [b""]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"app"]
