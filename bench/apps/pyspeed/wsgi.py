"""The interpreter's own speed, inside a server: the same Python, timed.

Each request calls the Flask JSON app (bench/apps/flaskjson) in-process,
with a fixed environ, in batches, and answers with the CPU time of one call
in microseconds: the mean of the fastest batch, read with time.thread_time
so that time the thread spends descheduled does not count. No byte passes
through the server while the calls are timed, so the figure tells how fast
the interpreter the server runs in executes the app, and nothing else.

`python wsgi.py [N]` prints the same figure N times (default 5) for the
interpreter that runs it.
"""

import importlib.util
import io
import os
import sys
import time

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flaskjson", "wsgi.py")
_spec = importlib.util.spec_from_file_location("bench_flaskjson", _path)
_flaskjson = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_flaskjson)
_app = _flaskjson.application

WARMUP, BATCHES, BATCH = 300, 10, 200


def _start_response(status, headers, exc_info=None):
    if not status.startswith("200"):
        raise RuntimeError("the Flask app answered " + status)


def _call():
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    body = _app(environ, _start_response)
    try:
        for _ in body:
            pass
    finally:
        if hasattr(body, "close"):
            body.close()


def micros_per_call():
    for _ in range(WARMUP):
        _call()
    best = float("inf")
    for _ in range(BATCHES):
        t = time.thread_time()
        for _ in range(BATCH):
            _call()
        best = min(best, (time.thread_time() - t) / BATCH)
    return best * 1e6


def application(environ, start_response):
    body = b"%.2f\n" % micros_per_call()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
        print("%.2f" % micros_per_call(), flush=True)
