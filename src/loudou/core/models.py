"""Cross-cutting models."""

from django.db import models
from django.db.models.functions import Now


class Change(models.Model):
    """One committed change to a table that reports read, recorded by database triggers
    (``core/migrations/0003_change_records.py``) whichever code wrote: services, imports,
    raw SQL, the Django admin.

    ``deal_id`` names the deal a row belongs to (the deal itself, its events, payments,
    activities); it is null for a change to a small table (users, teams, stages, quotas)
    or to a whole table (a bulk load, a TRUNCATE), where a reader must assume anything
    changed. Rows are only ever inserted, so writers never wait on each other here (the
    single ``core_dataversion`` row they replaced was a lock every write took until commit).
    On PostgreSQL ``txid`` is the writing transaction's id: ids from a sequence can commit
    out of order, and the transaction id tells a reader whether its snapshot saw the row
    (``core/db.py``). Old rows are pruned hourly."""

    tbl = models.CharField(max_length=63)
    deal_id = models.BigIntegerField(null=True)
    txid = models.BigIntegerField(null=True)
    at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            models.Index(
                fields=["txid"], condition=models.Q(txid__isnull=False), name="core_change_txid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tbl} {self.deal_id or '*'}"


class PasswordResetRequest(models.Model):
    """One request for a password reset link, kept while it counts toward the limits
    (``LOUDOU_PASSWORD_RESET_WINDOW``; older rows are deleted by the next request). It holds
    the client address and a keyed digest of the e-mail address typed, not the address
    itself: many are somebody's, some are nobody's, and neither needs keeping."""

    at = models.DateTimeField()
    address = models.CharField(max_length=45, blank=True)  # an IPv6 address at most
    email_digest = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["email_digest", "at"], name="core_reset_email_at"),
            models.Index(fields=["address", "at"], name="core_reset_address_at"),
            models.Index(fields=["at"], name="core_reset_at"),
        ]

    def __str__(self) -> str:
        return f"{self.address or '?'} {self.at:%Y-%m-%d %H:%M}"
