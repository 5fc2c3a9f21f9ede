"""With one Python thread, calls run on the thread that imported the app:
what the import set up for its thread holds in every call. Answers JSON."""
import asyncio
import decimal
import json
import os
import signal
import sqlite3
import threading
import time

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


class _Timeout(Exception):
    pass


def _raise(*args):
    raise _Timeout()


def _alarm_cuts_sleep():
    # A timeout decorator's way: the alarm must cut the blocking call short.
    old = signal.signal(signal.SIGALRM, _raise)
    start = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        time.sleep(3)
        return "slept on"
    except _Timeout:
        return "cut" if time.monotonic() - start < 1 else "late"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def application(environ, start_response):
    out = {
        "decimal": str(decimal.Decimal(1) / decimal.Decimal(7)),
        "local": getattr(_local, "conf", "<missing>"),
        "sqlite": _try(lambda: _db.execute("select 1").fetchone()[0]),
        "signal": _try(_alarm),
        "loop": _try(lambda: type(asyncio.get_event_loop()).__name__ and "ok"),
        "main": threading.current_thread() is threading.main_thread(),
        "same_ident": threading.get_ident() == _import_ident,
        "first_thread": threading.get_native_id() == os.getpid(),
        "alarm": _try(_alarm_cuts_sleep),
    }
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
