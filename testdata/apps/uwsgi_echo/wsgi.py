"""Streams back what a uwsgi gateway sent: vars and body, no Content-Length."""


def application(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield ("script=%s path=%s query=%s remote=%s scheme=%s|" % (
        environ.get("SCRIPT_NAME"), environ["PATH_INFO"], environ["QUERY_STRING"],
        environ.get("REMOTE_ADDR"), environ["wsgi.url_scheme"])).encode()
    yield body
