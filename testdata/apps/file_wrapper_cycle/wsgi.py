"""/make returns a wsgi.file_wrapper over a file-like object that refers
back to the wrapper: a reference cycle, which only the cycle collector can
free. /count collects and says how many such objects are still alive."""
import gc
import io
import weakref

_alive = weakref.WeakSet()


class Cyclic:
    def __init__(self):
        self.f = io.BytesIO(b"cyclic-body")
        self.wrapper = None

    def read(self, n=-1):
        return self.f.read(n)


def application(environ, start_response):
    if environ["PATH_INFO"] == "/count":
        gc.collect()
        body = str(len(_alive)).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    c = Cyclic()
    _alive.add(c)
    w = environ["wsgi.file_wrapper"](c)
    c.wrapper = w
    start_response("200 OK", [("Content-Type", "text/plain")])
    return w
