"""start_response returns a write() callable whose bytes precede the iterable."""
from wsgiref.validate import validator


def _app(environ, start_response):
    headers = [("Content-Type", "text/plain")]
    if environ["PATH_INFO"] == "/with-length":
        headers.append(("Content-Length", "3"))
    write = start_response("200 OK", headers)
    write(b"a")
    write(b"b")
    return [b"c"]


application = validator(_app)
