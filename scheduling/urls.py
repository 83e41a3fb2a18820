from django.urls import include, path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("mentors/<slug:slug>/slots/", views.slots_json, name="slots"),
    path("", include("scheduling.urls_availability")),
    path("", include("scheduling.urls_booking")),
]
