"""start_response's checks, made while the app runs. POST / with a body of
JSON [status, [[name, value], ...]] tries that head: the answer is
"accepted" or "refused: " and the ValueError's text. GET /early calls
write(b"") and then sleeps 10 s before its body: the head must be out by
then."""
import json
import sys
import time


def application(environ, start_response):
    if environ["PATH_INFO"] == "/early":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"")
        time.sleep(10)
        return [b"late body"]
    n = int(environ.get("CONTENT_LENGTH") or 0)
    status, headers = json.loads(environ["wsgi.input"].read(n))
    try:
        start_response(status, [tuple(h) for h in headers])
    except ValueError as e:
        start_response("200 OK", [("Content-Type", "text/plain")], sys.exc_info())
        return [("refused: %s" % e).encode()]
    return [b"accepted"]
