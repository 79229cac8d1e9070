"""Views for the review area (filled in by its issue)."""

urlpatterns: list = []
