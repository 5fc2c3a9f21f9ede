"""Writes to a client that has left (it closes at once; the view waits for
that), catches the write's OSError, then fails on its own with
ValueError("the app's own error"), whose traceback must be logged."""
import time


def application(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    time.sleep(0.3)
    try:
        for _ in range(20):
            write(b"x" * (1 << 20))
            time.sleep(0.05)
    except OSError:
        pass
    raise ValueError("the app's own error")
