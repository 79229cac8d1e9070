"""Views for the manage area (filled in by its issue)."""

urlpatterns: list = []
