"""Fixed-size bodies, so the access log's byte count is predictable.
/slow-page takes 300 ms, /big-page sends 100000 bytes, /empty-page none."""
import time
from wsgiref.validate import validator


def _app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/errors":
        environ["wsgi.errors"].write("errors-still-here\n")
        environ["wsgi.errors"].flush()
    if path == "/boom":
        raise RuntimeError("the server answers this one with its own 500")
    if path == "/missing-page":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"n" * 777]
    if path == "/slow-page":
        time.sleep(0.3)
    if path == "/big-page":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"b" * 100000]
    if path == "/empty-page":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return []
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"h" * 1234]


application = validator(_app)
