"""Template tags of the daily loop: the approvals-waiting count in the top bar."""

from django import template

from loudou.deals.services import approval_queue
from loudou.people.models import User

register = template.Library()


@register.simple_tag
def approvals_waiting(user: User) -> int:
    """How many approval requests wait for ``user`` (0 for reps: no query)."""
    if not getattr(user, "is_authenticated", False) or not (
        user.is_manager or user.is_loudou_admin
    ):
        return 0
    return approval_queue(user).count()
