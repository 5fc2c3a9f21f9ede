"""Says which worker answered: the body is "pid=PID" (X-Count: how many
requests this process served). /sleep?s=SECONDS sleeps first, /boom raises,
/uid answers "uid=U gid=G" of the worker process, /secret the SECRET
variable of its environment (and whether carafe's own file hand-over
reached the app: it must not), /exit?code=N ends the worker with
os._exit(N) mid-request."""
import itertools
import os
import time
from urllib.parse import parse_qs

_count = itertools.count(1)


def application(environ, start_response):
    n = next(_count)
    path = environ["PATH_INFO"]
    if path == "/exit":
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        os._exit(int(qs.get("code", ["3"])[0]))
    if path == "/boom":
        raise RuntimeError("master_pid boom")
    if path == "/secret":
        body = "%s %s" % (os.environ.get("SECRET"), "CARAFE_CONFIG_FILES" in os.environ)
    elif path == "/uid":
        body = "uid=%d gid=%d euid=%d" % (os.getuid(), os.getgid(), os.geteuid())
    else:
        if path.startswith("/sleep"):
            qs = parse_qs(environ.get("QUERY_STRING", ""))
            time.sleep(float(qs.get("s", ["1"])[0]))
        body = "pid=%d" % os.getpid()
    data = body.encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(data))),
            ("X-Count", str(n)),
        ],
    )
    return [data]
