"""Bounds on one extraction in the worker: address space (memory) while it runs.

The worker reads one document at a time, so lowering the process's soft RLIMIT_AS for
the duration of one extraction bounds that extraction without touching others. A
reader that needs more fails with MemoryError, reported as ``extraction_too_large``.
Time is bounded by the readers' own deadline and by the worker's task timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .errors import ExtractionError, refuse

try:
    import resource
except ImportError:  # not on POSIX: no bound
    resource = None  # type: ignore[assignment]


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@contextlib.contextmanager
def memory_bounded(extra_mb: int) -> Iterator[None]:
    """Allow the process ``extra_mb`` more address space than it uses now; refuse
    the document if reading it needs more."""
    if resource is None or extra_mb <= 0:
        yield
        return
    current = _address_space_bytes()
    if current is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + extra_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    except MemoryError as exc:
        raise refuse("extraction_too_large", unsafe=True, limit_mb=extra_mb) from exc
    except Exception as exc:
        # Native libraries report a failed allocation or mapping in their own way
        # (onnxruntime: "FAIL : std::bad_alloc"; the loader: "failed to map").
        text = str(exc).lower()
        if isinstance(exc, ExtractionError):
            raise
        if any(word in text for word in ("alloc", "memory", "failed to map")):
            raise refuse(
                "extraction_too_large", unsafe=True, limit_mb=extra_mb
            ) from exc
        raise
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
