from django.contrib.auth import views as auth_views
from django.urls import include, path

from profilesync.accounts.forms import ThrottledLoginForm
from profilesync.api.routes import api
from profilesync.sync import views as sync_views
from profilesync.writeback import views as writeback_views

urlpatterns = [
    path("", include("profilesync.profiles.urls")),
    path("api/v1/", api.urls),
    path("", include("profilesync.monitoring.urls")),
    path("login/", auth_views.LoginView.as_view(authentication_form=ThrottledLoginForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="people"), name="logout"),
    path("admin/data-sources/", sync_views.data_sources, name="data-sources"),
    path("admin/data-sources/check-pattern/<int:pk>", sync_views.check_directory_pattern,
         name="check-pattern"),
    path("admin/data-sources/test-write", sync_views.write_test_panel, name="write-test-panel"),
    path("admin/sync/", sync_views.sync_report, name="sync-report"),
    path("admin/sync/run-now", sync_views.run_now, name="sync-run-now"),
    path("admin/sync/<int:pk>/", sync_views.sync_run_detail, name="sync-run"),
    path("admin/write-back/audit", writeback_views.audit_log, name="write-audit"),
    path("admin/", include("profilesync.adminpages.urls")),
]
