from django.urls import path

from . import directory_views, profile_views

urlpatterns = [
    path("", directory_views.people_list, name="people"),
    path("people/<int:pk>/", profile_views.profile_page, name="profile"),
    path("people/<int:pk>/picture", profile_views.profile_picture, name="profile-picture"),
    path("people/<int:pk>/edit/", profile_views.edit_profile, name="edit-profile"),
]
