"""wsgi.file_wrapper over a real file (has fileno) and over a BytesIO (has not)."""
import io
import os
from wsgiref.validate import validator


def _mark(name):
    with open(os.path.join(os.environ["MARKER_DIR"], name), "w") as f:
        f.write("closed")


class _Tracked:
    """A plain object, so nothing but an explicit close() can write the marker."""

    def __init__(self, f, name):
        self.f, self.name = f, name

    def read(self, n=-1):
        return self.f.read(n)

    def close(self):
        _mark(self.name)
        self.f.close()


class _TrackedFile(_Tracked):
    def fileno(self):
        return self.f.fileno()


def _app(environ, start_response):
    path = environ["PATH_INFO"]
    headers = [("Content-Type", "application/octet-stream")]
    if path == "/length":
        headers.append(("Content-Length", "5000"))  # less than the file
    start_response("200 OK", headers)
    if path in ("/file", "/validated", "/offset", "/length"):
        f = _TrackedFile(open(os.environ["DATA_FILE"], "rb"), path[1:])
        if path == "/offset":
            f.f.seek(1000)  # transmission starts at the current position
    else:
        with open(os.environ["DATA_FILE"], "rb") as src:
            f = _Tracked(io.BytesIO(src.read()), "bytesio")
    return environ["wsgi.file_wrapper"](f, 8192)


_validated = validator(_app)


def application(environ, start_response):
    # The validator hides the wrapper's type, so the server's fast path
    # (sendfile on fileno) is only reachable without it.
    if environ["PATH_INFO"] == "/validated":
        return _validated(environ, start_response)
    return _app(environ, start_response)
