"""Returns the WSGI environ as JSON, plus the facts JSON cannot carry."""
import json
from wsgiref.validate import validator


def _jsonable(value):
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, tuple):
        return list(value)
    return repr(value)


def _app(environ, start_response):
    out = {k: _jsonable(v) for k, v in environ.items()}
    out["_types"] = {k: type(v).__name__ for k, v in environ.items()}
    out["_input_methods"] = [m for m in ("read", "readline", "readlines", "__iter__")
                             if hasattr(environ["wsgi.input"], m)]
    out["_errors_methods"] = [m for m in ("write", "writelines", "flush")
                              if hasattr(environ["wsgi.errors"], m)]
    out["_file_wrapper_callable"] = callable(environ.get("wsgi.file_wrapper"))
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


application = validator(_app)
