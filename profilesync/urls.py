from django.contrib.auth import views as auth_views
from django.urls import include, path

from profilesync.accounts.forms import ThrottledLoginForm
from profilesync.api.routes import api

urlpatterns = [
    path("", include("profilesync.profiles.urls")),
    path("api/v1/", api.urls),
    path("", include("profilesync.monitoring.urls")),
    path("login/", auth_views.LoginView.as_view(authentication_form=ThrottledLoginForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="people"), name="logout"),
    path("admin/", include("profilesync.adminpages.urls")),
]
