"""Template tags of the daily loop: the approvals-waiting count in the top bar; how a
next step stands (its due words, wherever it is shown)."""

from django import template

from loudou.activities.models import NextStep
from loudou.deals.queries import StepDue, step_due
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


@register.filter
def due(step: NextStep) -> StepDue:
    """``{% with due=step|due %}``: days overdue, late, and Today's words for it."""
    return step_due(step.due_at)
