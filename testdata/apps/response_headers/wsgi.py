"""Response header values are latin-1 str: they reach the wire as latin-1 bytes."""
from wsgiref.validate import validator


def _app(environ, start_response):
    headers = [("Content-Type", "text/plain"), ("X-Latin", "caf\xe9"),
               ("X-Repeat", "one"), ("X-Repeat", "two")]
    start_response("200 OK", headers)
    return [b"headers"]


def _not_latin1(environ, start_response):
    # Deliberately broken: U+20AC has no latin-1 byte.
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Euro", "\u20ac")])
    return [b"bad header"]


_validated = validator(_app)


def application(environ, start_response):
    if environ["PATH_INFO"] == "/not-latin1":
        return _not_latin1(environ, start_response)
    return _validated(environ, start_response)
