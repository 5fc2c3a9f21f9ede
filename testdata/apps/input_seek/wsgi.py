"""Reads part of wsgi.input, seeks, and reads again: what middleware that
rewinds the body for the app does. Answers JSON."""
import hashlib
import json
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: int(v[0]) for k, v in parse_qs(environ["QUERY_STRING"]).items()}
    inp = environ["wsgi.input"]
    first = inp.read(q.get("first", 0))
    out = {"first": len(first), "tell": inp.tell(), "seekable": inp.seekable()}
    try:
        out["seek"] = inp.seek(q.get("off", 0), q.get("whence", 0))
    except OSError as e:
        out["error"] = str(e)
    out["tell_after"] = inp.tell()
    rest = inp.read(q.get("n", -1))
    out["rest_len"] = len(rest)
    out["rest_sha"] = hashlib.sha256(rest).hexdigest()
    out["rest_head"] = rest[:16].decode("latin-1")
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
