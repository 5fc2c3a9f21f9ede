from django.urls import path

from djsite import views

urlpatterns = [
    path("", views.page),
    path("api/info", views.info),
    path("form", views.form),
    path("upload", views.upload),
    path("raw", views.raw),
    path("boom", views.boom),
]
