from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("sessions/<uuid:session_id>/review/", views.session_review, name="session_review"),
    path("mentors/<slug:slug>/reviews/", views.mentor_reviews, name="mentor_reviews"),
    path("reviews/<uuid:review_id>/reply/", views.review_reply, name="reply"),
    path("reviews/<uuid:review_id>/reply/delete/", views.review_reply_delete, name="reply_delete"),
    path("reviews/<uuid:review_id>/report/", views.review_report, name="report"),
]
