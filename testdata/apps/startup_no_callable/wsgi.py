"""Imports fine but defines neither `application` nor `app`."""


def something_else(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"not the callable"]
