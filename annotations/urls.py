"""Each view module owns its URL patterns; this list only gathers them.

Every pattern here is enumerated by the authorization matrix test: a new URL without an
entry there makes that test fail. Ids in paths are ``<id:...>`` (see ``converters``).
"""

from .views import agreement, audit, coding, export, invitations, manage, review, tokens, work

urlpatterns = [
    *work.urlpatterns,
    *coding.urlpatterns,
    *manage.urlpatterns,
    *agreement.urlpatterns,
    *review.urlpatterns,
    *export.urlpatterns,
    *audit.urlpatterns,
    *invitations.urlpatterns,
    *tokens.urlpatterns,
]
