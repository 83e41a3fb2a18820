"""URLs included by scheduling/urls.py (namespace "scheduling")."""

urlpatterns = []
