"""Reports what a worker started on systemd's sockets sees: its pid, the
socket-activation variables left in its environment (none should be), and
how many of its descriptors share each socket (a passed descriptor leaked
beside the one carafe serves on would count twice)."""
import json
import os


def _sockets():
    counts = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue  # the directory's own descriptor, closed by now
        if target.startswith("socket:"):
            counts[target] = counts.get(target, 0) + 1
    return counts


def application(environ, start_response):
    body = json.dumps({
        "pid": os.getpid(),
        "env": {k: v for k, v in os.environ.items()
                if k.startswith("LISTEN_") or k == "CARAFE_SYSTEMD_SOCKETS"},
        "sockets": _sockets(),
        "server": [environ["SERVER_NAME"], environ["SERVER_PORT"]],
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
