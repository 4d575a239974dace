"""Cross-cutting models."""

from django.db import models


class DataVersion(models.Model):
    """One row whose ``seq`` database triggers increase on every write to the tables that
    reports read (see ``core/db.py``). Reports cache their frames under this number, so a
    committed write, by any path, is never hidden by a cache."""

    seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="core_dataversion_one_row")
        ]

    def __str__(self) -> str:
        return str(self.seq)
