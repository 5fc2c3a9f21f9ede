"""/closefd closes fd 1 and 2, as a daemonising library does; any other
path answers "ok"."""
import os


def application(environ, start_response):
    if environ["PATH_INFO"] == "/closefd":
        os.close(1)
        os.close(2)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
