"""A request whose body comes after the drain, while Python's finalisation
waits for the app's non-daemon thread (LINGER_S seconds from import).

Its call starts then: the app must still answer it ("served " and the
body), not crash the worker on an app already dropped.
"""
import os
import threading
import time


def _linger():
    time.sleep(float(os.environ.get("LINGER_S", "3")))


threading.Thread(target=_linger, name="linger").start()  # not a daemon: finalisation waits


def application(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"served " + body]
