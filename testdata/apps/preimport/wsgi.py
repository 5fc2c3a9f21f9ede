"""--import: the body is what the modules imported before this one left in
CARAFE_IMPORTED, read when this module was imported."""
import os

SEEN = os.environ.get("CARAFE_IMPORTED", "")


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [SEEN.encode()]
