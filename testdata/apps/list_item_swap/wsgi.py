"""The app returns a module-level list whose one 16 MiB item another thread
keeps replacing while the response goes out. The body must be the item the
server took, whole: one byte value repeated, never the bytes of a later one
(or freed memory)."""
import threading
import time

SIZE = 16 << 20
_body = [b"a" * SIZE]


def _swap(until):
    n = 0
    while time.monotonic() < until:
        n += 1
        _body[0] = bytes([0x61 + n % 26]) * SIZE  # frees the item it replaces
        time.sleep(0.001)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    threading.Thread(target=_swap, args=(time.monotonic() + 3,), daemon=True).start()
    return _body
