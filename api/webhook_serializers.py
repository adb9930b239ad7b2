"""Webhook endpoints and their delivery log in the API.

A vendor member manages their vendor's endpoints (every event about the vendor's incidents);
an analyst or staff member manages their own filtered endpoints (incidents published that match
``filters``, the incident list's own query parameters). URLs are checked by the vendor portal's
form, so the web and the API accept exactly the same endpoints. The signing secret is in the answer
to the creation only.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from rest_framework import serializers

from api.serializers import iso
from incidents.filters import IncidentFilter
from incidents.models import Incident, Vendor, WebhookDelivery, WebhookEndpoint
from incidents.vendor_forms import MAX_ENDPOINTS_PER_VENDOR, WebhookEndpointForm

# An analyst's tools are few, like a vendor's receivers.
MAX_ENDPOINTS_PER_OWNER = MAX_ENDPOINTS_PER_VENDOR
FILTER_NAMES = tuple(IncidentFilter.base_filters)
FILTERS_HELP = (
    "Analysts' endpoints only: the incident list's query parameters (e.g. "
    '`{"vendor": "acme", "override_type": "shutdown_resisted", "exclude_lab": "true"}`); '
    "the endpoint hears about newly published incidents that match. Empty means every published incident."
)


class OwnedEndpointForm(WebhookEndpointForm):
    """The portal's endpoint form for an analyst's endpoint: no vendor, a cap per owner."""

    def __init__(self, *args, owner: AbstractBaseUser, **kwargs) -> None:
        super().__init__(*args, vendor=None, **kwargs)
        self.owner = owner

    def clean(self) -> dict:
        cleaned = forms.ModelForm.clean(self)
        owned = WebhookEndpoint.objects.filter(owner=self.owner, vendor__isnull=True)
        if self.instance.pk is None and owned.count() >= MAX_ENDPOINTS_PER_OWNER:
            raise forms.ValidationError(
                f"You already have {MAX_ENDPOINTS_PER_OWNER} endpoints; deactivate and reuse one before adding another."
            )
        return cleaned


def endpoint_url(endpoint: WebhookEndpoint) -> str:
    return reverse("api:webhook-detail", args=[endpoint.pk])


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField(help_text="Where the signed events are POSTed.")
    description = serializers.CharField(allow_blank=True)
    scope = serializers.ChoiceField(
        choices=[("vendor", "vendor"), ("filtered", "filtered")],
        help_text="`vendor`: every event about your vendor's incidents; `filtered`: published incidents matching "
        "`filters`.",
    )
    vendor = serializers.CharField(allow_null=True, help_text="The vendor's slug, for vendor endpoints.")
    filters = serializers.DictField(child=serializers.CharField(), help_text=FILTERS_HELP)
    active = serializers.BooleanField(help_text="A deactivated endpoint receives nothing until activated again.")
    created = serializers.DateTimeField()
    created_by = serializers.CharField(help_text="Who added it.")
    deliveries_url = serializers.CharField(help_text="The delivery log.")

    def to_representation(self, endpoint: WebhookEndpoint) -> dict:
        url = endpoint_url(endpoint)
        return {
            "id": endpoint.pk,
            "url": endpoint.url,
            "description": endpoint.description,
            "scope": "vendor" if endpoint.vendor_id else "filtered",
            "vendor": endpoint.vendor.slug if endpoint.vendor_id else None,
            "filters": dict(endpoint.filters or {}),
            "active": endpoint.active,
            "created": iso(endpoint.created),
            "created_by": endpoint.owner.get_username(),
            "deliveries_url": url + "deliveries/",
        }


class NewWebhookEndpointSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret: shown only now. Verify `X-OverrideWatch-Signature` with it."
    )

    def to_representation(self, endpoint: WebhookEndpoint) -> dict:
        return {**super().to_representation(endpoint), "secret": endpoint.secret}


def _filter_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


class WebhookEndpointWriteSerializer(serializers.Serializer):
    """Creating (url required) or changing (every field optional) an endpoint."""

    url = serializers.URLField(max_length=500, help_text="An http(s) URL on the public internet.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    filters = serializers.JSONField(required=False, help_text=FILTERS_HELP)
    active = serializers.BooleanField(required=False, help_text="Set false to deactivate, true to activate again.")

    def __init__(self, *args, vendor: Vendor | None = None, owner: AbstractBaseUser | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.vendor, self.owner = vendor, owner

    def validate_filters(self, value: Any) -> dict[str, str]:
        if value in (None, {}):
            return {}
        if self.vendor is not None:
            raise serializers.ValidationError(
                "Your vendor's endpoints hear about every incident of your vendor; filters are for analysts' endpoints."
            )
        if not isinstance(value, dict):
            raise serializers.ValidationError("Give the filters as an object of query parameters.")
        unknown = sorted(set(value) - set(FILTER_NAMES))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown filter {', '.join(unknown)}; use the incident list's: {', '.join(FILTER_NAMES)}."
            )
        filters: dict[str, str] = {}
        for name, raw in value.items():
            text = _filter_value(raw)
            if text is None:
                raise serializers.ValidationError(f"{name}: give a string, a number or true/false.")
            if text.strip():
                filters[name] = text
        # The list's own FilterSet, as the deliveries will apply it (to published incidents).
        filterset = IncidentFilter(filters, queryset=Incident.objects.published())
        if not filterset.is_valid():
            raise serializers.ValidationError(
                [f"{name}: {message}" for name, errors in filterset.errors.items() for message in errors]
            )
        return filters

    def validate(self, attrs: dict) -> dict:
        instance: WebhookEndpoint | None = self.instance
        data = {
            "url": attrs.get("url", instance.url if instance else ""),
            "description": attrs.get("description", instance.description if instance else ""),
        }
        # The form gets a copy: an invalid change must leave the endpoint as it was.
        target = copy.copy(instance) if instance is not None else None
        if self.vendor is not None:
            form = WebhookEndpointForm(data, instance=target, vendor=self.vendor)
        else:
            form = OwnedEndpointForm(data, instance=target, owner=self.owner)
        if not form.is_valid():
            errors = {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}
            raise serializers.ValidationError(errors)
        attrs["form"] = form
        return attrs

    def create(self, validated_data: dict) -> WebhookEndpoint:
        endpoint = validated_data["form"].save(commit=False)
        endpoint.vendor, endpoint.owner = self.vendor, self.owner
        endpoint.filters = validated_data.get("filters", {})
        endpoint.active = validated_data.get("active", True)
        endpoint.save()
        return endpoint

    def update(self, instance: WebhookEndpoint, validated_data: dict) -> WebhookEndpoint:
        changed = validated_data["form"].instance
        instance.url, instance.description = changed.url, changed.description
        if "filters" in validated_data:
            instance.filters = validated_data["filters"]
        if "active" in validated_data:
            instance.active = validated_data["active"]
        instance.save(update_fields=["url", "description", "filters", "active"])
        return instance


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Also sent as `X-OverrideWatch-Delivery`.")
    event = serializers.CharField(help_text="e.g. `incident.vendor_notified`, `incident.published`, `ping`.")
    state = serializers.ChoiceField(
        choices=[("pending", "pending"), ("delivered", "delivered"), ("failed", "failed")],
        help_text="`delivered` once an attempt got a 2xx; `failed` while no attempt has (it is retried).",
    )
    created = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    response_excerpt = serializers.CharField(allow_blank=True, help_text="The start of your receiver's answer.")
    delivered_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, delivery: WebhookDelivery) -> dict:
        state = "delivered" if delivery.delivered_at is not None else ("failed" if delivery.attempts else "pending")
        return {
            "id": delivery.pk,
            "event": delivery.event,
            "state": state,
            "created": iso(delivery.created),
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
            "response_excerpt": delivery.response_excerpt,
            "delivered_at": iso(delivery.delivered_at),
        }


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    payload = serializers.JSONField(help_text="The JSON body sent (the same on every redelivery).")

    def to_representation(self, delivery: WebhookDelivery) -> dict:
        return {**super().to_representation(delivery), "payload": delivery.payload}
