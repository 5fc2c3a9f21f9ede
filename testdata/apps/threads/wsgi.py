"""/sleep blocks one Python thread for 1 s; /local shows threading.local per thread;
/name is the OS thread's name, as top -H and ps -L show it; /names lists
every thread's name in the process."""
import os
import json
import threading
import time
from wsgiref.validate import validator

_local = threading.local()


def _app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sleep":
        time.sleep(1)
        out = {"ident": threading.get_ident()}
    elif path == "/name":
        with open("/proc/self/task/%d/comm" % threading.get_native_id()) as f:
            out = {"name": f.read().strip()}
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


application = validator(_app)
