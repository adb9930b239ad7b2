"""Forms for the vendor portal: filtering the vendor's incidents, answering one, and webhook endpoints."""

from __future__ import annotations

import ipaddress
import urllib.parse

import django_filters
from django import forms
from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet

from incidents.access import VENDOR_STATUSES
from incidents.models import Incident, Status, Vendor, VendorResponse, WebhookEndpoint

RESPONSE_TEXT_LIMIT = 10_000
# A vendor's receivers are few; the cap keeps the endpoint list one short page.
MAX_ENDPOINTS_PER_VENDOR = 20


class VendorIncidentFilter(django_filters.FilterSet):
    """The portal list's filters. The queryset it gets is already the vendor's own incidents."""

    status = django_filters.ChoiceFilter(
        choices=[(status.value, Status(status).label) for status in VENDOR_STATUSES], empty_label="Any status"
    )
    q = django_filters.CharFilter(label="Search", method="filter_search", max_length=200)

    class Meta:
        model = Incident
        fields = ["status", "q"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        if value.upper().startswith("AIO-"):
            return queryset.filter(public_id=value.upper())
        return queryset.search(value)


# What each answer means, as the vendor chooses it.
KIND_CHOICES = [
    (VendorResponse.Kind.ACKNOWLEDGED, "Acknowledged: we confirm the report and are looking into it"),
    (VendorResponse.Kind.DISPUTED, "Disputed: we do not think this is an override (give your reasons)"),
    (VendorResponse.Kind.FIXED, "Fixed: a fix is released"),
    (VendorResponse.Kind.WONT_FIX, "Won't fix: we will not change this behaviour"),
    (VendorResponse.Kind.STATEMENT, "Public statement: published with the incident (replaces an earlier one)"),
]


class VendorResponseForm(forms.Form):
    kind = forms.ChoiceField(label="Your answer", choices=KIND_CHOICES, widget=forms.RadioSelect)
    text = forms.CharField(
        label="Text",
        required=False,
        max_length=RESPONSE_TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": RESPONSE_TEXT_LIMIT}),
        validators=[ProhibitNullCharactersValidator()],
        help_text="Required for a dispute (your reasons) and a public statement (its text). "
        "Only a public statement is ever shown to the public; staff see every answer.",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, text = cleaned.get("kind"), cleaned.get("text", "")
        if kind == VendorResponse.Kind.DISPUTED and not text.strip():
            self.add_error("text", "Give your reasons for disputing this incident.")
        elif kind == VendorResponse.Kind.STATEMENT and not text.strip():
            self.add_error("text", "Write the statement to publish.")
        return cleaned


class WebhookEndpointForm(forms.ModelForm):
    """A vendor's receiver: an http(s) URL on the public internet."""

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description"]
        labels = {"url": "Payload URL", "description": "Description (optional)"}
        help_texts = {
            "url": "Where we POST signed JSON events, e.g. https://example.com/hooks/override-watch.",
            "description": "What receives these events, so your colleagues can tell endpoints apart.",
        }

    def __init__(self, *args, vendor: Vendor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.vendor = vendor
        # A text input (styled like the others) that still brings up the URL keyboard on phones.
        self.fields["url"].widget = forms.TextInput(
            attrs={"inputmode": "url", "spellcheck": "false", "autocomplete": "off", "maxlength": 500}
        )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise forms.ValidationError("The URL must start with https:// (or http://).")
        host = (parts.hostname or "").lower()
        if not host:
            raise forms.ValidationError("The URL needs a host name.")
        if not getattr(settings, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False) and _is_private_host(host):
            raise forms.ValidationError(f"{host} is not a public address; we can only deliver to the internet.")
        return url

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk is None and self.vendor.webhooks.count() >= MAX_ENDPOINTS_PER_VENDOR:
            raise forms.ValidationError(
                f"{self.vendor.name} already has {MAX_ENDPOINTS_PER_VENDOR} endpoints; "
                "deactivate and reuse one before adding another."
            )
        return cleaned


def _is_private_host(host: str) -> bool:
    """Literal private addresses and localhost; names are checked again, resolved, at each delivery."""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return False
