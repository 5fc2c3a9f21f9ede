"""Looks as if gevent monkey-patched threading as it loaded: a stand-in
gevent.monkey answers is_module_patched("threading") with True, as the
real one does after patch_all(). Answers "ok"."""
import sys
import types

monkey = types.ModuleType("gevent.monkey")
monkey.is_module_patched = lambda name: name == "threading"
gevent = types.ModuleType("gevent")
gevent.monkey = monkey
sys.modules["gevent"] = gevent
sys.modules["gevent.monkey"] = monkey


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
