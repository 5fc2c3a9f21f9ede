"""wsgi.file_wrapper over a file-like object whose read() returns None (a
non-blocking file with nothing to read). Iterating the wrapper must raise
the TypeError for it, which a middleware that iterates the wrapper itself
can catch, instead of yielding None with the error left pending."""


class _Empty:
    def read(self, n=-1):
        return None


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    chunks = []
    try:
        for chunk in environ["wsgi.file_wrapper"](_Empty()):
            chunks.append(chunk)
    except TypeError:
        return [b"TypeError"]
    return [repr(chunks).encode()]
