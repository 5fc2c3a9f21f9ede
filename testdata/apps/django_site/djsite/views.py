import hashlib

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def page(request):
    return render(request, "page.html", {"title": "Django on carafe", "items": ["one", "two", "three"]})


def info(request):
    return JsonResponse({"framework": "django", "method": request.method, "q": request.GET.get("q", "")})


@csrf_exempt
@require_POST
def form(request):
    return JsonResponse({"fields": {k: request.POST.getlist(k) for k in request.POST}})


@csrf_exempt
@require_POST
def upload(request):
    f = request.FILES["file"]
    data = f.read()
    return JsonResponse(
        {
            "filename": f.name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "note": request.POST.get("note"),
        }
    )


@csrf_exempt
@require_POST
def raw(request):
    body = request.body
    return JsonResponse(
        {
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "content_length": request.META.get("CONTENT_LENGTH"),
        }
    )


def boom(request):
    raise RuntimeError("django_site boom")
