"""Reads a body its client abandons: every read after the failed one must
fail too, never look like the body's end. Logs what each read did, and
where tell() says the body ended. /raise catches the failed read and
raises ZeroDivisionError."""


def _read(environ, how):
    stream = environ["wsgi.input"]
    try:
        if how == "read":
            data = stream.read()
        elif how == "readline":
            data = stream.readline()
        elif how == "readlines":
            data = b"".join(stream.readlines())
        else:
            data = b"".join(stream)
        return "%d bytes" % len(data)
    except OSError as e:
        return "OSError(%s)" % e


def application(environ, start_response):
    if environ["PATH_INFO"] == "/raise":
        # The app catches the failed read, then fails on its own: its
        # error is its own, and its traceback is logged.
        _read(environ, "read")
        return 1 // 0
    got = [_read(environ, how) for how in ("read", "read", "readline", "readlines", "iter")]
    got.append("tell %d" % environ["wsgi.input"].tell())
    environ["wsgi.errors"].write("input_abort: %s\n" % "; ".join(got))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]
