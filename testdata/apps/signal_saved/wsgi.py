"""Saves a signal's handler at import and puts it back, as libraries do
around a block of their own (old = signal.signal(...) ... signal.signal(
sig, old)): Python must see the worker's signals as SIG_DFL, not None,
which signal.signal refuses. / answers whether getsignal says SIG_DFL."""
import signal

for _sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGALRM):
    _old = signal.signal(_sig, lambda *a: None)
    signal.signal(_sig, _old)


def application(environ, start_response):
    sigs = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGALRM)
    body = " ".join(str(signal.getsignal(s) == signal.SIG_DFL) for s in sigs).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
