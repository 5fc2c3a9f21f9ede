"""Deliberately broken apps: every route must end in a 500, an aborted connection,
or (a body the app completed before it failed) the response and a closed connection."""
TEXT = [("Content-Type", "text/plain")]


def _raise_before(environ, start_response):
    raise ValueError("kaboom-before-body-4711")


def _raise_after_length(environ, start_response):
    # A first chunk over carafe's 64 KiB buffer goes out at once.
    start_response("200 OK", TEXT + [("Content-Length", "100000")])
    yield b"x" * 70000
    raise ValueError("kaboom-after-length-4712")


def _raise_after_small_sized(environ, start_response):
    # A small first chunk goes out as it comes too, short of the declared
    # length (PEP 3333: no block may be delayed), so the failure after it
    # can only cut the body short.
    start_response("200 OK", TEXT + [("Content-Length", "100000")])
    yield b"x" * 1000
    raise ValueError("kaboom-after-small-sized-4714")


def _raise_after_chunked(environ, start_response):
    start_response("200 OK", TEXT)
    yield b"partial-body"
    raise ValueError("kaboom-after-chunked-4713")


class _CompleteThenRaise:
    # Not a generator, as Werkzeug's and Django's responses are not: its
    # one chunk fills the Content-Length, so the server holds it to go out
    # with the head, and the iterable raises after it.
    def __iter__(self):
        yield b"complete-body"
        raise ValueError("kaboom-after-complete-4715")


def _raise_after_complete(environ, start_response):
    start_response("200 OK", TEXT + [("Content-Length", "13")])
    return _CompleteThenRaise()


def _body(status, headers, items):
    def app(environ, start_response):
        start_response(status, headers)
        return items
    return app


def _returns_none(environ, start_response):
    start_response("200 OK", TEXT)


def _no_start_response(environ, start_response):
    return [b"no start_response"]


ROUTES = {
    "/ok": _body("200 OK", TEXT, [b"still serving"]),
    "/raise-before": _raise_before,
    "/raise-after-length": _raise_after_length,
    "/raise-after-chunked": _raise_after_chunked,
    "/raise-after-small-sized": _raise_after_small_sized,
    "/raise-after-complete": _raise_after_complete,
    "/bad-item-after-complete": _body("200 OK", TEXT + [("Content-Length", "5")], [b"whole", 4716]),
    "/returns-none": _returns_none,
    "/no-start-response": _no_start_response,
    "/str-body": _body("200 OK", TEXT, ["a str, not bytes"]),
    "/bytes-body": _body("200 OK", TEXT, b"evil bytes, not a list"),
    "/str-body-later": _body("200 OK", TEXT + [("Content-Length", "4")], [b"", "text"]),
    "/status-abc": _body("abc", TEXT, [b"bad status"]),
    "/status-no-space": _body("200OK", TEXT, [b"bad status"]),
    "/status-two-digits": _body("20 OK", TEXT, [b"bad status"]),
    "/status-crlf": _body("200 OK\r\nSet-Cookie: evil=status", TEXT, [b"bad status"]),
    "/header-crlf": _body("200 OK", TEXT + [("X-Injected", "ok\r\nSet-Cookie: evil=crlf")], [b"bad header"]),
    "/header-lf": _body("200 OK", TEXT + [("X-Injected", "ok\nSet-Cookie: evil=lf")], [b"bad header"]),
    "/header-name-space": _body("200 OK", TEXT + [("Bad Name", "evil=space")], [b"bad header"]),
    "/header-name-crlf": _body("200 OK", TEXT + [("X-A\r\nSet-Cookie", "evil=name")], [b"bad header"]),
    "/header-name-colon": _body("200 OK", TEXT + [("X-A: evil=colon\r\nX-B", "v")], [b"bad header"]),
    "/header-not-str": _body("200 OK", TEXT + [("X-Bytes", b"evil=bytes")], [b"bad header"]),
}


def application(environ, start_response):
    return ROUTES[environ["PATH_INFO"]](environ, start_response)
