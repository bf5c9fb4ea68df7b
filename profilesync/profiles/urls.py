from django.urls import path

from . import business_card, directory_views, manager_edit, org_views, profile_views

urlpatterns = [
    path("", directory_views.people_list, name="people"),
    path("people/<int:pk>/", profile_views.profile_page, name="profile"),
    path("people/<int:pk>/picture", profile_views.profile_picture, name="profile-picture"),
    path("people/<int:pk>/edit/", profile_views.edit_profile, name="edit-profile"),
    # Reporting lines, business cards and vCards (issue 17).
    path("people/<int:pk>/card", business_card.business_card, name="business-card"),
    path("people/<int:pk>/vcard", business_card.person_vcard, name="person-vcard"),
    path("people/<int:pk>/manager/", manager_edit.edit_manager, name="edit-manager"),
    path("org/", org_views.org_chart, name="org"),
    path("org/<int:pk>/", org_views.org_person, name="org-person"),
    path("org/<int:pk>/reports", org_views.org_reports, name="org-reports"),
]
