from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic import views

handler404 = views.not_found
urlpatterns = [
    path("", views.home, name="home"),
    path("", include(("scheduling.urls", "scheduling"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("scheduling.api", "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("p/", include("scheduling.patient_urls")),
    path("clinical/", include("scheduling.clinical_urls")),
    path("queues/", include("scheduling.queue_views")),
    path("patients/", include(("patients.urls", "patients"))),
]
