"""Fails at import: the master must print this traceback once and exit
non-zero instead of respawning workers forever."""


def master_import_explodes():
    raise ValueError("master_import_error: broken at import")


master_import_explodes()


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"unreachable"]
