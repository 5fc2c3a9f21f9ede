"""Download: a 10 MiB body, built once at import, sent as one bytes object."""

BODY = bytes(range(256)) * (10 * 1024 * 1024 // 256)
HEADERS = [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
