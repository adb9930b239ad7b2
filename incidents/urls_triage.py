"""Staff triage pages, mounted at /triage/ (config/urls.py)."""

from django.urls import path

from incidents.views import triage

app_name = "triage"

urlpatterns = [
    path("", triage.queue, name="queue"),
    path("bulk/", triage.bulk, name="bulk"),
    path("systems/", triage.systems, name="systems"),
    path("<str:public_id>/", triage.incident_page, name="incident"),
    path("<str:public_id>/claim/", triage.claim, name="claim"),
    path("<str:public_id>/assign/", triage.assign, name="assign"),
    path("<str:public_id>/transition/", triage.transition, name="transition"),
    path("<str:public_id>/edit/", triage.edit, name="edit"),
    path("<str:public_id>/classify/", triage.classify, name="classify"),
    path("<str:public_id>/severity/", triage.rate, name="rate"),
    path("<str:public_id>/system/", triage.link_system, name="link_system"),
    path("<str:public_id>/system/new/", triage.create_system, name="create_system"),
    path("<str:public_id>/transcripts/<int:transcript_id>/", triage.edit_transcript, name="transcript"),
    path("<str:public_id>/comments/", triage.add_comment, name="comment"),
    path("<str:public_id>/deadline/", triage.extend_deadline, name="deadline"),
    path("<str:public_id>/reporter/erase/", triage.erase_contact, name="erase_contact"),
    path("<str:public_id>/duplicates/", triage.find_duplicates, name="duplicates"),
    path("<str:public_id>/compare/<str:other_public_id>/", triage.compare, name="compare"),
    path("<str:public_id>/merge/", triage.merge, name="merge"),
]
