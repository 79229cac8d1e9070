"""The user's own API tokens: list, make (the secret is shown once) and revoke.

A new token's secret is rendered in the answer to the POST that made it and nowhere else:
it is never stored, put in a message or a redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import Params
from ..models import ApiToken
from ..permissions import access_own_token
from ..services import tokens
from ..services.base import ServiceError

TEMPLATE = "annotations/account/tokens.html"


def _page(request, *, secret: str = "", created=None, error: str = "", status: int = 200):
    context = {
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk"),
        "secret": secret,
        "created": created,
        "error": error,
        "name_limit": tokens.NAME_LIMIT,
    }
    response = TemplateResponse(request, TEMPLATE, context, status=status)
    response["Cache-Control"] = "private, no-store"  # a new token's secret is on it
    return response


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    if request.method == "GET":
        return _page(request)
    try:
        name = Params(request.POST).text("name", max_length=tokens.NAME_LIMIT, label="the name")
        token, secret = tokens.api_token_create(user=request.user, name=name, actor=request.user)
    except ServiceError as error:
        return _page(request, error=str(error), status=422)
    return _page(request, secret=secret, created=token)


@login_required
@require_POST
def api_token_revoke(request, token_id: int):
    token = access_own_token(request.user, token_id)
    tokens.api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("api-tokens")


urlpatterns = [
    path("account/tokens/", api_tokens, name="api-tokens"),
    path("account/tokens/<id:token_id>/revoke/", api_token_revoke, name="api-token-revoke"),
]
