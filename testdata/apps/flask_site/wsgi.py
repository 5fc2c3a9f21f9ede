"""A small real Flask site served end to end by the integration tests:
a Jinja page, a JSON endpoint, a form POST, a multipart upload, a chunked
upload and a view that raises."""
import hashlib

from flask import Flask, jsonify, render_template, request

app = Flask(__name__)


@app.get("/")
def index():
    return render_template("index.html", title="Flask on carafe", items=["alpha", "beta", "gamma"])


@app.get("/api/greet")
def greet():
    name = request.args.get("name", "world")
    return jsonify(greeting="hello " + name, length=len(name))


@app.post("/form")
def form():
    return jsonify(fields=request.form.to_dict(flat=False))


@app.post("/upload")
def upload():
    f = request.files["file"]
    data = f.read()
    return jsonify(
        filename=f.filename,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        note=request.form.get("note"),
    )


@app.post("/raw")
def raw():
    data = request.get_data()
    return jsonify(size=len(data), sha256=hashlib.sha256(data).hexdigest())


@app.get("/boom")
def boom():
    raise RuntimeError("flask_site boom")
