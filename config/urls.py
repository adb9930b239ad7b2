from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from incidents.forms import SignInForm

if settings.OTP_REQUIRED_FOR_STAFF:
    # django-otp's documented switch: the admin then requires a verified second factor.
    admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # Staff add their TOTP code here; other users leave it empty.
    path("accounts/login/", LoginView.as_view(authentication_form=SignInForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/", include("incidents.urls_account")),
    path("triage/", include("incidents.urls_triage")),
    path("vendor/", include("incidents.urls_vendor")),
    path("stats/", include("incidents.urls_stats")),
    path("subscriptions/", include("incidents.urls_subscriptions")),
    path("", include("incidents.urls")),
]
