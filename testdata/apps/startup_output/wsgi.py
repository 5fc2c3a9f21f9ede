"""Writes to stdout, from Python and from C, then fails at import.

What it wrote explains the failure: it must reach the log although the
worker exits without finalising Python: a piece of a line print() left
pending, and a line C's stdio (a C extension's puts) wrote.
"""
import ctypes

print("python-piece-before-error", end="")
ctypes.CDLL(None).puts(b"c-line-before-error")
raise RuntimeError("startup_output fails on purpose")
