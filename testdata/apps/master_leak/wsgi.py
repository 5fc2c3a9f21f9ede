"""Leaks 5 MB (touched, so resident) per request, for --reload-on-rss.
The body is "pid=PID"."""
import os

_leak = []


def application(environ, start_response):
    _leak.append(b"x" * (5 << 20))
    data = ("pid=%d" % os.getpid()).encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(data))),
            ("X-Leaked-MB", str(5 * len(_leak))),
        ],
    )
    return [data]
