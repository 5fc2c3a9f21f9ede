"""The package a mod_wsgi-style script imports from its own lib/ directory."""
from wsgiref.validate import validator


def _make(text):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text.encode()]
    return validator(app)


app = _make("myapp.app")
other = _make("myapp.other")
