"""A PasteDeploy app factory, as Pyramid projects have: the body names the
greeting the ini file set, and /log logs a line through the logger the ini
file's [loggers] configure (with --paste-logger)."""
import logging

log = logging.getLogger("paste_site")


def main(global_config, greeting="unset", **settings):
    here = global_config.get("here", "")

    def application(environ, start_response):
        if environ["PATH_INFO"] == "/log":
            log.warning("paste_site logged this")
        body = ("%s from %s" % (greeting, here)).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    return application
