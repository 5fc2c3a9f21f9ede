"""Sets its own handlers for SIGTERM and SIGINT at import, as some apps
do, and one for SIGALRM that raises, as timeout helpers do. Python runs
them only on the main thread, which in a carafe worker never runs Python
again until it stops: carafe must keep its own (stop on SIGTERM), and drop
the app's, which would otherwise run at the stop, hours late. /alarm asks
for a SIGALRM a second from now."""
import signal


def _late(*args):
    raise TimeoutError("the SIGALRM handler ran")


signal.signal(signal.SIGTERM, lambda *a: None)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGALRM, _late)


def application(environ, start_response):
    if environ["PATH_INFO"] == "/alarm":
        signal.alarm(1)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
