from django.urls import path

from incidents import feeds
from incidents.views import public

app_name = "incidents"

urlpatterns = [
    path("", public.home, name="home"),
    path("report/", public.report, name="report"),
    path("receipt/<str:token>/", public.receipt, name="receipt"),
    path("incidents/", public.incident_list, name="list"),
    path("incidents/<str:public_id>/", public.incident_detail, name="detail"),
    path("feeds/incidents.atom", feeds.PublishedIncidentsFeed(), name="feed"),
]
