"""Static files served by the app, for servers without a static map of
their own: /static/NAME is BENCH_STATIC_DIR/NAME, sent with
wsgi.file_wrapper. Unless BENCH_STATIC_VIA_APP=1 the app serves no file,
so a server given a static map must serve /static itself."""

import os

DIR = os.environ.get("BENCH_STATIC_DIR", "")
VIA_APP = os.environ.get("BENCH_STATIC_VIA_APP") == "1"


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    name = path[len("/static/"):] if path.startswith("/static/") else ""
    if not VIA_APP or not DIR or not name or "/" in name or name.startswith("."):
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"not found"]
    try:
        f = open(os.path.join(DIR, name), "rb")
    except OSError:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"not found"]
    size = os.fstat(f.fileno()).st_size
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](f, 64 * 1024)
