"""A fork by the app: /term forks a child that sleeps 5 s, sends it SIGTERM
and answers with how it ended and when; /signals answers with the child's
caught and ignored signal masks (SigCgt, SigIgn of /proc/self/status);
/pool maps over a multiprocessing Pool (the "fork" start method) and
leaves it, which ends its workers with SIGTERM; /returns forks a child
that returns from the view instead of ending with os._exit, and answers
with how it ended."""
import multiprocessing
import os
import signal
import time


def _square(x):
    return x * x


def _term():
    pid = os.fork()
    if pid == 0:
        time.sleep(5)
        os._exit(3)
    time.sleep(0.3)
    os.kill(pid, signal.SIGTERM)
    start = time.monotonic()
    _, status = os.waitpid(pid, 0)
    return "exit %d after %.1fs" % (os.waitstatus_to_exitcode(status), time.monotonic() - start)


def _signals():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        with open("/proc/self/status") as f:
            masks = [line.split()[1] for line in f if line.startswith(("SigCgt", "SigIgn"))]
        os.write(w, " ".join(masks).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        return f.read()


def _pool():
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return str(sum(pool.map(_square, range(10))))


def _returns():
    # A child that returns from the view instead of ending with os._exit.
    pid = os.fork()
    if pid == 0:
        return "child %d" % os.getpid()
    _, status = os.waitpid(pid, 0)
    return "parent, child exit %d" % os.waitstatus_to_exitcode(status)


_views = {"/term": _term, "/signals": _signals, "/pool": _pool, "/returns": _returns}


def application(environ, start_response):
    body = _views[environ["PATH_INFO"]]().encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
