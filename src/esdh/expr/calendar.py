"""Vectorised civil-calendar arithmetic on day numbers (days since 1970-01-01), in pure integer numpy.

Howard Hinnant's ``days_from_civil`` / ``civil_from_days`` algorithms: exact for the proleptic
Gregorian calendar and much faster than going through ``datetime64[M]`` conversions.
"""

from __future__ import annotations

import numpy as np

_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month 1-12, day 1-31) of each day number."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Day numbers of (year, month, day)."""
    year = np.asarray(year, dtype=np.int64) - (np.asarray(month) <= 2)
    era = np.floor_divide(year, 400)
    yoe = year - era * 400
    month = np.asarray(month, dtype=np.int64)
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + np.asarray(day, dtype=np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    result: np.ndarray = era * 146097 + doe - 719468
    return result


def month_length(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    result: np.ndarray = _MONTH_DAYS[month - 1] + ((month == 2) & leap)
    return result


def shift_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Add calendar months to day numbers, clamping the day to the target month's length."""
    year, month, day = civil_from_days(days)
    total = year * 12 + (month - 1) + np.asarray(months, dtype=np.int64)
    new_year, new_month = np.floor_divide(total, 12), total % 12 + 1
    return days_from_civil(new_year, new_month, np.minimum(day, month_length(new_year, new_month)))


def whole_years(birth: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Completed years between two day numbers (an age)."""
    by, bm, bd = civil_from_days(birth)
    ay, am, ad = civil_from_days(at)
    result: np.ndarray = ay - by - ((am < bm) | ((am == bm) & (ad < bd)))
    return result
