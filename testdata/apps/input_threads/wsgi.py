"""Another thread reads wsgi.input while the app's own read waits for the
rest of the body (the GIL released, Go reading the connection). The server
must refuse it (RuntimeError) rather than read one connection from two
threads at once. The body is the length the app read, then what the other
thread saw.

/answer-while-reading: a thread the app starts reads the body while the
app calls start_response; the answer stands (start_response does no I/O)."""
import threading
import time


def _answer_while_reading(environ, start_response):
    inp = environ["wsgi.input"]
    t = threading.Thread(target=inp.read)
    t.start()
    time.sleep(0.2)  # its read waits for the body's rest by now
    start_response("202 Accepted", [("Content-Type", "text/plain")])
    t.join()
    return [b"answered"]


def application(environ, start_response):
    if environ["PATH_INFO"] == "/answer-while-reading":
        return _answer_while_reading(environ, start_response)
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
