"""The write callable belongs to its request: the one the first
start_response returned still writes after start_response(..., exc_info)
replaced the status, and one kept past its request refuses in the next."""
import sys

TEXT = [("Content-Type", "text/plain")]
_kept = []


def _after_exc_info(environ, start_response):
    write = start_response("200 OK", TEXT)
    try:
        raise ValueError("replaced before any body")
    except ValueError:
        again = start_response("500 Internal Server Error", TEXT, sys.exc_info())
    write(b"first callable, ")
    again(b"second callable")
    return []


def _keep(environ, start_response):
    _kept[:] = [start_response, start_response("200 OK", TEXT)]
    return [b"kept"]


def _stale(environ, start_response):
    write = start_response("200 OK", TEXT)
    seen = []
    for old in _kept:
        try:
            old(b"stale write")
            seen.append("wrote")
        except RuntimeError:
            seen.append("refused")
    write(" ".join(seen).encode())
    return []


ROUTES = {"/after-exc-info": _after_exc_info, "/keep": _keep, "/stale": _stale}


def application(environ, start_response):
    return ROUTES[environ["PATH_INFO"]](environ, start_response)
