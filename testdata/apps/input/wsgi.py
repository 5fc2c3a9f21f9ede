"""Echoes, as a JSON list of latin-1 strings, the pieces wsgi.input gave in each mode."""
import json
from urllib.parse import parse_qs
from wsgiref.validate import validator


def _pieces(environ):
    inp = environ["wsgi.input"]
    # The validator's wrapper forbids read() without a size and iterates by
    # readline(); use the server's own object for those two modes.
    raw = getattr(inp, "input", inp)
    mode = environ["PATH_INFO"]
    n = int(parse_qs(environ["QUERY_STRING"]).get("n", ["0"])[0])
    if mode == "/read":
        return [raw.read()]
    if mode == "/read-n":
        return list(iter(lambda: inp.read(n), b""))
    if mode == "/readline":
        return list(iter(inp.readline, b""))
    if mode == "/readline-size":
        return list(iter(lambda: inp.readline(n), b""))
    if mode == "/readlines":
        return inp.readlines()
    if mode == "/iter":
        return list(raw)
    if mode == "/read-negative":
        return [raw.read(-1)]
    if mode == "/read-none":
        return [raw.read(None)]
    if mode == "/readline-negative":
        return list(iter(lambda: raw.readline(-1), b""))
    if mode == "/readlines-hint":
        # The hint may be ignored; either way the two calls see every line once.
        return inp.readlines(n) + inp.readlines()
    if mode == "/mixed":
        return [inp.read(3), inp.readline(), inp.read(4), inp.readline(2)] + inp.readlines()
    if mode == "/past-eof":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return [inp.read(length), inp.read(10), raw.read(), inp.readline(),
                inp.readline(5), inp.readlines()]
    raise ValueError("unknown mode " + mode)


def _app(environ, start_response):
    pieces = _pieces(environ)
    out = [p.decode("latin-1") if isinstance(p, bytes) else repr(p) for p in pieces]
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


application = validator(_app)
