from django.urls import path

from incidents.views import subscriptions

app_name = "subscriptions"

urlpatterns = [
    path("", subscriptions.index, name="index"),
    path("<int:pk>/frequency/", subscriptions.change, name="change"),
    path("<int:pk>/delete/", subscriptions.delete, name="delete"),
]
