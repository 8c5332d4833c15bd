from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import aftercare.urls
import clinical.urls
import patients.urls
import photos.urls
import records.urls
import scheduling.urls
import waitlist.urls
from clinic import second_factor_views, views
from clinic.forms import AdminLoginForm, LoginForm

handler400 = views.bad_request
handler404 = views.not_found
handler403 = views.permission_denied
handler500 = views.server_error
admin.site.login_form = AdminLoginForm
# A namespace may gather the pages of several rooms; each room keeps its own views.
clinical_pages = [
    *clinical.urls.urlpatterns, *scheduling.urls.clinical_urlpatterns, *records.urls.clinical_urlpatterns,
    *photos.urls.urlpatterns,
]  # fmt: skip
second_factor_pages = [
    path("", second_factor_views.manage, name="manage"),
    path("code/", second_factor_views.code_step, name="verify"),
    path("enrol/", second_factor_views.enrol, name="enrol"),
    path("recovery-codes/", second_factor_views.recovery_codes, name="recovery_codes"),
    path("recovery-codes/renew/", second_factor_views.renew_recovery_codes, name="renew_recovery_codes"),
]
queue_pages = [*records.urls.queue_urlpatterns, *waitlist.urls.queue_urlpatterns, *aftercare.urls.queue_urlpatterns]
patient_pages = [*patients.urls.urlpatterns, *records.urls.patient_urlpatterns]

urlpatterns = [
    path("", views.home, name="home"),
    path("", include(("scheduling.urls", "scheduling"))),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/second-factor/", include((second_factor_pages, "second_factor"))),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("api.urls", "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("p/offer/", include((waitlist.urls.patient_urlpatterns, "waitlist_links"))),  # before /p/'s catch-all
    path("p/skin/", include((aftercare.urls.patient_urlpatterns, "aftercare_links"))),  # before /p/'s catch-all
    path("p/", include("outbox.urls")),
    path("me/", include("portal.urls")),
    path("book/", include("portal.consultation_urls")),
    path("clinical/", include((clinical_pages, "clinical"))),
    path("queues/", include((queue_pages, "queues"))),
    path("waitlist/", include((waitlist.urls.staff_urlpatterns, "waitlist"))),
    path("patients/", include((patient_pages, "patients"))),
]
