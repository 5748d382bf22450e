"""The functions an expression may call. Each works on whole Arrow arrays (or scalars) at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.expr.calendar import shift_months, whole_years
from esdh.expr.errors import ExpressionError

# pyarrow has no type stubs, so to mypy this is Any; it documents what flows through.
Value: TypeAlias = pa.Array | pa.Scalar


@dataclass(frozen=True)
class Function:
    impl: Callable[..., Value]
    min_args: int
    max_args: int | None
    doc: str

    def check_arity(self, name: str, count: int) -> None:
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            want = str(self.min_args) if self.max_args == self.min_args else (
                f"{self.min_args} or more" if self.max_args is None else f"{self.min_args} to {self.max_args}")
            raise ExpressionError(f"{name}() takes {want} argument(s), got {count}")


FUNCTIONS: dict[str, Function] = {}
_F = TypeVar("_F", bound=Callable[..., Value])


def _fn(name: str, min_args: int, max_args: int | None, doc: str) -> Callable[[_F], _F]:
    def wrap(impl: _F) -> _F:
        FUNCTIONS[name] = Function(impl, min_args, max_args, doc)
        return impl

    return wrap


def literal(value: Value, function: str, what: str) -> object:
    """The Python value of an argument that must be written as a literal (not a column)."""
    if not isinstance(value, pa.Scalar):
        raise ExpressionError(f"{function}(): {what} must be a literal value, not a column")
    return value.as_py()


def to_text(value: Value) -> Value:
    """Cast to string; dates print as ISO 8601, floats without a trailing '.0' for whole numbers."""
    if pa.types.is_string(value.type) or pa.types.is_large_string(value.type):
        return value
    return pc.cast(value, pa.string())


@_fn("concat", 1, None, "concat(a, b, ...): join values as text; null if any part is null")
def concat(*parts: Value) -> Value:
    return pc.binary_join_element_wise(*[to_text(p) for p in parts], "")


@_fn("str", 1, 1, "str(x): x as text")
def _str(x: Value) -> Value:
    return to_text(x)


@_fn("upper", 1, 1, "upper(s): upper case")
def _upper(s: Value) -> Value:
    return pc.utf8_upper(s)


@_fn("lower", 1, 1, "lower(s): lower case")
def _lower(s: Value) -> Value:
    return pc.utf8_lower(s)


@_fn("length", 1, 1, "length(s): number of characters")
def _length(s: Value) -> Value:
    return pc.utf8_length(s)


@_fn("substr", 2, 3, "substr(s, start, length): characters from 0-based start")
def _substr(s: Value, start: Value, length: Value | None = None) -> Value:
    # ints by contract; pyarrow rejects anything else when it slices
    begin = cast(int, literal(start, "substr", "start"))
    stop = None if length is None else begin + cast(int, literal(length, "substr", "length"))
    return pc.utf8_slice_codeunits(s, begin, stop)


@_fn("replace", 3, 3, "replace(s, old, new): replace every occurrence of old")
def _replace(s: Value, old: Value, new: Value) -> Value:
    return pc.replace_substring(s, literal(old, "replace", "old"), literal(new, "replace", "new"))


@_fn("lpad", 3, 3, "lpad(s, width, char): pad on the left to width")
def _lpad(s: Value, width: Value, char: Value) -> Value:
    return pc.utf8_lpad(to_text(s), literal(width, "lpad", "width"), literal(char, "lpad", "char"))


@_fn("round", 1, 2, "round(x, digits): round half to even at the given decimals")
def _round(x: Value, digits: Value | None = None) -> Value:
    return round_decimals(x, 0 if digits is None else cast(int, literal(digits, "round", "digits")))


def round_decimals(x: Value, digits: int) -> Value:
    """Round half to even at ``digits`` decimals to the double nearest the decimal result.

    ``rint(x * 10^d) / 10^d`` divides an exact integer by an exact power of ten, and IEEE division is
    correctly rounded, so 895.93 comes out as the double nearest 895.93 (Arrow's own round can give
    895.9300000000001, which then shows in CSV and breaks sums "to the cent").
    """
    if not pa.types.is_floating(x.type):
        return x
    if isinstance(x, pa.Scalar):
        return pa.scalar(None if not x.is_valid else float(np.round(x.as_py(), digits)), x.type)
    values = np.round(x.to_numpy(zero_copy_only=False), digits)
    return pa.array(values, x.type, mask=~x.is_valid().to_numpy(zero_copy_only=False) if x.null_count else None)


@_fn("floor", 1, 1, "floor(x)")
def _floor(x: Value) -> Value:
    return pc.floor(x)


@_fn("ceil", 1, 1, "ceil(x)")
def _ceil(x: Value) -> Value:
    return pc.ceil(x)


@_fn("abs", 1, 1, "abs(x)")
def _abs(x: Value) -> Value:
    return pc.abs(x)


def _floating(x: Value) -> Value:
    return pc.cast(x, pa.float64()) if not pa.types.is_floating(x.type) else x


@_fn("exp", 1, 1, "exp(x): e to the power x")
def _exp(x: Value) -> Value:
    return pc.exp(_floating(x))


@_fn("ln", 1, 1, "ln(x): natural logarithm (null for x <= 0)")
def _ln(x: Value) -> Value:
    x = _floating(x)
    return pc.if_else(pc.greater(x, 0), pc.ln(pc.max_element_wise(x, 1e-300)), pa.scalar(None, pa.float64()))


@_fn("sqrt", 1, 1, "sqrt(x): square root (null for x < 0)")
def _sqrt(x: Value) -> Value:
    x = _floating(x)
    return pc.if_else(pc.greater_equal(x, 0), pc.sqrt(pc.max_element_wise(x, 0.0)), pa.scalar(None, pa.float64()))


@_fn("power", 2, 2, "power(x, y): x to the power y")
def _power(x: Value, y: Value) -> Value:
    return pc.power(_floating(x), _floating(y))


@_fn("sin", 1, 1, "sin(x): sine of x radians")
def _sin(x: Value) -> Value:
    return pc.sin(_floating(x))


@_fn("cos", 1, 1, "cos(x): cosine of x radians")
def _cos(x: Value) -> Value:
    return pc.cos(_floating(x))


@_fn("pi", 0, 0, "pi(): 3.14159...")
def _pi() -> Value:
    return pa.scalar(float(np.pi))


@_fn("int", 1, 1, "int(x): truncate to an integer")
def _int(x: Value) -> Value:
    if pa.types.is_floating(x.type):
        x = pc.trunc(x)
    return pc.cast(x, pa.int64())


@_fn("float", 1, 1, "float(x)")
def _float(x: Value) -> Value:
    return pc.cast(x, pa.float64())


@_fn("min", 2, None, "min(a, b, ...): element-wise smallest")
def _min(*xs: Value) -> Value:
    return pc.min_element_wise(*xs)


@_fn("max", 2, None, "max(a, b, ...): element-wise largest")
def _max(*xs: Value) -> Value:
    return pc.max_element_wise(*xs)


@_fn("coalesce", 1, None, "coalesce(a, b, ...): the first non-null value")
def _coalesce(*xs: Value) -> Value:
    return pc.coalesce(*xs)


@_fn("is_null", 1, 1, "is_null(x): true where x is null")
def _is_null(x: Value) -> Value:
    return pc.is_null(x)


@_fn("if_else", 3, 3, "if_else(cond, a, b): a where cond is true, else b")
def _if_else(cond: Value, a: Value, b: Value) -> Value:
    return pc.if_else(cond, a, b)


@_fn("case", 3, None, "case(cond1, value1, cond2, value2, ..., default): the value of the first true condition")
def _case(*args: Value) -> Value:
    if len(args) % 2 == 0:
        raise ExpressionError("case() needs condition/value pairs followed by a default value")
    result = args[-1]
    for cond, value in reversed(list(zip(args[:-1:2], args[1:-1:2], strict=True))):
        result = pc.if_else(pc.fill_null(cond, False), value, result)
    return result


def regex_error(pattern: str) -> str:
    """Why Arrow's regular expression engine (RE2) refuses ``pattern``, or '' if it accepts it: checked when
    a spec is compiled, so a bad pattern never waits for generation to fail."""
    try:
        for text in (pattern, f"^(?:{pattern})$"):  # as written (for the message), then as it is used
            pc.match_substring_regex(pa.array([""], pa.string()), text)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        return str(exc).removeprefix("Invalid regular expression: ")
    return ""


@_fn("matches", 2, 2, "matches(s, pattern): true where s fully matches the regular expression")
def _matches(s: Value, pattern: Value) -> Value:
    return pc.match_substring_regex(s, f"^(?:{literal(pattern, 'matches', 'pattern')})$")


@_fn("date", 1, 1, "date('2026-01-01'): a date literal")
def _date(text: Value) -> Value:
    if pa.types.is_date(text.type):
        return text
    if pa.types.is_timestamp(text.type):
        return pc.cast(text, pa.date32())
    if isinstance(text, pa.Array):
        try:
            return pc.cast(pc.strptime(text, format="%Y-%m-%d", unit="s"), pa.date32())
        except pa.ArrowInvalid as exc:
            raise ExpressionError(f"date() needs ISO dates like '2026-01-01': {exc}") from None
    try:
        return pa.scalar(dt.date.fromisoformat(text.as_py()), pa.date32())
    except (ValueError, TypeError, AttributeError):
        raise ExpressionError(f"date() needs an ISO date literal like '2026-01-01', got {text}") from None


@_fn("year", 1, 1, "year(d)")
def _year(d: Value) -> Value:
    return pc.year(d)


@_fn("month", 1, 1, "month(d)")
def _month(d: Value) -> Value:
    return pc.month(d)


@_fn("weekday", 1, 1, "weekday(d): day of the week, Monday 0 to Sunday 6")
def _weekday(d: Value) -> Value:
    return pc.day_of_week(d)


@_fn("day_of_year", 1, 1, "day_of_year(d): 1 to 366")
def _day_of_year(d: Value) -> Value:
    return pc.day_of_year(d)


@_fn("hour", 1, 1, "hour(t): hour of a timestamp, 0 to 23")
def _hour(t: Value) -> Value:
    return pc.hour(t)


@_fn("add_seconds", 2, 2, "add_seconds(t, n): a timestamp n seconds later")
def _add_seconds(t: Value, n: Value) -> Value:
    if pa.types.is_date(t.type):
        t = pc.cast(t, pa.timestamp("s"))
    seconds = pc.cast(pc.cast(t, pa.timestamp("s")), pa.int64())
    shifted = pc.add(seconds, pc.cast(pc.floor(_floating(n)), pa.int64()))
    return pc.cast(shifted, pa.timestamp("s"))


@_fn("day", 1, 1, "day(d): day of month")
def _day(d: Value) -> Value:
    return pc.day(d)


def _days(d: Value) -> np.ndarray:
    """Days since 1970-01-01 of a date array or scalar."""
    if isinstance(d, pa.Scalar):
        return np.asarray(pc.cast(pc.cast(d, pa.date32()), pa.int32()).as_py(), dtype="int64")
    as_int = pc.fill_null(pc.cast(pc.cast(d, pa.date32()), pa.int32()), 0)
    days: np.ndarray = as_int.to_numpy(zero_copy_only=False).astype("int64")
    return days


def _wrap_like(template: Value, days: np.ndarray, valid: Value) -> Value:
    out = pa.array(days.astype("int32"), pa.int32()).cast(pa.date32()) if days.ndim else \
        pa.scalar(int(days), pa.int32()).cast(pa.date32())
    if isinstance(out, pa.Array) and isinstance(valid, pa.Array) and valid.null_count:
        out = pc.if_else(pc.is_valid(valid), out, pa.scalar(None, pa.date32()))
    return out


def _broadcast_int(n: Value) -> np.ndarray:
    if isinstance(n, pa.Scalar):
        return np.asarray(n.as_py() or 0, dtype="int64")
    counts: np.ndarray = pc.fill_null(n, 0).to_numpy(zero_copy_only=False).astype("int64")
    return counts


@_fn("add_days", 2, 2, "add_days(d, n)")
def add_days(d: Value, n: Value) -> Value:
    return _wrap_like(d, _days(d) + _broadcast_int(n), d)


@_fn("add_months", 2, 2, "add_months(d, n): calendar months; the 31st becomes the month's last day")
def add_months(d: Value, n: Value) -> Value:
    return _wrap_like(d, shift_months(_days(d), _broadcast_int(n)), d)


@_fn("add_years", 2, 2, "add_years(d, n): calendar years; 29 February becomes 28 February")
def add_years(d: Value, n: Value) -> Value:
    return _wrap_like(d, shift_months(_days(d), _broadcast_int(n) * 12), d)


@_fn("days_between", 2, 2, "days_between(a, b): b - a in days")
def _days_between(a: Value, b: Value) -> Value:
    diff = _days(b) - _days(a)
    out = pa.array(diff) if diff.ndim else pa.scalar(int(diff))
    for side in (a, b):
        if isinstance(out, pa.Array) and isinstance(side, pa.Array) and side.null_count:
            out = pc.if_else(pc.is_valid(side), out, pa.scalar(None, pa.int64()))
    return out


@_fn("age", 2, 2, "age(birth, at): whole years between birth and at")
def _age(birth: Value, at: Value) -> Value:
    result = whole_years(_days(birth), _days(at))
    if not result.ndim:
        return pa.scalar(int(result))
    out = pa.array(result)
    for side in (birth, at):
        if isinstance(side, pa.Array) and side.null_count:
            out = pc.if_else(pc.is_valid(side), out, pa.scalar(None, pa.int64()))
    return out
