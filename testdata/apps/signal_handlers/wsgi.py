"""Sets its own handlers for SIGTERM and SIGINT at import, as some apps
do. Python runs them only on the main thread, which in a carafe worker
never runs Python again: carafe must keep its own (stop on SIGTERM)."""
import signal

signal.signal(signal.SIGTERM, lambda *a: None)
signal.signal(signal.SIGINT, signal.SIG_IGN)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
