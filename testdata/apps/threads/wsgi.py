"""/sleep blocks one Python thread for 1 s; /local shows threading.local per thread;
/name is the OS thread's name, as top -H and ps -L show it, /pyname
Python's name for the thread; /names lists
every thread's name in the process; /file is an 8 MiB wsgi.file_wrapper
response (sent with sendfile); /states counts the thread states that ran
this app's code and are still alive (a persistent one per OS thread that
may run Python; a transient one dies with its thread state), and the
file closes that ran on a thread state new to the app."""
import atexit
import gc
import os
import json
import tempfile
import threading
import time
import weakref
from wsgiref.validate import validator

_local = threading.local()
_seen = threading.local()
_states = weakref.WeakSet()
_lock = threading.Lock()

_fd, _data = tempfile.mkstemp(prefix="carafe-threads-")
os.write(_fd, os.urandom(1 << 23))
os.close(_fd)
atexit.register(os.unlink, _data)


class _Token:
    pass


def _note_state():
    # The token lives in this thread state's threading.local, so it dies
    # with the thread state; _states only holds it weakly.
    if not hasattr(_seen, "token"):
        _seen.token = _Token()
        with _lock:
            _states.add(_seen.token)


_fresh = [0]


def _file():
    """The 8 MiB file, open: a plain file (sendfile takes no other). Its
    finalizer runs as the server drops it after close(), on that thread."""
    f = open(_data, "rb")
    weakref.finalize(f, _closed)
    return f


def _closed():
    # A thread state that never ran this app before: the download's
    # goroutine moved to an OS thread new to Python.
    if not hasattr(_seen, "token"):
        with _lock:
            _fresh[0] += 1
    _note_state()


def _app(environ, start_response):
    _note_state()
    path = environ["PATH_INFO"]
    if path == "/states":
        gc.collect()
        with _lock:
            out = {"states": len(_states), "fresh_closes": _fresh[0]}
    elif path == "/nap":
        time.sleep(0.05)
        out = {"ident": threading.get_ident()}
    elif path == "/sleep":
        time.sleep(1)
        out = {"ident": threading.get_ident()}
    elif path == "/name":
        with open("/proc/self/task/%d/comm" % threading.get_native_id()) as f:
            out = {"name": f.read().strip()}
    elif path == "/pyname":
        out = {"name": threading.current_thread().name}
    elif path == "/names":
        names = []
        for task in os.listdir("/proc/self/task"):
            with open("/proc/self/task/%s/comm" % task) as f:
                names.append(f.read().strip())
        out = {"names": sorted(names)}
    else:
        if not hasattr(_local, "owner"):
            _local.owner, _local.count = threading.get_ident(), 0
        _local.count += 1
        out = {"ident": threading.get_ident(), "owner": _local.owner, "count": _local.count,
               "multithread": environ["wsgi.multithread"]}
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


_validated = validator(_app)


def application(environ, start_response):
    # The validator hides the wrapper's type, which would keep the file
    # off the sendfile path.
    if environ["PATH_INFO"] == "/file":
        _note_state()
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](_file(), 65536)
    return _validated(environ, start_response)
