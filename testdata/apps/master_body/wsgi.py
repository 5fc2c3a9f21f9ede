"""Reads the whole request body, then answers "pid=PID len=N" (N the bytes
read), so a test under load sees each POST's body reach the app whole."""
import os


def application(environ, start_response):
    n = 0
    while True:
        chunk = environ["wsgi.input"].read(65536)
        if not chunk:
            break
        n += len(chunk)
    data = ("pid=%d len=%d" % (os.getpid(), n)).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))],
    )
    return [data]
