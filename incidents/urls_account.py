from django.urls import path

from incidents.views import account

app_name = "account"

urlpatterns = [
    path("tokens/", account.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", account.token_revoke, name="revoke-token"),
]
