"""Atom feed of newly published incidents, optionally filtered like a subscription.

``/feeds/incidents.atom?vendor=<slug>``, ``?system=<id>`` or ``?override_type=<code>`` (they
combine). A bad filter is answered with 400 and says which parameter is wrong.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from incidents.access import public_incidents
from incidents.models import AISystem, Incident, OverrideType, Vendor


class FeedFilterForm(forms.Form):
    vendor = forms.ModelChoiceField(queryset=Vendor.objects.all(), to_field_name="slug", required=False)
    system = forms.ModelChoiceField(queryset=AISystem.objects.select_related("vendor"), required=False)
    override_type = forms.ChoiceField(choices=[("", ""), *OverrideType.choices], required=False)


class PublishedIncidentsFeed(Feed):
    feed_type = Atom1Feed
    subtitle = "AI instruction overrides, checked by our staff and published after coordinated disclosure."

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = FeedFilterForm(request.GET)
        if not form.is_valid():
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            return HttpResponseBadRequest(f"Bad feed filter. {problems}\n", content_type="text/plain; charset=utf-8")
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request: HttpRequest, *args, **kwargs) -> dict:
        form = FeedFilterForm(request.GET)
        form.is_valid()
        return {name: value for name, value in form.cleaned_data.items() if value}

    def title(self, obj: dict) -> str:
        parts = []
        if obj.get("vendor"):
            parts.append(obj["vendor"].name)
        if obj.get("system"):
            parts.append(str(obj["system"]))
        if obj.get("override_type"):
            parts.append(OverrideType(obj["override_type"]).label)
        suffix = f" ({', '.join(parts)})" if parts else ""
        return f"Override Watch: newly published incidents{suffix}"

    def link(self, obj: dict) -> str:
        return reverse("incidents:list")

    def items(self, obj: dict):
        incidents = public_incidents().for_list()
        if obj.get("vendor"):
            incidents = incidents.filter(vendor=obj["vendor"])
        if obj.get("system"):
            incidents = incidents.filter(ai_system=obj["system"])
        if obj.get("override_type"):
            incidents = incidents.filter(override_type=obj["override_type"])
        return incidents.order_by("-published_at")[:50]

    def item_title(self, item: Incident) -> str:
        return f"{item.public_id}: {item.title}"

    def item_description(self, item: Incident) -> str:
        # Syndication escapes this; untrusted text stays text in every reader.
        band = item.get_severity_band_display() or "unrated"
        return f"{item.get_override_type_display()} · {item.system_name_reported} · severity {band}"

    def item_pubdate(self, item: Incident) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Incident) -> datetime:
        return item.modified

    def item_categories(self, item: Incident) -> list[str]:
        return [item.get_override_type_display(), item.get_environment_display()]
