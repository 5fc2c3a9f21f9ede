"""An app whose body disagrees with the Content-Length it declared. /big
sends the file $BIG_FILE names through wsgi.file_wrapper, whole."""
import os

TEXT = [("Content-Type", "text/plain")]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/short":
        start_response("200 OK", TEXT + [("Content-Length", "100")])
        return [b"s" * 10]
    if path == "/big":
        f = open(os.environ["BIG_FILE"], "rb")
        start_response("200 OK", TEXT + [("Content-Length", str(os.fstat(f.fileno()).st_size))])
        return environ["wsgi.file_wrapper"](f)
    if path == "/long":
        start_response("200 OK", TEXT + [("Content-Length", "10")])
        return [b"y" * 5, b"y" * 80, b"y" * 15]
    if path == "/long-write":
        write = start_response("200 OK", TEXT + [("Content-Length", "10")])
        write(b"w" * 100)
        return [b"w" * 50]
    start_response("200 OK", TEXT + [("Content-Length", "2")])
    return [b"ok"]
