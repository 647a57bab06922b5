from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import capability_required
from accounts.roles import Perm


@capability_required(Perm.REVIEW)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "reviews/queue.html", {"tasks": []})
