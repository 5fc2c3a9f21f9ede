"""CPU-bound requests: /spin?ms=N runs Python (holding the GIL) for N ms of
wall time and answers "IDENT PEAK": the ident of the thread that ran it and
the most requests that were inside the app at once while it ran."""
import threading
import time
from urllib.parse import parse_qs
from wsgiref.validate import validator

_lock = threading.Lock()
_inside = 0


def app(environ, start_response):
    global _inside
    ms = int(parse_qs(environ["QUERY_STRING"]).get("ms", ["1"])[0])
    with _lock:
        _inside += 1
        peak = _inside
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        peak = max(peak, _inside)
    with _lock:
        _inside -= 1
    body = f"{threading.get_ident()} {peak}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = validator(app)
