# The mod_wsgi-style entry point (WSGIScriptAlias / .../app.wsgi in the
# seed's Apache site): not importable as a module, loaded by path.
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from myapp import app as application  # noqa: E402
