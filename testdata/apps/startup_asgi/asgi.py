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
