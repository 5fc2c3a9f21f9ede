"""Fails at import: carafe must exit non-zero with this traceback."""


def _explode():
    return 1 / 0


_explode()


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"unreachable"]
