"""Reports what --pythonpath, --env, --envdir, --chdir and --pyargv changed."""
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
    envdir = {k: os.environ.get(k) for k in ("CARAFE_ENVDIR_A", "CARAFE_ENVDIR_B", "CARAFE_ENVDIR_GONE")}
    body = json.dumps({"extra": EXTRA, "env": os.environ.get("CARAFE_TEST_ENV"), "envdir": envdir,
                       "cwd": os.getcwd(), "argv": sys.argv, "path": sys.path[:3]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


application = validator(_app)
