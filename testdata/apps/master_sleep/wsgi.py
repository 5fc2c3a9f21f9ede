"""For --harakiri: /stuck?s=SECONDS blocks in stuck_view before sending
anything; /stuck-stream sends its headers and a first chunk, then blocks in
stuck_stream; /gil runs a regular expression that backtracks for ages in
gil_view, holding the GIL all along; anything else answers "pid=PID" at
once. IMPORT_SLEEP=SECONDS makes the import itself take that long."""
import os
import re
import time
from urllib.parse import parse_qs


def _seconds(environ):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    return float(qs.get("s", ["30"])[0])


def stuck_view(environ, start_response):
    time.sleep(_seconds(environ))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"woke up"]


def stuck_stream(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial "
    time.sleep(_seconds(environ))
    yield b"woke up"


def gil_view(environ, start_response):
    re.match(r"(a+)+$", "a" * 64 + "b")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"matched"]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/gil":
        return gil_view(environ, start_response)
    if path == "/stuck":
        return stuck_view(environ, start_response)
    if path == "/stuck-stream":
        return stuck_stream(environ, start_response)
    data = ("pid=%d" % os.getpid()).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))],
    )
    return [data]


# (last, so that the lines above keep the numbers the tests' stacks name)
time.sleep(float(os.environ.get("IMPORT_SLEEP", "0")))
