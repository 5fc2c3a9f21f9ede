"""Reports how a (chunked) request body looked to the app, as JSON."""
import hashlib
import json


def application(environ, start_response):
    data = environ["wsgi.input"].read()
    info = {
        "content_length": environ.get("CONTENT_LENGTH"),
        "transfer_encoding": environ.get("HTTP_TRANSFER_ENCODING"),
        "input_terminated": environ.get("wsgi.input_terminated"),
        "len": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "again": len(environ["wsgi.input"].read()),
    }
    body = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
