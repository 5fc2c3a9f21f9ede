"""A fork by the app: /term forks a child that sleeps 5 s, sends it SIGTERM
and answers with how it ended and when; /term-now forks 20 children, each
sent SIGTERM at once, and counts those it ended; /signals answers with the child's
caught and ignored signal masks (SigCgt, SigIgn of /proc/self/status);
/pool maps over a multiprocessing Pool (the "fork" start method) and
leaves it, which ends its workers with SIGTERM; /returns forks a child
that returns from the view instead of ending with os._exit, and answers
with how it ended; /returns-close has it return a response whose close()
would say it ran, and /exits has it raise SystemExit(0); /linger forks a
child that lives 5 s, holding a copy of every socket, and answers at once
with a body the connection's close ends (HTTP/1.0); /stuck does the same
fork, then never answers (for --harakiri); /listening answers with the
number of listening sockets in the worker and in a child it forks."""
import multiprocessing
import os
import signal
import socket
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


def _term_now():
    # SIGTERM at once after each fork, as Pool.terminate() may send it to a
    # worker just started: "ended N of N by the signal".
    n, ended = 20, 0
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            time.sleep(0.5)
            os._exit(3)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        ended += os.waitstatus_to_exitcode(status) == -signal.SIGTERM
    return "ended %d of %d by the signal" % (ended, n)


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


class _Closing:
    """A response whose close() writes to fd: Django's request_finished."""

    def __init__(self, fd):
        self._fd = fd

    def __iter__(self):
        return iter([b"child"])

    def close(self):
        os.write(self._fd, b"closed in pid %d" % os.getpid())


def _count_listening():
    n = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            s = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue  # not a socket (or gone: listdir's own fd)
        try:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                n += 1
        except OSError:
            pass
        finally:
            s.close()
    return n


def _listening():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, b"%d" % _count_listening())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        return "worker %d, child %s" % (_count_listening(), f.read())


_views = {"/listening": _listening, "/term": _term, "/term-now": _term_now, "/signals": _signals, "/pool": _pool,
          "/returns": _returns}


def _linger_body():
    yield b"answered "
    yield b"before the child ends"


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path in ("/linger", "/stuck"):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        if path == "/stuck":
            time.sleep(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _linger_body()
    if path in ("/returns-close", "/exits"):
        # A child that returns a response with a close(), or raises
        # SystemExit(0) out of the view.
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            if path == "/exits":
                raise SystemExit(0)
            start_response("200 OK", [("Content-Length", "5")])
            return _Closing(w)
        os.close(w)
        _, status = os.waitpid(pid, 0)
        with os.fdopen(r) as f:
            body = "child exit %d; %s" % (os.waitstatus_to_exitcode(status), f.read() or "no close()")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body.encode()]
    body = _views[path]().encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
