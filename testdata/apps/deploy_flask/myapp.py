"""The Flask app of the deployment tests (tests/deploy_*_test.go), laid out
as the seeds deploy it: this module plus app.wsgi for mod_wsgi-style
loading, and public/ as the web server's document root, whose static/
files nginx or Apache serve without asking the app."""
import atexit
import hashlib
import os
import shutil
import tempfile
import time

from flask import Flask, jsonify, request, send_file

here = os.path.dirname(os.path.abspath(__file__))
# Without a web server in front, Flask serves public/static itself.
app = Flask(__name__, static_folder=os.path.join(here, "public", "static"))

DOWNLOAD_SIZE = 20 << 20


@app.get("/")
def index():
    return jsonify(query=request.query_string.decode("latin-1"), args=request.args.to_dict(flat=False))


@app.post("/form")
def form():
    return jsonify(fields=request.form.to_dict(flat=False))


@app.post("/upload")
def upload():
    data = request.get_data()
    return jsonify(
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_length=request.environ.get("CONTENT_LENGTH"),
        transfer_encoding=request.environ.get("HTTP_TRANSFER_ENCODING"),
    )


@app.post("/refuse")
def refuse():
    # Answers an upload without reading it, with more than the socket
    # buffers hold: Apache sends the whole body before it reads the answer.
    return app.response_class(b"r" * (8 << 20), status=200, mimetype="application/octet-stream")


def _pattern(n):
    # Deterministic bytes (the test recomputes them): block i of 64 KiB is
    # sha256(str(i)) repeated.
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(str(i).encode()).digest() * 2048
        i += 1
    return bytes(out[:n])


_DOWNLOAD = _pattern(DOWNLOAD_SIZE)


@app.get("/download")
def download():
    return app.response_class(_DOWNLOAD, mimetype="application/octet-stream")


# The same bytes in a file, for answers through wsgi.file_wrapper.
_DOWNLOAD_FILE = os.path.join(tempfile.mkdtemp(prefix="deploy-flask-"), "download.bin")
with open(_DOWNLOAD_FILE, "wb") as _f:
    _f.write(_DOWNLOAD)
atexit.register(shutil.rmtree, os.path.dirname(_DOWNLOAD_FILE), True)


@app.post("/refuse-file")
def refuse_file():
    # /refuse with a file answer: sent by sendfile over TCP, through a
    # buffer over a unix socket.
    return send_file(_DOWNLOAD_FILE, mimetype="application/octet-stream")


@app.get("/slow")
def slow():
    # Holds its thread for 0.3 s: more of these at once than there are
    # threads wait for one, as requests do under load.
    time.sleep(0.3)
    return "slept"


@app.get("/whoami")
def whoami():
    env = request.environ
    return jsonify(
        script_name=env.get("SCRIPT_NAME"),
        path_info=env.get("PATH_INFO"),
        remote_addr=env.get("REMOTE_ADDR"),
        has_remote_addr="REMOTE_ADDR" in env,
        url_scheme=env.get("wsgi.url_scheme"),
        multithread=env.get("wsgi.multithread"),
        server_name=env.get("SERVER_NAME"),
        host=request.host,
        # Set by Apache's mod_proxy_http, not by the uwsgi protocol.
        forwarded_host=env.get("HTTP_X_FORWARDED_HOST"),
        forwarded_for=env.get("HTTP_X_FORWARDED_FOR"),
    )
