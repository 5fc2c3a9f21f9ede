"""Imports every extension module of the standard library (lib-dynload)
and answers with those whose import failed for an undefined symbol: a
symbol of libpython the static link left out ("N modules; 0 with
undefined symbols")."""
import importlib
import os
import sysconfig


def application(environ, start_response):
    d = os.path.join(sysconfig.get_paths()["platstdlib"], "lib-dynload")
    bad, n = [], 0
    for f in sorted(os.listdir(d)):
        if not f.endswith(".so"):
            continue
        n += 1
        try:
            importlib.import_module(f.split(".")[0])
        except ImportError as e:
            if "undefined symbol" in str(e):
                bad.append("%s: %s" % (f, e))
    body = ("%d modules; %d with undefined symbols\n" % (n, len(bad)) + "\n".join(bad)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
