"""Another thread calls write() while the app's own 16 MiB write() is going
out with the GIL released. The server must refuse it (RuntimeError) rather
than touch the response under the write in flight. The body is the 16 MiB
then what the other thread saw."""
import threading

SIZE = 16 << 20
_big = b"x" * SIZE


def application(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "application/octet-stream")])
    go = threading.Event()
    seen = []

    def other():
        go.wait()
        try:
            write(b"y" * 10)
            seen.append(b"wrote")
        except RuntimeError:
            seen.append(b"refused")

    t = threading.Thread(target=other)
    t.start()
    go.set()
    write(_big)
    t.join()
    return seen
