from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import stats, views

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
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the docs work under our CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
