import functools
from typing import Any

from django.db import models
from django.utils.encoding import force_str


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


@functools.cache
def _choice_labels(field: models.Field) -> dict[Any, Any]:
    """A field's choices as a value -> (lazy) label dict, built once per field."""
    return dict(field.flatchoices)


class ChoiceLabels:
    """``get_FOO_display()`` that translates only the value's own label.

    Django's version builds ``dict(make_hashable(field.flatchoices))`` on every call,
    hashing every lazy label, that is translating every choice (an invoice kind has
    twenty): a list of fifty rows showing four choice fields translated thousands of
    strings per page (issue 14's queue page bench). Only for fields with fixed
    choices (the dict is built once per field and process); put it before
    ``models.Model`` in the bases."""

    def _get_FIELD_display(self, field: models.Field) -> Any:
        value = getattr(self, field.attname)
        try:
            label = _choice_labels(field).get(value, value)
        except TypeError:  # an unhashable value (a list in a JSON field)
            return super()._get_FIELD_display(field)  # type: ignore[misc]
        return force_str(label, strings_only=True)
