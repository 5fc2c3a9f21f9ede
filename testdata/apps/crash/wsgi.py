"""A crash in C code: /segv reads address 0 through ctypes, /abort calls
os.abort(); any other path answers with the worker's pid. With
CRASH_AT_IMPORT=1 the import itself reads address 0."""
import ctypes
import os


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
    body = b"pid=%d" % os.getpid()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
