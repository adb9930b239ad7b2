"""Atom feed of newly published incidents."""

from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed

from incidents.access import public_incidents
from incidents.models import Incident


class PublishedIncidentsFeed(Feed):
    feed_type = Atom1Feed
    title = "Override Watch: newly published incidents"
    link = reverse_lazy("incidents:list")
    subtitle = "AI instruction overrides, checked by our staff and published after coordinated disclosure."

    def items(self):
        return public_incidents().for_list().order_by("-published_at")[:50]

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
