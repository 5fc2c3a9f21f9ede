"""Django template page: a one-file project whose view renders a template
that extends a base, loops over 20 rows and escapes their text."""

import os

import django
from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import path

HERE = os.path.dirname(os.path.abspath(__file__))

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    INSTALLED_APPS=[],
    USE_TZ=True,
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(HERE, "templates")],
        "OPTIONS": {"loaders": [("django.template.loaders.cached.Loader", [
            "django.template.loaders.filesystem.Loader"])]},
    }],
)
django.setup()

ROWS = [{"id": i, "name": f"Row <{i}> & co", "score": i * 7 % 13} for i in range(20)]


def page(request):
    body = render_to_string("page.html", {"title": "Benchmark page", "rows": ROWS})
    response = HttpResponse(body)
    response["Content-Length"] = str(len(response.content))
    return response


urlpatterns = [path("", page)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
