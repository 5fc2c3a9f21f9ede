"""A one-chunk response whose close() takes 0.3 s at /slow, as work in
Flask's call_on_close or a slow Django request_finished receiver would;
at /busy the call works a few ms and its close() sleeps 0.1 ms (letting
the GIL go, as closing a database connection does); elsewhere its close()
does nothing."""
import time


class Body:
    def __init__(self, data, wait):
        self.data, self.wait = data, wait

    def __iter__(self):
        yield self.data

    def close(self):
        time.sleep(self.wait)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/busy":
        sum(range(30000))
    body = b"done " + path.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Body(body, {"/slow": 0.3, "/busy": 0.0001}.get(path, 0))
