"""The example site `make run` serves on http://127.0.0.1:8000.

A small Flask app: an HTML page, a JSON endpoint and a guestbook form that
posts back to itself. Entries live in memory, per worker process.
"""
import platform
import sys
import threading
import time
from datetime import datetime, timezone

from flask import Flask, jsonify, redirect, render_template, request, url_for

app = Flask(__name__)

_started = time.time()
_lock = threading.Lock()
_entries = []
_MAX_ENTRIES = 20


@app.get("/")
def index():
    with _lock:
        entries = list(reversed(_entries))
    return render_template("index.html", entries=entries, python=platform.python_version())


@app.post("/")
def sign():
    name = request.form.get("name", "").strip()[:40] or "anonymous"
    message = request.form.get("message", "").strip()[:280]
    if message:
        with _lock:
            _entries.append({"name": name, "message": message, "at": datetime.now(timezone.utc)})
            del _entries[:-_MAX_ENTRIES]
    return redirect(url_for("index"), code=303)


@app.get("/api/status")
def status():
    with _lock:
        count = len(_entries)
    return jsonify(
        server=request.environ.get("SERVER_SOFTWARE", "unknown"),
        python=sys.version.split()[0],
        uptime_seconds=round(time.time() - _started, 1),
        entries=count,
        thread=threading.current_thread().name,
    )


@app.get("/hello/<name>")
def hello(name):
    return jsonify(greeting=f"Hello, {name}!")
