# A mod_wsgi-style script: not importable as a module, loaded by path.
import os
import sys

sys.path.insert(0, os.path.dirname(__file__) + "/lib")
from myapp import app as application  # noqa: E402
from myapp import other  # noqa: E402,F401
