from django.urls import path

from . import views

app_name = "mentorship"

urlpatterns = [
    path("mentors/", views.directory, name="directory"),
    path("mentors/<slug:slug>/", views.mentor_detail, name="mentor_detail"),
    path("mentors/<slug:slug>/edit/", views.mentor_edit, name="mentor_edit"),
    path("become-a-mentor/", views.become_mentor, name="become_mentor"),
    path("become-a-mentee/", views.become_mentee, name="become_mentee"),
    path("me/mentee/", views.mentee_edit, name="mentee_edit"),
]
