from django.urls import path

from incidents import feeds, views

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("receipt/<str:token>/", views.receipt, name="receipt"),
    path("incidents/", views.incident_list, name="list"),
    path("incidents/<str:public_id>/", views.incident_detail, name="detail"),
    path("stats/", views.stats_page, name="stats"),
    path("feeds/incidents.atom", feeds.PublishedIncidentsFeed(), name="feed"),
]
