"""ASGI apps, which carafe (a WSGI server) refuses at start: a function,
and an instance of a class whose __call__ is async (FastAPI, Starlette and
Django's ASGIHandler have that shape)."""


async def application(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"asgi"})


class App:
    async def __call__(self, scope, receive, send):
        await application(scope, receive, send)


app = App()


def wsgi(environ, start_response):
    """A WSGI app beside them, which is served."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"wsgi"]


import functools  # noqa: E402


async def _asgi_with_config(config, scope, receive, send):
    await application(scope, receive, send)


# An ASGI app bound to its settings: the partial's own __call__ is not async.
partial_app = functools.partial(_asgi_with_config, {"debug": False})
# A partial of an ASGI app object (FastAPI's, Starlette's).
partial_instance = functools.partial(app)


class _Meta(type):
    def __getattribute__(cls, name):
        if name == "__call__":
            raise RuntimeError("no looking")
        return super().__getattribute__(name)


class _Guarded(metaclass=_Meta):
    def __call__(self, environ, start_response):
        return wsgi(environ, start_response)


# A WSGI app whose class hides __call__ from a lookup: served.
guarded = _Guarded()
