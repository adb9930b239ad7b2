from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import exports, stats, views, webhook_views

app_name = "api"

urlpatterns = [
    path("incidents/", views.IncidentList.as_view(), name="incident-list"),
    path("incidents/<str:public_id>/", views.IncidentDetail.as_view(), name="incident-detail"),
    path("incidents/<str:public_id>/transcript/", views.IncidentTranscript.as_view(), name="incident-transcript"),
    path("incidents/<str:public_id>/responses/", views.IncidentResponses.as_view(), name="incident-responses"),
    path("incidents/<str:public_id>/transitions/", views.IncidentTransitions.as_view(), name="incident-transitions"),
    path("stats/summary/", stats.StatsSummary.as_view(), name="stats-summary"),
    path("stats/timeseries/", stats.StatsTimeseries.as_view(), name="stats-timeseries"),
    path("transcripts/parse/", views.TranscriptParse.as_view(), name="transcript-parse"),
    path("exports/incidents.csv", exports.IncidentCsvExport.as_view(), name="export-incidents-csv"),
    path("exports/incidents.jsonl", exports.IncidentJsonLinesExport.as_view(), name="export-incidents-jsonl"),
    path("exports/eval-dataset.jsonl", exports.EvalDatasetExport.as_view(), name="export-eval-dataset"),
    path("webhooks/", webhook_views.WebhookList.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>/", webhook_views.WebhookDetail.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/ping/", webhook_views.WebhookPing.as_view(), name="webhook-ping"),
    path("webhooks/<int:pk>/deliveries/", webhook_views.WebhookDeliveries.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/",
        webhook_views.WebhookDeliveryDetail.as_view(),
        name="webhook-delivery",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/",
        webhook_views.WebhookRedeliver.as_view(),
        name="webhook-redeliver",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the docs work under our CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under the API: a JSON 404, never the site's HTML page.
    re_path(r"^.*$", views.ApiNotFound.as_view(), name="not-found"),
]
