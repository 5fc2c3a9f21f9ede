"""Flask JSON: a view that builds a small dict and returns it with jsonify."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    items = [{"id": i, "name": f"item {i}", "price": i * 1.25, "tags": ["a", "b"]} for i in range(10)]
    return jsonify(status="ok", count=len(items), items=items)


application = app
