"""A thread of the app's calls write() just as the app returns a
wsgi.file_wrapper over a real file: whichever way the race goes, the client
must get one well-formed response (the written bytes, then the file's, or
the file's alone), never a second head inside the first."""
import os
import tempfile
import threading

FILE = os.path.join(tempfile.mkdtemp(), "small.txt")
with open(FILE, "wb") as f:
    f.write(b"file-body")


def application(environ, start_response):
    go = threading.Event()
    write = start_response("200 OK", [("Content-Type", "text/plain")])

    def late():
        go.wait()
        try:
            write(b"WRITTEN")
        except Exception:
            pass  # the call had ended: write() refuses, as it should

    threading.Thread(target=late, daemon=True).start()
    f = open(FILE, "rb")
    go.set()
    return environ["wsgi.file_wrapper"](f)
