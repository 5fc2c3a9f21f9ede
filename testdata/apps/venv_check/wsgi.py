"""Reports where Python thinks it lives and that the venv's Flask imports."""
import importlib.metadata
import json
import sys
from wsgiref.validate import validator

import flask


def _app(environ, start_response):
    body = json.dumps({"prefix": sys.prefix, "executable": sys.executable,
                       "flask_file": flask.__file__,
                       "flask_version": importlib.metadata.version("flask")}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


application = validator(_app)
