"""Another thread reads wsgi.input while the app's own read waits for the
rest of the body (the GIL released, Go reading the connection). The server
must refuse it (RuntimeError) rather than read one connection from two
threads at once. The body is the length the app read, then what the other
thread saw."""
import threading
import time


def application(environ, start_response):
    inp = environ["wsgi.input"]
    seen = []

    def other():
        time.sleep(0.2)  # the app's read is waiting for the body's rest by now
        try:
            inp.read(1)
            seen.append("read")
        except RuntimeError:
            seen.append("refused")

    t = threading.Thread(target=other)
    t.start()
    n = len(inp.read())
    t.join()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%d %s" % (n, " ".join(seen))).encode()]
