"""wsgi.file_wrapper over files whose read() is and is not the file's own
bytes. Only a plain binary file may go out with sendfile; every other
file-like object must send what read() returns. DATA_FILE holds the text
the test checks against; GZIP_FILE is it compressed; DECOY_FILE is as long
as DATA_FILE with other bytes."""
import gzip
import io
import os

_data = os.environ.get("DATA_FILE", "")


class _Upper(io.BufferedReader):
    def read(self, n=-1):
        return super().read(n).upper()


class _UpperRaw(io.FileIO):
    def readinto(self, b):
        n = super().readinto(b)
        if n:
            b[:n] = bytes(b[:n]).upper()
        return n


class _Repoint:
    """Makes the file's descriptor name DECOY_FILE when the environ is
    freed: after the server looked at the file, before it sends it, as
    another thread closing the file and opening one could."""

    def __init__(self, fd):
        self.fd = fd

    def __del__(self):
        decoy = os.open(os.environ["DECOY_FILE"], os.O_RDONLY)
        os.dup2(decoy, self.fd)
        os.close(decoy)


def _open(environ, kind):
    if kind == "gzip":
        return gzip.open(os.environ["GZIP_FILE"])
    if kind == "subclass":
        return _Upper(io.FileIO(_data))
    if kind == "raw_subclass":
        return io.BufferedReader(_UpperRaw(_data))
    if kind == "fileio":
        return open(_data, "rb", buffering=0)
    if kind == "random":
        return open(_data, "r+b")
    f = open(_data, "rb")
    if kind == "past_end":
        f.seek(os.path.getsize(_data) + 100000)
    elif kind == "offset":
        f.read(10)  # buffered ahead: tell() says 10, the descriptor is further on
    elif kind == "repointed":
        environ["carafe.test.repoint"] = _Repoint(f.fileno())
    return f


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](_open(environ, environ["PATH_INFO"][1:]), 8192)
