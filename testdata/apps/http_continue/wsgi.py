"""Expect: 100-continue. /noread answers without touching wsgi.input;
/slowread waits 0.5 s before its first read; anything else echoes the body."""
import time


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/noread":
        body = b"did not read"
    else:
        if path == "/slowread":
            time.sleep(0.5)
        body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
