"""Importable only when --pythonpath names this directory."""
VALUE = "extramod-from-pythonpath"
