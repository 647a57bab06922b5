from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """The last sign of life of one background worker cluster (issue 13, H5): written
    by the worker (a scheduled task, and after tasks), read by ``/readyz``, the
    metrics and the "checks are delayed" banner in any process
    (``invoiceportal.common.heartbeat``)."""

    # "<host>:<cluster name>": one row per cluster, whichever process wrote it.
    name = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=16, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"
