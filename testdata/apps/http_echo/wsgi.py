"""Answers "<METHOD> <PATH_INFO>" with a Content-Length: keep-alive,
pipelining, HTTP/1.0 and HEAD tests tell responses apart by it."""
from wsgiref.validate import validator


def app(environ, start_response):
    body = ("%s %s" % (environ["REQUEST_METHOD"], environ["PATH_INFO"])).encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = validator(app)
