"""Signed-in analysts follow a vendor, an AI system or a kind of override."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from incidents import digests
from incidents.models import AISystem, OverrideType, Subscription, Vendor


class SubscriptionForm(forms.Form):
    follow = forms.ChoiceField(label="Follow")
    frequency = forms.ChoiceField(
        label="Email me", choices=Subscription.Frequency.choices, initial=Subscription.Frequency.WEEKLY
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["follow"].choices = [
            ("", "— choose —"),
            ("Vendors", [(f"vendor:{slug}", name) for slug, name in Vendor.objects.values_list("slug", "name")]),
            ("AI systems", [(f"system:{s.pk}", str(s)) for s in AISystem.objects.select_related("vendor")]),
            ("Kinds of override", [(f"type:{value}", label) for value, label in OverrideType.choices]),
        ]

    def clean_follow(self) -> dict:
        kind, _, key = self.cleaned_data["follow"].partition(":")
        if kind == "vendor":
            target = {"vendor": Vendor.objects.get(slug=key)}
        elif kind == "system":
            target = {"ai_system": AISystem.objects.select_related("vendor").get(pk=int(key))}
        else:
            target = {"override_type": key}
        if self.user.subscriptions.filter(**target).exists():
            raise forms.ValidationError("You already follow this; change how often below your list instead.")
        return target

    def save(self) -> Subscription:
        return Subscription.objects.create(
            user=self.user, frequency=self.cleaned_data["frequency"], **self.cleaned_data["follow"]
        )


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        subscription = form.save()
        messages.success(request, f"You now follow {digests.label(subscription).lower()}.")
        return redirect("subscriptions:index")
    subscriptions = [
        (s, digests.label(s), digests.feed_url(s))
        for s in request.user.subscriptions.select_related("vendor", "ai_system__vendor").order_by("created", "id")
    ]
    return render(
        request,
        "subscriptions/index.html",
        {"form": form, "subscriptions": subscriptions, "has_email": bool(request.user.email)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def change(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk, user=request.user)
    frequency = request.POST.get("frequency", "")
    if frequency not in Subscription.Frequency.values:
        messages.error(request, "Choose how often: as they are published, or weekly.")
        return redirect("subscriptions:index")
    Subscription.objects.filter(pk=subscription.pk).update(frequency=frequency)
    messages.success(request, f"Updated: {digests.label(subscription).lower()}.")
    return redirect("subscriptions:index")


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk, user=request.user)
    subscription.delete()
    messages.success(request, f"You no longer follow {digests.label(subscription).lower()}.")
    return redirect("subscriptions:index")
