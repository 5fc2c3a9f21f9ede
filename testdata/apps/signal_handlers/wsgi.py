"""Sets its own handlers for SIGTERM and SIGINT at import, as some apps
do, and one for SIGALRM that raises, as timeout helpers do. Python runs
them only on the main thread, which in a carafe worker never runs Python
again until it stops: carafe must keep its own (stop on SIGTERM), and drop
the app's, which would otherwise run at the stop, hours late. /alarm asks
for a SIGALRM a second from now; /table answers whether Python's table
now holds SIG_IGN for SIGALRM and SIGTERM."""
import signal


def _late(*args):
    raise TimeoutError("the SIGALRM handler ran")


signal.signal(signal.SIGTERM, lambda *a: None)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGALRM, _late)


def application(environ, start_response):
    body = b"ok"
    if environ["PATH_INFO"] == "/alarm":
        signal.alarm(1)
    elif environ["PATH_INFO"] == "/table":
        body = ("%s %s" % (signal.getsignal(signal.SIGALRM) == signal.SIG_IGN,
                           signal.getsignal(signal.SIGTERM) == signal.SIG_IGN)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
