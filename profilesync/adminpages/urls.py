"""Every page of the administration area, under /admin/, each guarded by access.admin_page."""

from django.urls import include, path

from . import (
    audit_views,
    data_sources_views,
    directory_views,
    field_views,
    role_views,
    schedule_views,
    sync_preview_views,
    sync_views,
    write_test_views,
)

urlpatterns = [
    path("fields/", field_views.field_list, name="admin-fields"),
    path("fields/add", field_views.field_add, name="admin-field-add"),
    path("fields/<int:pk>/", field_views.field_edit, name="admin-field-edit"),
    path("fields/<int:pk>/move", field_views.field_move, name="admin-field-move"),
    path("fields/<int:pk>/delete", field_views.field_delete, name="admin-field-delete"),
    path("people/", role_views.people_roles, name="admin-people"),
    path("people/<int:pk>/role", role_views.change_user_role, name="admin-people-role"),
    path("directories/", directory_views.directory_list, name="admin-directories"),
    path("directories/add", directory_views.directory_add, name="admin-directory-add"),
    path("directories/<int:pk>/", directory_views.directory_edit, name="admin-directory-edit"),
    path("directories/<int:pk>/test", directory_views.directory_test, name="admin-directory-test"),
    path("schedule/", schedule_views.schedule_page, name="admin-schedule"),
    path("schedule/<str:name>/", schedule_views.schedule_save, name="admin-schedule-save"),
    path("schedule/<str:name>/run", schedule_views.schedule_run_now, name="admin-schedule-run"),
    path("data-sources/", data_sources_views.data_sources, name="data-sources"),
    path("data-sources/check-pattern/<int:pk>", data_sources_views.check_directory_pattern,
         name="check-pattern"),
    path("data-sources/test-write", write_test_views.write_test_panel, name="write-test-panel"),
    path("sync/", sync_views.sync_report, name="sync-report"),
    path("sync/run-now", sync_views.run_now, name="sync-run-now"),
    path("sync/<int:pk>/", sync_views.sync_run_detail, name="sync-run"),
    path("sync/preview", sync_preview_views.preview_now, name="sync-preview-now"),
    path("sync/preview/<int:pk>/", sync_preview_views.preview_page, name="sync-preview"),
    path("write-back/audit", audit_views.audit_log, name="write-audit"),
    path("notifications/", include("profilesync.adminpages.notification_views")),
]
