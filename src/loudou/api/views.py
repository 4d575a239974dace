"""The page where a user makes and revokes their own API tokens (a new one is shown once)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from loudou.core.errors import InvalidInput, ServiceError
from loudou.core.views import require_post

from .models import ApiToken
from .tokens import create_token, revoke_token


@login_required
def token_page(request: HttpRequest) -> HttpResponse:
    """Your tokens; POST makes a new one and shows it on this answer only."""
    new_token = None
    status = 200
    if request.method == "POST":
        try:
            _token, new_token = create_token(
                actor=request.user, user=request.user, name=request.POST.get("name", "")
            )
        except InvalidInput as exc:
            for message in exc.errors.values():
                messages.error(request, str(message))
            status = 400
        except ServiceError as exc:
            messages.error(request, str(exc))
            status = 403
    tokens = ApiToken.objects.filter(user=request.user).order_by("-id")[:100]
    response = render(
        request, "api/tokens.html", {"tokens": tokens, "new_token": new_token}, status=status
    )
    # A page showing a secret is never cached.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_post
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    revoke_token(actor=request.user, token=token)
    messages.success(request, _("The token is revoked."))
    return redirect("api_tokens")
