"""The site's URLs with the vendor portal mounted, for tests that run before config.urls includes it."""

from django.urls import include, path

from config.urls import urlpatterns as site_urlpatterns

urlpatterns = list(site_urlpatterns)
if not any(getattr(pattern, "namespace", None) == "vendor" for pattern in urlpatterns):
    urlpatterns.insert(0, path("vendor/", include("incidents.urls_vendor")))
