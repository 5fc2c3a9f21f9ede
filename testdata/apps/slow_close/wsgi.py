"""A one-chunk response whose close() takes 0.3 s at /slow, as work in
Flask's call_on_close or a slow Django request_finished receiver would;
elsewhere its close() does nothing."""
import time


class Body:
    def __init__(self, data, wait):
        self.data, self.wait = data, wait

    def __iter__(self):
        yield self.data

    def close(self):
        time.sleep(self.wait)


def application(environ, start_response):
    body = b"done " + environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Body(body, 0.3 if environ["PATH_INFO"] == "/slow" else 0)
