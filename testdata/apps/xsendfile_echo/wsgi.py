"""Echoes redirect headers for the X-Sendfile tests.

/xs?PATH answers X-Sendfile: PATH (the query percent-decoded to bytes),
/xa?URI answers X-Accel-Redirect: URI as sent, and the request header
"X-Extra: Name:value|Name:value" adds response headers; any other path
answers "app PATH".
"""
import urllib.parse


def application(environ, start_response):
    qs = environ.get("QUERY_STRING", "")
    headers = []
    for item in filter(None, environ.get("HTTP_X_EXTRA", "").split("|")):
        name, value = item.split(":", 1)
        headers.append((name, value))
    if environ["PATH_INFO"] == "/xs":
        headers.append(("X-Sendfile", urllib.parse.unquote_to_bytes(qs).decode("latin-1")))
    elif environ["PATH_INFO"] == "/xa":
        headers.append(("X-Accel-Redirect", qs))
    else:
        body = ("app " + environ["PATH_INFO"]).encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    start_response("200 OK", headers)
    return [b"replaced by the file"]
