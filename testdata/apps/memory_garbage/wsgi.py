"""Leaves freed memory in malloc's arena, as a fragmented heap does.

GET /?mb=N allocates N MB in objects of 100 KB (under glibc's mmap
threshold, so they come from the thread's arena), each followed by a small
object that stays: the freed big ones cannot merge into the heap's top,
which free() would trim. The body is "pid=PID"."""
import os
from urllib.parse import parse_qs

_pins = []


def application(environ, start_response):
    mb = int(parse_qs(environ.get("QUERY_STRING", "")).get("mb", ["8"])[0])
    chunks = []
    for i in range(mb * 10):
        chunks.append(bytes([i % 251]) * 100_000)
        _pins.append(b"p" * 600)  # over 512 bytes: from malloc too, between the chunks
    del chunks
    data = ("pid=%d" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]
