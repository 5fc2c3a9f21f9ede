"""The bridge's error and edge paths by name, and /stats: the worker's
count of objects the garbage collector tracks and of allocated memory
blocks, after a collection. A reference the bridge leaks on a path makes
one or both grow with every request down it."""
import gc
import io
import json
import sys

TEXT = [("Content-Type", "text/plain")]


def _stats(environ, start_response):
    gc.collect()
    body = json.dumps({"objects": len(gc.get_objects()), "blocks": sys.getallocatedblocks()})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]


def _raise_before(environ, start_response):
    raise ValueError("raised before start_response")


def _exc_info_after_body(environ, start_response):
    write = start_response("200 OK", TEXT)
    write(b"sent")
    try:
        raise ValueError("raised after the head went out")
    except ValueError:
        start_response("500 Internal Server Error", TEXT, sys.exc_info())


def _exc_info_replaces(environ, start_response):
    write = start_response("200 OK", TEXT)
    try:
        raise ValueError("replaced")
    except ValueError:
        start_response("500 Internal Server Error", TEXT, sys.exc_info())
    write(b"error page")
    return []


class _Failing:
    """Raises in the middle of the body, then in close() too."""

    def __iter__(self):
        yield b"part"
        raise ValueError("raised mid-body")

    def close(self):
        raise RuntimeError("raised in close()")


def _raise_mid_body(environ, start_response):
    start_response("200 OK", TEXT)
    return _Failing()


def _str_chunk(environ, start_response):
    start_response("200 OK", TEXT)
    return [b"bytes", "a str"]


def _bad_headers(environ, start_response):
    start_response("200 OK", [("X-Int", 5)])
    return [b"x"]


class _ReadNone:
    def read(self, n=-1):
        return None


def _file_wrapper_bad(environ, start_response):
    start_response("200 OK", TEXT)
    return environ["wsgi.file_wrapper"](_ReadNone())


def _file_wrapper_bytesio(environ, start_response):
    start_response("200 OK", TEXT)
    return environ["wsgi.file_wrapper"](io.BytesIO(b"x" * 20000), 4096)


def _input_modes(environ, start_response):
    inp = environ["wsgi.input"]
    got = [inp.readline(5), inp.readline(), inp.read(3)] + inp.readlines(2) + list(inp)
    got += [inp.read(), inp.readline(), inp.read(7)]  # past EOF
    try:
        inp.read("not a size")
    except TypeError:
        pass
    start_response("200 OK", TEXT)
    return [b"%d" % sum(map(len, got))]


ROUTES = {
    "/stats": _stats,
    "/raise-before": _raise_before,
    "/exc-info-after-body": _exc_info_after_body,
    "/exc-info-replaces": _exc_info_replaces,
    "/raise-mid-body": _raise_mid_body,
    "/str-chunk": _str_chunk,
    "/bad-headers": _bad_headers,
    "/file-wrapper-bad": _file_wrapper_bad,
    "/file-wrapper-bytesio": _file_wrapper_bytesio,
    "/input-modes": _input_modes,
}


def application(environ, start_response):
    return ROUTES[environ["PATH_INFO"]](environ, start_response)
