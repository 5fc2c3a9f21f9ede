"""A daemon thread stuck writing to stdout when the worker stops.

stdout is made a pipe that nobody reads, so the thread's print blocks in
write(2) once the pipe is full, and stays there while the worker
finalises Python at its stop. The stop must still be clean: with a
buffered binary layer, the thread held the BufferedWriter's lock and the
final flush aborted the worker ("Fatal Python error: _enter_buffered_busy").
"""
import os
import threading

_r, _w = os.pipe()
os.dup2(_w, 1)


def _spam():
    while True:
        print("x" * 1000)  # blocks for good once the pipe's 64 KiB are full


threading.Thread(target=_spam, daemon=True).start()


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
