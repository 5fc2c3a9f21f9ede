"""Sleeps 0.5 s per request (the GIL is free while it sleeps), so N
threads should serve N requests in about 0.5 s."""
import time
from wsgiref.validate import validator


def app(environ, start_response):
    time.sleep(0.5)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"slept"]


application = validator(app)
