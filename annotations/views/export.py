"""Views for the export area (filled in by its issue)."""

urlpatterns: list = []
