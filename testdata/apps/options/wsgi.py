"""Reports what --pythonpath, --env, --chdir and --pyargv changed."""
import json
import os
import sys
from wsgiref.validate import validator

try:
    import extramod
    EXTRA = extramod.VALUE
except ImportError:
    EXTRA = None


def _app(environ, start_response):
    body = json.dumps({"extra": EXTRA, "env": os.environ.get("CARAFE_TEST_ENV"),
                       "cwd": os.getcwd(), "argv": sys.argv, "path": sys.path[:3]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


application = validator(_app)
