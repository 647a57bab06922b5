from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import capability_required
from accounts.roles import Perm

from .selectors import invoice_list_for_user


@capability_required(Perm.SUBMIT)
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices = invoice_list_for_user(user=request.user).only(
        "id",
        "reference",
        "status",
        "kind",
        "number",
        "seller_name",
        "total_amount",
        "submitted_at",
        "organization__name",
    )
    page = Paginator(invoices, 50).get_page(request.GET.get("page"))
    return render(request, "invoices/list.html", {"page": page})
