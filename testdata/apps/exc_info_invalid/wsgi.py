"""start_response(..., exc_info) after the headers went out, with an
exc_info that is not an exception being handled. The server must raise an
exception of its own there (the app logs its type) rather than set the
tuple's parts as the pending exception, which crashed the worker."""
import sys

TEXT = [("Content-Type", "text/plain")]

EXC_INFO = {
    "/none": lambda: sys.exc_info(),  # outside an except block: (None, None, None)
    "/made-up": lambda: (str, "not an exception", None),
    "/not-a-tuple": lambda: "not a tuple",
    "/class-only": lambda: (LookupError, "made-up message 5521", None),
}


def application(environ, start_response):
    exc_info = EXC_INFO[environ["PATH_INFO"]]()
    write = start_response("200 OK", TEXT)
    write(b"first")
    try:
        start_response("500 Internal Server Error", TEXT, exc_info)
    except BaseException as e:
        environ["wsgi.errors"].write("exc_info %s raised %s\n" % (environ["PATH_INFO"], type(e).__name__))
        raise
    environ["wsgi.errors"].write("exc_info %s NOT raised\n" % environ["PATH_INFO"])
    return [b"should-not-appear"]
