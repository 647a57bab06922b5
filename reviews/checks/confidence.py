"""Extraction confidence below a threshold -> review."""

from __future__ import annotations

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from .base import CheckContext, CheckOutcome, Params, failed, passed, skipped

DEFAULT_PARAMS: dict[str, object] = {"min_confidence": 0.9}


def check_confidence(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    if ctx.extraction_min_confidence is not None:
        lowest = ctx.extraction_min_confidence
        weak: list[str] = []
    elif inv.readings:
        lowest = inv.min_confidence()
        weak = sorted(
            name
            for name, r in inv.readings.items()
            if r.confidence < float(params["min_confidence"])
        )
    else:
        return skipped("没有识别置信度信息。", "No extraction confidence recorded.")
    threshold = float(params["min_confidence"])
    if lowest >= threshold:
        return passed(min_confidence=lowest)
    fields = "、".join(weak) if weak else ""
    return failed(
        problem_zh=f"部分字段识别可信度较低（最低{lowest:.2f}，要求{threshold:.2f}）"
        + (f"：{fields}。" if fields else "。"),
        fix_zh="审核人员将人工核对；如有XML或OFD原件，上传原件可自动处理。",
        problem_en=(
            f"Some fields were read with low confidence (lowest {lowest:.2f}, "
            f"required {threshold:.2f})" + (f": {', '.join(weak)}." if weak else ".")
        ),
        fix_en=(
            "A reviewer will check them by hand; uploading the XML or OFD original "
            "lets the portal decide automatically."
        ),
        min_confidence=lowest,
        threshold=threshold,
        fields=weak,
    )
