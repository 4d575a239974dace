"""Errors raised by services. Each carries a message a user can read in their language;
views, the API and commands turn them into responses, never tracebacks."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext
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
    """The input breaks a rule; ``errors`` maps field names to messages. With ``model``,
    a field of it is named by its label (verbose name) in the active language where the
    error is shown: "密码：…" on a Chinese page, "Password: …" on an English one, never
    the name the code uses."""

    code = "invalid"

    def __init__(
        self, errors: dict[str, str | Promise], *, model: type[Model] | None = None
    ) -> None:
        self.errors = errors
        self.model = model
        super().__init__(str(self))

    def label(self, field: str) -> str | None:
        """The label of ``field`` in the active language; None when it is no field of the
        model (a rule's own message says what it is about)."""
        if self.model is None:
            return None
        try:
            return capfirst(str(self.model._meta.get_field(field).verbose_name))
        except FieldDoesNotExist:
            return None

    def __str__(self) -> str:
        parts = []
        for field, message in self.errors.items():
            label = self.label(field)
            parts.append(
                gettext("%(field)s: %(message)s") % {"field": label, "message": message}
                if label
                else str(message)
            )
        return sentences(parts)


def sentences(parts: Iterable[str | Promise]) -> str:
    """Sentences one after another as each language writes them: a space after one
    that ends in Western punctuation, none after a Chinese one (。！？)."""
    text = ""
    for part in map(str, parts):
        if text and not text.endswith(("。", "！", "？", "；")):
            text += " "
        text += part
    return text


def from_validation_error(error: Any, model: type[Model] | None = None) -> InvalidInput:
    """A Django ``ValidationError`` (a ``full_clean`` of an instance of ``model``) as
    ``InvalidInput``: the model names its fields by their labels."""
    if hasattr(error, "message_dict"):
        return InvalidInput({k: sentences(v) for k, v in error.message_dict.items()}, model=model)
    return InvalidInput({"__all__": sentences(error.messages)}, model=model)
