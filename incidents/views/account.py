"""The signed-in user's own account pages: their API tokens (create, list, revoke).

A token is shown once, on the page that creates it, and never again: only its hash is stored.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from incidents import access, tokens
from incidents.models import ApiToken

EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses it, e.g. “nightly sync” or “guardrail monitor”.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires after",
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
        help_text="A token that never expires stays valid until you revoke it.",
    )


def _needs_second_factor(request: HttpRequest) -> bool:
    """Staff create tokens only from a session that passed the second factor, where one is required."""
    user = request.user
    return access.is_staff(user) and settings.OTP_REQUIRED_FOR_STAFF and not user.is_verified()


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if _needs_second_factor(request):
        return redirect_to_login(request.get_full_path())
    allowed = tokens.may_hold_tokens(request.user)
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST":
        if not allowed:
            return _render_list(request, ApiTokenForm(), allowed, status=403)
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            try:
                token, raw = tokens.issue_token(
                    request.user,
                    name=form.cleaned_data["name"],
                    expires_in=timedelta(days=days) if days else None,
                )
            except tokens.TokenError as exc:
                form.add_error(None, str(exc))
            else:
                response = render(request, "account/token_created.html", {"token": token, "raw": raw})
                # The only time the token exists in clear: keep it out of every cache and history.
                response["Cache-Control"] = "no-store"
                response["Referrer-Policy"] = "same-origin"
                return response
        return _render_list(request, form, allowed, status=400)
    return _render_list(request, form, allowed)


def _render_list(request: HttpRequest, form: ApiTokenForm, allowed: bool, status: int = 200) -> HttpResponse:
    rows = [(token, tokens.token_state(token)) for token in request.user.api_tokens.all()[:100]]
    return render(
        request,
        "account/tokens.html",
        {
            "form": form,
            "allowed": allowed,
            "rows": rows,
            "vendor": access.vendor_of(request.user),
            "is_staff": access.is_staff(request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's token is no different from a missing one.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if request.method == "POST":
        if tokens.revoke_token(token):
            messages.success(request, f"The token “{token.name}” is revoked; it no longer works.")
        return redirect("account:tokens")
    return render(request, "account/token_revoke.html", {"token": token, "state": tokens.token_state(token)})
