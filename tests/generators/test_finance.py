"""Finance generators: card numbers and brands, amounts, account numbers."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from esdh.generators.base import registry
from esdh.generators.finance import (
    CARD_CAPACITY,
    AccountNumberGenerator,
    AmountGenerator,
    CardNumberGenerator,
    luhn_check_digits,
)
from tests.generators.helpers import run_generator

CLASSES = {"card_number": CardNumberGenerator, "amount": AmountGenerator,
           "account_number": AccountNumberGenerator}


run = run_generator


def luhn_valid(number: str) -> bool:
    """Independent scalar Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str | None:
    """Brand by IIN and length, independently of the generator's tables."""
    if len(number) == 16 and number[0] == "4":
        return "visa"
    if len(number) == 16 and (51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720):
        return "mastercard"
    if len(number) == 15 and number[:2] in ("34", "37"):
        return "amex"
    if len(number) == 16 and (number[:4] == "6011" or 644 <= int(number[:3]) <= 649 or number[:2] == "65"):
        return "discover"
    return None


BRAND_NAMES = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover"}

CASES = [("card_number", {}), ("card_number", {"field": "brand"}), ("amount", {"median": 40.0}),
         ("account_number", {}), ("account_number", {"digits": 12, "luhn": True, "prefix": "00"})]


# --- determinism -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "params"), CASES)
def test_deterministic_and_chunk_independent(name, params):
    full = run(name, params, 4000, total_rows=4000)
    assert full.equals(run(name, params, 4000, total_rows=4000))
    chunks = pa.concat_arrays([run(name, params, np.arange(0, 999), total_rows=4000),
                               run(name, params, np.arange(999, 4000), total_rows=4000)])
    assert chunks.equals(full)
    picked = np.array([3999, 12, 5, 2000])
    assert run(name, params, picked, total_rows=4000).equals(full.take(pa.array(picked)))
    assert not run(name, params, 4000, total_rows=4000, seed=2).equals(full)


# --- card numbers ------------------------------------------------------------------------------------

def test_luhn_vectorised_matches_scalar():
    payloads = np.array([0, 7, 7992739871, 401288888888188, 37828224631000, 10**17 + 12345,
                         999_999_999_999_999_999], dtype=np.int64)
    for payload, check in zip(payloads.tolist(), luhn_check_digits(payloads).tolist(), strict=True):
        assert luhn_valid(f"{payload}{check}")
    assert luhn_check_digits(np.array([7992739871]))[0] == 3  # the textbook example


@pytest.mark.parametrize("brand", ["visa", "mastercard", "amex", "discover"])
def test_card_numbers_by_brand(brand):
    numbers = run("card_number", {"brand": brand}, 20_000).to_pylist()
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert number.isdigit() and luhn_valid(number), number
        assert brand_of(number) == brand, number
    names = run("card_number", {"brand": brand, "field": "brand"}, 1000).to_pylist()
    assert set(names) == {BRAND_NAMES[brand]}


def test_any_brand_mix_and_coherent_brand_field():
    rows = np.arange(60_000)
    numbers = run("card_number", {}, rows, column="card_number").to_pylist()
    brands = run("card_number", {"field": "brand"}, rows, column="card_brand").to_pylist()
    assert len(set(numbers)) == len(numbers)
    share: dict[str, int] = {}
    for number, brand in zip(numbers, brands, strict=True):
        assert luhn_valid(number), number
        assert BRAND_NAMES[brand_of(number)] == brand
        share[brand] = share.get(brand, 0) + 1
    assert set(share) == set(BRAND_NAMES.values())
    assert share["Visa"] > share["Mastercard"] > share["American Express"] > share["Discover"]
    prefixes = {n[:2] for n in numbers if brand_of(n) == "mastercard"}
    assert {"51", "55", "22", "27"} <= prefixes  # both Mastercard ranges


def test_card_capacity_and_far_rows():
    gen = CardNumberGenerator(CardNumberGenerator.Params())
    assert gen.capacity() == CARD_CAPACITY >= 6 * 10**10
    assert CardNumberGenerator(CardNumberGenerator.Params(field="brand", brand="amex")).capacity() == 1
    rows = np.concatenate([np.arange(20_000), CARD_CAPACITY - 1 - np.arange(20_000)])
    numbers = run("card_number", {}, rows, total_rows=CARD_CAPACITY).to_pylist()
    assert len(set(numbers)) == len(rows) and all(luhn_valid(n) for n in numbers)
    with pytest.raises(ValueError, match="unique"):
        run("card_number", {}, np.array([CARD_CAPACITY]))


