"""Views for the agreement area (filled in by its issue)."""

urlpatterns: list = []
