"""Big bodies in 64 KiB pieces. POST /upload reads wsgi.input 64 KiB at a
time and answers "<bytes> <sha256>"; GET /download?mb=N yields N MiB of a
fixed 64 KiB pattern (with Content-Length, or without it when ?chunked=1),
in pieces of 64 KiB, or of K times that with &piece=K, or in one piece of
a list with &list=1; &hang=S sleeps S seconds after the last piece."""
import hashlib
import time
from wsgiref.validate import validator

PIECE = bytes(range(256)) * 256


def app(environ, start_response):
    if environ["PATH_INFO"] == "/upload":
        h = hashlib.sha256()
        n = 0
        read = environ["wsgi.input"].read
        while True:
            b = read(65536)
            if not b:
                break
            n += len(b)
            h.update(b)
        body = ("%d %s" % (n, h.hexdigest())).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    q = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    piece = PIECE * int(q.get("piece", "1"))
    pieces = int(q.get("mb", "1")) * (1 << 20) // len(piece)
    headers = [("Content-Type", "application/octet-stream")]
    if q.get("chunked") != "1":
        headers.append(("Content-Length", str(pieces * len(piece))))
    start_response("200 OK", headers)
    if q.get("list") == "1":
        return [piece * pieces]  # one piece, as Flask and Django answer

    def gen():
        for _ in range(pieces):
            yield piece
        time.sleep(float(q.get("hang", "0")))

    return gen()


application = validator(app)
