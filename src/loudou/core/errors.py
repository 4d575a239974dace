"""Errors raised by services. Each carries a message a user can read in their language;
views, the API and commands turn them into responses, never tracebacks."""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """Base class: a business rule refused the operation; nothing was changed."""

    code = "error"
    default_message: str | Promise = _("The operation was refused.")

    def __init__(self, message: str | Promise | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class NotAllowed(ServiceError):
    """The acting user may not do this to this object."""

    code = "not_allowed"
    default_message = _("You are not allowed to do this.")


class Conflict(ServiceError):
    """Someone else changed the object since it was read (stale ``version``)."""

    code = "conflict"
    default_message = _(
        "This deal was changed by someone else since you opened it. Reload it and try again."
    )


class InvalidInput(ServiceError):
    """The input breaks a rule; ``errors`` maps field names to messages."""

    code = "invalid"

    def __init__(self, errors: dict[str, str | Promise]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.errors.items())


def from_validation_error(error: Any) -> InvalidInput:
    """A Django ``ValidationError`` (a model's ``full_clean``) as ``InvalidInput``."""
    if hasattr(error, "message_dict"):
        return InvalidInput({k: " ".join(str(m) for m in v) for k, v in error.message_dict.items()})
    return InvalidInput({"__all__": " ".join(str(m) for m in error.messages)})
