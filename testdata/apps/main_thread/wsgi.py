"""With one Python thread, calls run on the thread that imported the app:
what the import set up for its thread holds in every call. Answers JSON."""
import asyncio
import decimal
import json
import signal
import sqlite3
import threading

decimal.getcontext().prec = 6
_local = threading.local()
_local.conf = "set-at-import"
_db = sqlite3.connect(":memory:")
_import_ident = threading.get_ident()


def _try(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the probe reports any failure
        return "%s: %s" % (type(e).__name__, e)


def _alarm():
    old = signal.signal(signal.SIGALRM, lambda *a: None)
    signal.signal(signal.SIGALRM, old)
    return "ok"


def application(environ, start_response):
    out = {
        "decimal": str(decimal.Decimal(1) / decimal.Decimal(7)),
        "local": getattr(_local, "conf", "<missing>"),
        "sqlite": _try(lambda: _db.execute("select 1").fetchone()[0]),
        "signal": _try(_alarm),
        "loop": _try(lambda: type(asyncio.get_event_loop()).__name__ and "ok"),
        "main": threading.current_thread() is threading.main_thread(),
        "same_ident": threading.get_ident() == _import_ident,
    }
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
