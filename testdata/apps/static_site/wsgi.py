"""Static files next to an app: the app answers what --static-map does not."""


def application(environ, start_response):
    body = ("app:" + environ["PATH_INFO"]).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
