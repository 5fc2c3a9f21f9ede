"""Deliberately broken apps: every route must end in a 500 or an aborted connection."""
TEXT = [("Content-Type", "text/plain")]


def _raise_before(environ, start_response):
    raise ValueError("kaboom-before-body-4711")


def _raise_after_length(environ, start_response):
    # With a Content-Length carafe batches chunks (up to 64 KiB) before
    # sending; a first chunk larger than that makes the headers go out.
    start_response("200 OK", TEXT + [("Content-Length", "100000")])
    yield b"x" * 70000
    raise ValueError("kaboom-after-length-4712")


def _raise_after_small_sized(environ, start_response):
    # A sized body fails while its first chunk is still batched: nothing
    # went out yet, so the client can get a clean 500.
    start_response("200 OK", TEXT + [("Content-Length", "100000")])
    yield b"x" * 1000
    raise ValueError("kaboom-after-small-sized-4714")


def _raise_after_chunked(environ, start_response):
    start_response("200 OK", TEXT)
    yield b"partial-body"
    raise ValueError("kaboom-after-chunked-4713")


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
    "/returns-none": _returns_none,
    "/no-start-response": _no_start_response,
    "/str-body": _body("200 OK", TEXT, ["a str, not bytes"]),
    "/str-body-later": _body("200 OK", TEXT + [("Content-Length", "4")], [b"", "text"]),
    "/status-abc": _body("abc", TEXT, [b"bad status"]),
    "/status-no-reason": _body("200", TEXT, [b"bad status"]),
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
