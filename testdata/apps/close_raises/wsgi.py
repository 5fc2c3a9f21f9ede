"""A response whose close() raises once its body is whole.

Django runs request_finished's receivers in close(): one that raises (a
cache client failing to close its connection) must not turn a POST that
did its work into a 500, or cut the connection after the body, or the
client sends it again. /length declares a Content-Length, /stream does
not (chunked), /file is a file_wrapper response of this file (sendfile).
"""
class _Result:
    def __init__(self, chunks):
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        raise RuntimeError("close-raised-8841")


class _File(object):
    def __init__(self, path):
        self.f = open(path, "rb")

    def read(self, n=-1):
        return self.f.read(n)

    def fileno(self):
        return self.f.fileno()

    def tell(self):
        return self.f.tell()

    def close(self):
        self.f.close()
        raise RuntimeError("close-raised-8841")


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/file":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](_File(__file__))
    headers = [("Content-Type", "text/plain")]
    if path == "/length":
        headers.append(("Content-Length", "9"))
    start_response("201 Created", headers)
    return _Result([b"done", b" once"])
