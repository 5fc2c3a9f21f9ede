"""A file_wrapper response's close() runs on the thread that ran the call.

Django's FileResponse does what /file does: it wraps a plain file, which
sendfile sends, and replaces the file's close with its own, which sends
request_finished, whose receiver closes the request's database connection
found in thread-local storage. A close() on another thread closes another
request's connection, or none. /file works a few milliseconds (as a view
does, keeping the CPUs busy) and answers FWT_SIZE bytes; /report counts
the close() calls that ran elsewhere.
"""
import os
import sys
import tempfile
import threading
import time

_local = threading.local()
_data = tempfile.NamedTemporaryFile(prefix="carafe-fwt-")
_data.write(os.urandom(int(os.environ.get("FWT_SIZE", 1 << 20))))
_data.flush()
_lock = threading.Lock()
_counts = {"closes": 0, "elsewhere": 0}


def _open_tracked():
    f = open(_data.name, "rb")
    ident, token = threading.get_ident(), object()
    _local.token = token
    close = f.close

    def tracked_close():
        moved = threading.get_ident() != ident or getattr(_local, "token", None) is not token
        with _lock:
            _counts["closes"] += 1
            _counts["elsewhere"] += moved
        if moved:
            print("file_wrapper_thread: close() on another thread", file=sys.stderr, flush=True)
        close()

    f.close = tracked_close
    return f


def application(environ, start_response):
    if environ["PATH_INFO"] == "/report":
        with _lock:
            body = b"%d closes, %d elsewhere" % (_counts["closes"], _counts["elsewhere"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    busy = time.perf_counter() + 0.003
    while time.perf_counter() < busy:
        pass
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(os.path.getsize(_data.name)))])
    return environ["wsgi.file_wrapper"](_open_tracked())
