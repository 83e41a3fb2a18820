from django.urls import path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("mentors/<slug:slug>/slots/", views.slots_json, name="slots"),
]
