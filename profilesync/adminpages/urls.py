from django.urls import include, path

from . import directory_views, field_views, role_views, schedule_views

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
    path("notifications/", include("profilesync.adminpages.notification_views")),
]
