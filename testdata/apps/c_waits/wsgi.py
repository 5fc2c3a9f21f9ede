"""What C code and tools see of a request thread.

/poll starts a child that exits after 0.2 s, then waits 1 s in C's poll()
(ctypes), which does not retry on EINTR as Python's own calls do: it
answers the seconds the wait took. /trace answers how many calls of the
view the tracer that threading.settrace set at import saw (coverage.py
and profilers start so)."""
import ctypes
import subprocess
import sys
import threading
import time

_libc = ctypes.CDLL(None, use_errno=True)
_seen = []


def _tracer(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "traced_view":
        _seen.append(1)
    return None


threading.settrace(_tracer)


def traced_view():
    return len(_seen)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/poll":
        child = subprocess.Popen(["sleep", "0.2"])
        start = time.monotonic()
        _libc.poll(None, 0, 1000)
        took = time.monotonic() - start
        child.wait()
        body = "%.2f" % took
    elif path == "/trace":
        body = str(traced_view())
    else:
        body = "ok"
    data = body.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]
