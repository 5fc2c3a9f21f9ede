"""A crash in C code: /segv reads address 0 through ctypes, /abort calls
os.abort(), /thread-segv has a thread it starts read address 0; /exit
ends the worker with os._exit(3); /exit-info describes os._exit (which
carafe wraps); any other path answers with the worker's pid. With CRASH_AT_IMPORT=1 the import
itself reads address 0."""
import ctypes
import inspect
import os
import posix
import threading


def _read_null():
    return ctypes.string_at(0)


if os.environ.get("CRASH_AT_IMPORT") == "1":
    _read_null()


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/segv":
        _read_null()
    elif path == "/abort":
        os.abort()
    elif path == "/exit":
        os._exit(3)
    elif path == "/exit-info":
        info = (str(inspect.signature(os._exit)), os._exit.__module__, os._exit is posix._exit, os._exit.__name__)
        body = repr(info).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    elif path == "/thread-segv":
        t = threading.Thread(target=_read_null)
        t.start()
        t.join()
    body = b"pid=%d" % os.getpid()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
