from django.urls import path

from . import views

urlpatterns = [
    path("", views.people_list, name="people"),
    path("people/<int:pk>/", views.profile_page, name="profile"),
    path("people/<int:pk>/picture", views.profile_picture, name="profile-picture"),
]
