"""The vendor portal, mounted at /vendor/."""

from django.urls import path

from incidents.views import vendor

app_name = "vendor"

urlpatterns = [
    path("", vendor.portal, name="portal"),
    path("incidents/<str:public_id>/", vendor.incident_detail, name="incident"),
    path("incidents/<str:public_id>/respond/", vendor.respond, name="respond"),
    path("webhooks/", vendor.webhook_list, name="webhooks"),
    path("webhooks/new/", vendor.webhook_create, name="webhook_create"),
    path("webhooks/<int:pk>/", vendor.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/reveal/", vendor.webhook_reveal, name="webhook_reveal"),
    path("webhooks/<int:pk>/ping/", vendor.webhook_ping, name="webhook_ping"),
    path("webhooks/<int:pk>/deactivate/", vendor.webhook_deactivate, name="webhook_deactivate"),
    path("webhooks/<int:pk>/activate/", vendor.webhook_activate, name="webhook_activate"),
    path("webhooks/<int:pk>/deliveries/<int:delivery_pk>/", vendor.delivery_detail, name="delivery"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        vendor.delivery_redeliver,
        name="delivery_redeliver",
    ),
]
