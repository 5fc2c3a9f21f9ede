"""Writes to wsgi.errors; the text must reach carafe's error log."""
from wsgiref.validate import validator


def _app(environ, start_response):
    errors = environ["wsgi.errors"]
    errors.write("marker-123\n")
    errors.writelines(["marker-456 ", "joined\n"])
    errors.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"logged"]


application = validator(_app)
