"""A non-daemon thread (threading's default), started at import, that runs
until told, and an atexit handler that prints a marker. Python joins such
a thread before it runs the atexit handlers, so a stop must not wait for
it past its bound. GET /finish?in=S makes the thread end S seconds on.
FLUSHER=0 leaves it out: then only an idle ThreadPoolExecutor's thread is
left, non-daemon too, which Python's shutdown stops by itself at once.
GET /spawn starts a Thread from the request (the background e-mail of
many a view), which works 3 s (past the stop's drain), then prints a marker: a daemon only
if the request's thread were one."""
import atexit
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

_end = None  # monotonic time the thread ends at; None: never


def _flusher():
    while _end is None or time.monotonic() < _end:
        time.sleep(0.02)


def _bye():
    sys.stderr.write("atexit-handler-ran\n")
    sys.stderr.flush()


atexit.register(_bye)
_pool = ThreadPoolExecutor(1)
_pool.submit(int).result()
if os.environ.get("FLUSHER") != "0":
    threading.Thread(target=_flusher, name="flusher").start()


def _late_job():
    time.sleep(3)
    sys.stderr.write("late-job-done\n")
    sys.stderr.flush()


def application(environ, start_response):
    global _end
    if environ["PATH_INFO"] == "/spawn":
        threading.Thread(target=_late_job, name="late").start()
    if environ["PATH_INFO"] == "/finish":
        _end = time.monotonic() + float(environ["QUERY_STRING"].split("=", 1)[1])
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
