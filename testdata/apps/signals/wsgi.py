"""Signals as the app's own threads and children see them.

/pipe writes to a closed socket from a thread the app started (not one
of carafe's): Python must raise BrokenPipeError there, not the process
die of SIGPIPE. /child starts a process and sends it SIGHUP: it must end
of it, not have inherited the signal as ignored.
"""
import signal
import socket
import subprocess
import threading


def _pipe():
    out = {}

    def write():
        a, b = socket.socketpair()
        b.close()
        try:
            for _ in range(100):
                a.send(b"x" * 65536)
            out["result"] = "no error"
        except BrokenPipeError:
            out["result"] = "BrokenPipeError"
        except OSError as e:
            out["result"] = type(e).__name__
        finally:
            a.close()

    t = threading.Thread(target=write)
    t.start()
    t.join()
    return out["result"]


def _child():
    p = subprocess.Popen(["sleep", "30"])
    p.send_signal(signal.SIGHUP)
    try:
        return "rc %d" % p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "still running"


def application(environ, start_response):
    body = {"/pipe": _pipe, "/child": _child}[environ["PATH_INFO"]]().encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
