"""A worker that runs out of file descriptors: the limit is lowered to 64
at import; /leakall has a thread open /dev/null until none is left, and
take every one that comes free after (a leak that never ends); any other
path answers with the worker's pid."""
import os
import resource
import threading
import time

resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
_held = []


def _leak():
    while True:
        try:
            _held.append(os.open("/dev/null", os.O_RDONLY))
        except OSError:
            time.sleep(0.001)


def application(environ, start_response):
    if environ["PATH_INFO"] == "/leakall":
        threading.Thread(target=_leak, daemon=True).start()
        time.sleep(0.2)
        body = b"pid=%d leaked %d" % (os.getpid(), len(_held))
    else:
        body = b"pid=%d" % os.getpid()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
