"""A thread the app starts keeps writing after the app returned: its
16 MiB write() goes out with the GIL released while the request's own
thread sends the returned body and ends the call. The server must let
the write in flight finish before it touches the response again: the body
is the 16 MiB of y, then the 1 MiB of z."""
import threading
import time

_big = b"y" * (16 << 20)
_tail = [b"z" * (1 << 20)]


def application(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "application/octet-stream")])
    started = threading.Event()

    def other():
        started.set()
        write(_big)

    threading.Thread(target=other, daemon=True).start()
    started.wait()
    time.sleep(0.05)  # the other thread takes the GIL and starts its write
    return _tail
