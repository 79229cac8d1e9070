"""The JSON API at ``/api/v1/`` (django-ninja): one module per area, calling the same
services, selectors and ``permissions`` as the pages, with no rules of its own."""
