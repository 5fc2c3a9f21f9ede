"""Fixed-size bodies, so the access log's byte count is predictable."""
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
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"h" * 1234]


application = validator(_app)
