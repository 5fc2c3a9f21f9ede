"""threading is first imported inside a request, not at import.

threading takes the thread that imports it for the main thread, and
Python's finalisation waits for that thread's end: a request's thread
never ends. carafe imports threading on the interpreter's main thread
first. / answers whether threading.main_thread() is the request's thread
("main" is wrong with more than one Python thread, whose calls run on
threads of their own; right with one, whose calls run on the main
thread); the atexit handler proves finalisation ran.
Nothing here may import threading at load time (atexit and sys do not).
"""
import atexit
import sys


def _bye():
    sys.stderr.write("shutdown_lazy_threading: atexit ran\n")
    sys.stderr.flush()


atexit.register(_bye)


def application(environ, start_response):
    import threading

    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"main" if threading.main_thread() is threading.current_thread() else b"not main"]
