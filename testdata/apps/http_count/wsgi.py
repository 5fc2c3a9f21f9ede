"""Records the path of every request it runs; GET /seen lists them. The
smuggling, limit and client-gone tests use it to prove a request never
reached the app. /hold keeps its thread for 1 s first, so that the
requests that come meanwhile wait for it."""
import threading
import time

_lock = threading.Lock()
_seen = []


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/seen":
        with _lock:
            body = ("\n".join(_seen)).encode("latin-1")
    else:
        if path == "/hold":
            time.sleep(1)
        with _lock:
            _seen.append(path)
        environ["wsgi.input"].read()
        body = b"ok " + path.encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