# --- amounts -----------------------------------------------------------------------------------------

def decimals_ok(values: np.ndarray, precision: int) -> bool:
    return all(len(repr(v).split(".")[1].rstrip("0")) <= precision if "e" not in repr(v) else v == round(v)
               for v in values.tolist())


@pytest.mark.parametrize(("params", "precision"), [
    ({"median": 42.5, "min": 1.0, "max": 5000.0}, 2),
    ({"median": 120.0, "sigma": 1.5, "min": 0.0, "max": 99.99, "precision": 3}, 3),
    ({"median": 10.0, "sigma": 0.5, "min": 200.0, "max": 250.0}, 2),  # window deep in the upper tail
    ({"median": 1000.0, "sigma": 2.0, "precision": 0}, 0),
    ({"median": 3.0, "min": 0.005, "max": 0.5, "precision": 2}, 2),
])
def test_amounts_within_bounds_and_precision(params, precision):
    values = run("amount", params, 100_000).to_numpy()
    assert np.isfinite(values).all()
    low = params.get("min", 0.0)
    high = params.get("max", math.inf)
    assert values.min() >= low and values.max() <= high
    assert np.array_equal(np.round(values, precision), values)
    assert decimals_ok(values[:5000], precision)
    assert len(np.unique(values)) > 20


def test_amount_distribution():
    values = run("amount", {"median": 50.0, "sigma": 0.8, "precision": 4}, 200_000).to_numpy()
    assert abs(np.median(values) / 50.0 - 1) < 0.02
    assert abs(np.std(np.log(values)) - 0.8) < 0.02
    # truncation redistributes instead of piling up at the bounds
    bounded = run("amount", {"median": 50.0, "min": 40.0, "max": 60.0}, 100_000).to_numpy()
    assert (bounded == 40.0).mean() < 0.01 and (bounded == 60.0).mean() < 0.01
    assert set(run("amount", {"median": 7.25, "sigma": 0.0}, 100).to_pylist()) == {7.25}


def test_amount_params_are_validated():
    for bad in ({"median": 0.0}, {"median": 5.0, "sigma": -1.0}, {"median": 5.0, "min": 10.0, "max": 2.0},
                {"median": 5.0, "min": 1.001, "max": 1.009}, {"median": "5"}, {"median": 5.0, "max": 0.0},
                {"median": 5.0, "mean": 3.0}, {}):
        with pytest.raises(ValidationError):
            AmountGenerator.Params(**bad)
    assert AmountGenerator.Params(median=5, min=1, max=9).median == 5.0  # ints are fine for floats


# --- account numbers ---------------------------------------------------------------------------------

def test_account_numbers():
    plain = run("account_number", {}, 50_000).to_pylist()
    assert len(set(plain)) == len(plain)
    assert all(len(a) == 10 and a.isdigit() and a[0] != "0" for a in plain)
    checked = run("account_number", {"digits": 12, "prefix": "0042", "luhn": True}, 50_000).to_pylist()
    assert len(set(checked)) == len(checked)
    for a in checked:
        assert len(a) == 16 and a.startswith("0042") and a[4] != "0" and luhn_valid(a), a


def test_account_number_capacity():
    gen = AccountNumberGenerator(AccountNumberGenerator.Params(digits=4))
    assert gen.capacity() == 9000
    numbers = run("account_number", {"digits": 4}, 9000).to_pylist()
    assert sorted(numbers) == [str(i) for i in range(1000, 10_000)]
    with pytest.raises(ValueError, match="unique"):
        run("account_number", {"digits": 4}, 9001)
    with pytest.raises(ValidationError):
        AccountNumberGenerator.Params(prefix="AB")


def test_registered():
    for name, cls in CLASSES.items():
        assert registry()[name] is cls
    assert CardNumberGenerator.group == "card"
    assert CardNumberGenerator(CardNumberGenerator.Params()).stream_name("x") == "card"
    assert CardNumberGenerator(CardNumberGenerator.Params(group="g")).stream_name("x") == "g"
