"""Validation of rule parameters entered by admins: clear errors, in both languages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeVar

from .normalize import param_decimal

ParamKind = Literal[
    "decimal",
    "int",
    "fraction",
    "bool",
    "str",
    "choice",
    "str_list",
    "rate_periods",
    "category_rates",
]


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: ParamKind
    label_en: str
    label_zh: str
    minimum: Decimal | int | float | None = None
    maximum: Decimal | int | float | None = None
    choices: Sequence[str] = ()
    pattern: str = ""  # for str_list items


@dataclass(frozen=True)
class ParamError:
    param: str
    message_en: str
    message_zh: str


@dataclass
class ParamValidation:
    cleaned: dict[str, Any] = field(default_factory=dict)
    errors: list[ParamError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_N = TypeVar("_N", Decimal, int, float)


class _Bad(Exception):
    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def _number(
    value: Any,
    convert: Callable[[Any], _N],
    bad: _Bad,
    *,
    accepted: Any = object,
    errors: type[Exception] | tuple[type[Exception], ...] = ValueError,
) -> _N:
    """``convert(value)``, or ``bad`` when ``value`` is a boolean, is not of an
    ``accepted`` type or does not convert."""
    if isinstance(value, bool) or not isinstance(value, accepted):
        raise bad
    try:
        return convert(value)
    except errors:
        raise bad from None


def _decimal(spec: ParamSpec, value: Any) -> str:
    bad = _Bad("must be a number such as 0.01", "必须是数字，例如0.01")
    number = _number(value, param_decimal, bad)
    _bounds(spec, number)
    return str(number)


def _bounds(spec: ParamSpec, number: Any) -> None:
    if spec.minimum is not None and number < spec.minimum:
        raise _Bad(f"must be at least {spec.minimum}", f"不能小于{spec.minimum}")
    if spec.maximum is not None and number > spec.maximum:
        raise _Bad(f"must be at most {spec.maximum}", f"不能大于{spec.maximum}")


def _int(spec: ParamSpec, value: Any) -> int:
    bad = _Bad("must be a whole number", "必须是整数")
    number = _number(value, int, bad, accepted=int | str)
    _bounds(spec, number)
    return number


def _fraction(spec: ParamSpec, value: Any) -> float:
    bad = _Bad("must be a number between 0 and 1", "必须是0到1之间的数")
    number = _number(value, float, bad, errors=(TypeError, ValueError))
    if not 0 <= number <= 1:
        raise bad
    _bounds(spec, number)
    return number


def _str_list(spec: ParamSpec, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad("must be a list of texts", "必须是文本列表")
    for item in value:
        if spec.choices and item not in spec.choices:
            allowed = ", ".join(spec.choices)
            raise _Bad(
                f"{item!r} is not one of: {allowed}", f"“{item}”不在可选值中：{allowed}"
            )
        if spec.pattern and not re.fullmatch(spec.pattern, item):
            raise _Bad(f"{item!r} is not well formed", f"“{item}”格式不正确")
    return list(value)


def _rate(value: Any) -> str:
    try:
        rate = param_decimal(value)
    except ValueError:
        raise _Bad(f"{value!r} is not a rate", f"“{value}”不是税率") from None
    if not 0 <= rate < 1:
        raise _Bad(
            f"rate {value} must be a fraction such as 0.13",
            f"税率{value}应为小数形式，例如0.13",
        )
    return str(rate)


def _date_or_none(value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _Bad(
            f"{value!r} is not a date (YYYY-MM-DD)", f"“{value}”不是日期（YYYY-MM-DD）"
        ) from None


def _rate_periods(spec: ParamSpec, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise _Bad("must be a non-empty list of periods", "必须是非空的期间列表")
    out = []
    for n, period in enumerate(value, start=1):
        if not isinstance(period, Mapping) or set(period) != {"from", "until", "rates"}:
            raise _Bad(
                f"period {n} needs exactly 'from', 'until' and 'rates'",
                f"第{n}个期间必须且只能包含from、until和rates",
            )
        start, until = _date_or_none(period["from"]), _date_or_none(period["until"])
        if start and until and start > until:
            raise _Bad(
                f"period {n} ends before it starts", f"第{n}个期间的结束早于开始"
            )
        rates = period["rates"]
        if not isinstance(rates, list) or not rates:
            raise _Bad(f"period {n} needs a list of rates", f"第{n}个期间缺少税率列表")
        out.append(
            {
                "from": start.isoformat() if start else None,
                "until": until.isoformat() if until else None,
                "rates": [_rate(r) for r in rates],
            }
        )
    return out


def _category_rates(spec: ParamSpec, value: Any) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        raise _Bad(
            "must map categories to lists of rates", "必须是“类别: 税率列表”的映射"
        )
    out = {}
    for category, rates in value.items():
        if not isinstance(category, str) or not category.strip() or "*" in category:
            raise _Bad(
                f"{category!r} is not a category name",
                f"“{category}”不是有效的类别名称",
            )
        if not isinstance(rates, list) or not rates:
            raise _Bad(
                f"category {category} needs a list of rates",
                f"类别{category}缺少税率列表",
            )
        out[category.strip()] = [_rate(r) for r in rates]
    return out


def _bool(spec: ParamSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("must be true or false", "必须是true或false")
    return value


def _str(spec: ParamSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("must be text", "必须是文本")
    return value


def _choice(spec: ParamSpec, value: Any) -> Any:
    if value not in spec.choices:
        allowed = ", ".join(spec.choices)
        raise _Bad(f"must be one of: {allowed}", f"必须是以下之一：{allowed}")
    return value


# The parser of each parameter kind: the cleaned value, or ``_Bad``.
_PARSERS: dict[str, Callable[[ParamSpec, Any], Any]] = {
    "decimal": _decimal,
    "int": _int,
    "fraction": _fraction,
    "bool": _bool,
    "str": _str,
    "choice": _choice,
    "str_list": _str_list,
    "rate_periods": _rate_periods,
    "category_rates": _category_rates,
}


def _one(spec: ParamSpec, value: Any) -> Any:
    parser = _PARSERS.get(spec.kind)
    if parser is None:  # pragma: no cover
        raise AssertionError(f"unknown parameter kind {spec.kind}")
    return parser(spec, value)


def validate(
    specs: Sequence[ParamSpec], defaults: Mapping[str, Any], params: Any
) -> ParamValidation:
    """Check ``params`` against ``specs``; missing keys take their defaults."""
    result = ParamValidation()
    if not isinstance(params, Mapping):
        result.errors.append(
            ParamError("", "Parameters must be a JSON object.", "参数必须是JSON对象。")
        )
        return result
    known = {s.name for s in specs}
    for name in sorted(set(params) - known):
        result.errors.append(
            ParamError(
                str(name),
                f"Unknown parameter {name!r}; allowed: "
                f"{', '.join(sorted(known)) or '-'}.",
                f"未知参数“{name}”；可用参数：{'、'.join(sorted(known)) or '无'}。",
            )
        )
    for spec in specs:
        value = params.get(spec.name, defaults[spec.name])
        try:
            result.cleaned[spec.name] = _one(spec, value)
        except _Bad as bad:
            result.errors.append(
                ParamError(
                    spec.name,
                    f"{spec.label_en} ({spec.name}) {bad.en}.",
                    f"{spec.label_zh}（{spec.name}）{bad.zh}。",
                )
            )
    return result
