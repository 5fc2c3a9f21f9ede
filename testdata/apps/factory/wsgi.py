"""An application factory, as Flask's tutorial lays an app out: the module
has no WSGI callable of its own; create_app() builds one, and must be
called exactly once (CALLS counts the calls). broken_factory() raises."""
CALLS = []


def create_app():
    CALLS.append(1)

    def app(environ, start_response):
        body = ("factory app, built %d time(s)" % len(CALLS)).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def broken_factory():
    raise RuntimeError("the factory failed: no DATABASE_URL")


def not_an_app():
    return 42
