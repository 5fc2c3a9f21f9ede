"""Reads a value from the file named by $MASTER_VERSION_FILE once, at
import, so a reload that re-imports the app shows the file's new content.
The body is "v=VALUE pid=PID"; /sleep?s=SECONDS sleeps first. An import
takes $MASTER_IMPORT_SLEEP seconds (default 0), for reloads that overlap;
the value "broken" then fails it, as a bad deploy does, and "killed" ends
it with SIGKILL, as the OOM killer would ("broken-in-2" in
worker 2 only, and at once; "broken-in-2-late" there after 1.5 s;
"broken-in-2-exit" there with os._exit, no traceback). With $MASTER_IMPORT_MARK, a directory, the import first
leaves a file named after the worker's pid there."""
import os
import time
from urllib.parse import parse_qs

with open(os.environ["MASTER_VERSION_FILE"]) as f:
    VALUE = f.read().strip()
if os.environ.get("MASTER_IMPORT_MARK"):
    open(os.path.join(os.environ["MASTER_IMPORT_MARK"], str(os.getpid())), "w").close()
if VALUE.startswith("broken-in-2") and os.environ.get("CARAFE_WORKER_ID") == "2":
    if VALUE == "broken-in-2-late":
        time.sleep(1.5)
    if VALUE == "broken-in-2-exit":
        os._exit(1)
    raise RuntimeError("a broken deploy, in worker 2")
time.sleep(float(os.environ.get("MASTER_IMPORT_SLEEP", "0")))
if VALUE == "killed":
    os.kill(os.getpid(), 9)  # as the OOM killer ends an import that takes too much
if VALUE == "broken":
    raise RuntimeError("a broken deploy")


def application(environ, start_response):
    if environ["PATH_INFO"].startswith("/sleep"):
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        time.sleep(float(qs.get("s", ["1"])[0]))
    data = ("v=%s pid=%d" % (VALUE, os.getpid())).encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))],
    )
    return [data]
