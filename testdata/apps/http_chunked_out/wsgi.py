"""A body of unknown length (a generator, no Content-Length): the server
must chunk it for HTTP/1.1 and delimit it by close for HTTP/1.0."""
from wsgiref.validate import validator


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"hello "
        yield b""
        yield b"chunked "
        yield b"world"

    return gen()


application = validator(app)
