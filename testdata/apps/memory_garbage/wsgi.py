"""Leaves freed memory in malloc's arena, as a fragmented heap does.

GET /?mb=N allocates N MB in objects of 100 KB (under glibc's mmap
threshold, so they come from the thread's arena), each followed by a small
object that stays: the freed big ones cannot merge into the heap's top,
which free() would trim. The body is "pid=PID adjacent=K", K the freed big
objects that still touch one another.

A small object goes where malloc finds room first: into an earlier
request's holes, not above the big one just made, and then the big ones
sit side by side and merge. So the small ones are made until one lands
above the big one (CPython's id() is the object's address); those that
landed elsewhere stay too, filling the old holes, a few hundred KB at
most."""
import os
from urllib.parse import parse_qs

_pins = []
BIG = 100_000
PIN = 600  # over 512 bytes: from malloc too


def application(environ, start_response):
    mb = int(parse_qs(environ.get("QUERY_STRING", "")).get("mb", ["8"])[0])
    chunks = []
    for i in range(mb * 10):
        chunk = bytes([i % 251]) * BIG
        for _ in range(1000):
            pin = bytes(PIN)  # a new object each time, unlike a constant
            _pins.append(pin)
            if id(pin) > id(chunk):
                break
        chunks.append(chunk)
    addrs = sorted(id(c) for c in chunks)
    adjacent = sum(1 for a, b in zip(addrs, addrs[1:]) if b - a < BIG + 64)
    del chunks
    data = ("pid=%d adjacent=%d" % (os.getpid(), adjacent)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]
