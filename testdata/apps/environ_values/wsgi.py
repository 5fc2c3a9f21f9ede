"""Reports a few environ values, and whether each is the very str object
the previous request got: carafe reuses the str of a value that repeats
(credentials and what may carry a token in its path or query excepted), and must never hand out a stale one."""
import json
import sysconfig

KEYS = ("REQUEST_METHOD", "SERVER_PROTOCOL", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_COOKIE",
        "HTTP_AUTHORIZATION", "QUERY_STRING", "REQUEST_URI", "PATH_INFO", "HTTP_REFERER")
_last = {}


def application(environ, start_response):
    out = {}
    for k in KEYS:
        v = environ.get(k)
        out[k] = {"value": v, "same": v is not None and _last.get(k) is v}
        _last[k] = v  # kept alive, so a reused id() cannot pass for reuse
    # A free-threaded build has no GIL to guard the reuse, and goes without.
    out["gil"] = not sysconfig.get_config_var("Py_GIL_DISABLED")
    body = json.dumps(out).encode()
    # Keywords: start_response's slower argument path, which the usual
    # two positional arguments skip.
    start_response(status="200 OK", headers=[("Content-Type", "application/json"),
                                             ("Content-Length", str(len(body)))])
    return [body]
