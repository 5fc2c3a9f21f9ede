# Defines `app` but no `application`: carafe falls back to `app`.
import os
import sys

sys.path.insert(0, os.path.dirname(__file__) + "/lib")
from myapp import app  # noqa: E402,F401
