"""Identity generators: names, gender, e-mail, phone, address, driver licence."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pydantic import ValidationError

from esdh.generators.base import Context, choice_from, registry
from esdh.generators.identity import DRIVER_LICENSE_FORMATS
from esdh.generators.identity.sampling import _bijection, _InverseCdf
from esdh.generators.identity.vocabularies import _state_index, _zips
from esdh.vocab import load_vocab
from tests.generators.helpers import DictSource, run_generator

ADDRESS_FIELDS = ["street", "line1", "line2", "city", "state", "state_name", "postal_code", "county",
                  "country", "area_code", "latitude", "longitude"]


def person(rows, seed=1, unique=False, total_rows=None):
    """first/last/gender/state/zip columns for ``rows`` (as a spec would compute them)."""
    kw = {"rows": rows, "seed": seed, "total_rows": total_rows}
    return {
        "first": run_generator("first_name", column="first", **kw),
        "last": run_generator("last_name", column="last", **kw),
        "sex": run_generator("gender", column="sex", **kw),
        "state": run_generator("address", {"field": "state"}, column="state", **kw),
        "zip": run_generator("address", {"field": "postal_code"}, column="zip", **kw),
    }


CASES = [
    ("gender", {}),
    ("first_name", {}),
    ("first_name", {"gender": "female"}),
    ("first_name", {"gender_column": "sex"}),
    ("last_name", {}),
    ("email", {"first": "first", "last": "last"}),
    ("phone", {}),
    ("phone", {"format": "e164", "area_code_from": "zip"}),
    ("driver_license", {"state_column": "state"}),
    *[("address", {"field": f}) for f in ADDRESS_FIELDS],
    ("address", {"field": "city", "states": ["VT", "nh"], "weighting": "uniform"}),
]


def _run(name, params, rows, seed=1, unique=False, total_rows=None):
    cols = person(rows, seed=seed, total_rows=total_rows)
    return run_generator(name, params, rows=rows, seed=seed, unique=unique, total_rows=total_rows,
                         columns=cols)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_deterministic_and_chunking_independent(name, params):
    for unique in (False, True):
        if unique and not registry()[name].supports_unique:
            continue
        full = _run(name, params, np.arange(1000), unique=unique, total_rows=1000)
        again = _run(name, params, np.arange(1000), unique=unique, total_rows=1000)
        assert full.equals(again)
        tail = _run(name, params, np.arange(500, 1000), unique=unique, total_rows=1000)
        assert tail.equals(full.slice(500))
        scattered = np.array([999, 3, 500, 0, 42, 42])
        picked = _run(name, params, scattered, unique=unique, total_rows=1000)
        assert picked.equals(full.take(pa.array(scattered)))
        if params.get("field") != "country":
            other = _run(name, params, np.arange(1000), seed=2, unique=unique, total_rows=1000)
            assert not other.equals(full)


def test_last_name_frequencies():
    names = run_generator("last_name", rows=100_000).to_pylist()
    counts = Counter(names)
    assert counts.most_common(1)[0][0] == "Smith"
    assert 0.015 < counts["Smith"] / len(names) < 0.03  # census weight 0.0217 of the top 1000
    assert len(counts) > 900


def test_first_name_frequencies_and_gender_coherence():
    n = 100_000
    first = run_generator("first_name", rows=n, column="first").to_pylist()
    sex = run_generator("gender", rows=n, column="sex").to_pylist()
    assert len(set(first)) >= 500
    table = load_vocab("first_names").to_pylist()
    female = {r["name"] for r in table if r["gender"] == "F"}
    male = {r["name"] for r in table if r["gender"] == "M"}
    only_f, only_m = female - male, male - female
    assert 0.48 < sex.count("F") / n < 0.52
    for name, s in zip(first, sex, strict=True):
        assert (s == "F" and name not in only_m) or (s == "M" and name not in only_f)
    # gender fixed or read from a column
    fixed = set(run_generator("first_name", {"gender": "male"}, rows=5000).to_pylist())
    assert fixed <= male
    col = pa.array(["F", "male", None, "x", "f"] * 1000)
    follow = run_generator("first_name", {"gender_column": "g"}, rows=5000, columns={"g": col}).to_pylist()
    assert all(follow[i] in female for i in range(0, 5000, 5))
    assert all(follow[i] in male for i in range(1, 5000, 5))
    assert all(follow[i] in female for i in range(4, 5000, 5))


def test_address_fields_agree_with_one_zip_record():
    n = 100_000
    cols = {f: run_generator("address", {"field": f}, rows=n).to_pylist()
            for f in ["city", "state", "postal_code", "county", "area_code", "state_name", "latitude"]}
    vocab = load_vocab("us_zips").to_pylist()
    records = {(r["city"], r["state"], r["postal_code"], r["county"], r["area_code"]): r for r in vocab}
    for key in zip(cols["city"], cols["state"], cols["postal_code"], cols["county"], cols["area_code"],
                   strict=True):
        assert key in records
    states = {s["state"]: s["state_name"] for s in load_vocab("us_states").to_pylist()}
    assert all(states[s] == name for s, name in zip(cols["state"], cols["state_name"], strict=True))
    lat = {r["postal_code"]: r["latitude"] for r in vocab}
    assert all(abs(lat[z] - y) <= 0.0101 for z, y in zip(cols["postal_code"], cols["latitude"], strict=True))
    # population weighting: California and Texas lead, Wyoming is rare
    by_state = Counter(cols["state"])
    assert by_state.most_common(2)[0][0] == "CA"
    assert 0.10 < by_state["CA"] / n < 0.14
    assert by_state["WY"] / n < 0.004
    assert len(by_state) == 51


def test_address_state_restriction_and_validation():
    states = run_generator("address", {"field": "state", "states": ["ca", "NV"]}, rows=20_000).to_pylist()
    assert set(states) == {"CA", "NV"}
    zips = run_generator("address", {"field": "postal_code", "states": ["CA", "NV"]}, rows=20_000).to_pylist()
    assert all(z[:2] == "89" or z[0] == "9" for z in zips)  # NV 889-898, CA 900-961
    with pytest.raises(ValidationError):
        run_generator("address", {"field": "city", "states": ["XX"]})
    with pytest.raises(ValidationError):
        run_generator("address", {"field": "city", "states": []})
    with pytest.raises(ValidationError):
        run_generator("address", {"field": "zip"})


def test_address_street_lines():
    n = 20_000
    line1 = run_generator("address", {"field": "line1"}, rows=n).to_pylist()
    street = run_generator("address", {"field": "street"}, rows=n).to_pylist()
    suffixes = set(load_vocab("street_suffixes").column("name").to_pylist())
    for l1, st in zip(line1, street, strict=True):
        number, rest = l1.split(" ", 1)
        assert rest == st and re.fullmatch(r"[1-9][0-9]{0,4}", number)
        assert st.rsplit(" ", 1)[1] in suffixes
    abbreviated = run_generator("address", {"field": "street", "abbreviate_suffix": True}, rows=n).to_pylist()
    assert [s.rsplit(" ", 1)[0] for s in abbreviated] == [s.rsplit(" ", 1)[0] for s in street]
    assert {s.rsplit(" ", 1)[1] for s in abbreviated} <= set(load_vocab("street_suffixes")
                                                              .column("abbreviation").to_pylist())
    line2 = run_generator("address", {"field": "line2", "line2_rate": 0.3}, rows=n)
    assert line2.null_count == n - round(0.3 * n)
    assert all(re.fullmatch(r"(Apt|Unit|Suite) [1-9][0-9]{0,2}", v) for v in line2.drop_null().to_pylist())
    assert run_generator("address", {"field": "line2", "line2_rate": 0.0}, rows=100).null_count == 100
    assert set(run_generator("address", {"field": "country"}, rows=10).to_pylist()) == {"US"}


def clean(name):
    """What the e-mail generator makes of a name (accents folded by hand for the test names)."""
    folded = (name or "").lower().translate(str.maketrans("éëñúü", "eenuu"))
    return re.sub(r"[^a-z0-9]", "", folded) or "user"


def stems(first, last):
    """Every local part (without number) the e-mail patterns can make of two names."""
    f, s = clean(first), clean(last)
    return {f"{f}.{s}", f"{f}{s}", f"{f}_{s}", f"{f[0]}{s}", f"{f}{s[0]}", f"{s}.{f}", f"{s}{f[0]}", f}


def test_email_unique_and_derived_from_names():
    n = 200_000
    cols = person(n)
    emails = run_generator("email", {"first": "first", "last": "last"}, rows=n, unique=True,
                           columns=cols).to_pylist()
    assert len(set(emails)) == n
    firsts, lasts = cols["first"].to_pylist(), cols["last"].to_pylist()
    numbers = set()
    for i in range(0, n, 97):
        local, domain = emails[i].split("@")
        assert domain in {"example.com", "example.net", "example.org"}
        stem, number = local.rsplit(".", 1)
        numbers.add(int(number))
        assert stem in stems(firsts[i], lasts[i])
        assert re.fullmatch(r"[a-z0-9._]+", stem)
    assert max(numbers) < n


def test_email_without_unique_and_odd_names():
    first = pa.array(["José", "O'Brien", None, "  ", "Zoë-Ann"] * 200)
    last = pa.array(["Núñez", "Smith Jr.", "Lee", "", "D'Arcy"] * 200)
    emails = run_generator("email", {"first": "f", "last": "l", "domains": ["Corp.Example"]}, rows=1000,
                           columns={"f": first, "l": last}).to_pylist()
    for i, e in enumerate(emails):
        local = re.fullmatch(r"([a-z_.]+)[0-9]*@corp\.example", e).group(1)
        assert local in stems(first[i].as_py(), last[i].as_py()), (e, first[i], last[i])
    plain = run_generator("email", {"first": "first", "last": "last"}, rows=20_000, columns=person(20_000))
    with_digit = pc.sum(pc.cast(pc.match_substring_regex(plain, r"[0-9]@"), pa.int64())).as_py()
    assert 0.3 < with_digit / 20_000 < 0.5
    with pytest.raises(ValidationError):
        run_generator("email", {"first": "f", "last": "l", "domains": ["bad domain"]})


PHONE_RE = {
    "national": r"\(([2-9][0-9]{2})\) ([2-9][0-9]{2})-[0-9]{4}",
    "e164": r"\+1([2-9][0-9]{2})([2-9][0-9]{2})[0-9]{4}",
    "digits": r"([2-9][0-9]{2})([2-9][0-9]{2})[0-9]{4}",
}


@pytest.mark.parametrize("fmt", sorted(PHONE_RE))
def test_phone_format(fmt):
    values = run_generator("phone", {"format": fmt}, rows=20_000).to_pylist()
    area_codes = {str(a) for a in _zips().area_codes}
    for v in values:
        m = re.fullmatch(PHONE_RE[fmt], v)
        assert m, v
        area, exchange = m.groups()
        assert area in area_codes
        assert exchange[1:] != "11" and exchange != "555"


def test_phone_unique_and_area_code_from_zip():
    n = 200_000
    zips = run_generator("address", {"field": "postal_code"}, rows=n, column="zip")
    area = run_generator("address", {"field": "area_code"}, rows=n, column="area").to_pylist()
    phones = run_generator("phone", {"area_code_from": "zip"}, rows=n, unique=True, columns={"zip": zips})
    values = phones.to_pylist()
    assert len(set(values)) == n
    assert len({v[6:] for v in values}) == n  # the subscriber part alone is unique
    assert all(v[1:4] == a for v, a in zip(values, area, strict=True))
    assert registry()["phone"](registry()["phone"].Params()).capacity() == 7_910_000
    # ZIP+4, integers, nulls and unknown ZIPs
    odd = pa.array(["94105-1234", None, "00000", "abc", " 10001 "])
    got = run_generator("phone", {"area_code_from": "z"}, rows=5, columns={"z": odd}).to_pylist()
    assert got[0].startswith("(415)") and got[4][1:4] in {"212", "332", "646", "917"}
    ints = run_generator("phone", {"area_code_from": "z"}, rows=2, columns={"z": pa.array([94105, 10001])})
    assert ints.to_pylist()[0].startswith("(415)")


def _license_regex(fmt):
    return "".join({"#": "[0-9]", "@": "[A-Z]", "*": "[0-9A-Z]"}.get(c, re.escape(c)) for c in fmt)


def test_driver_license_formats_and_uniqueness():
    n = 200_000
    states = run_generator("address", {"field": "state"}, rows=n, column="state")
    numbers = run_generator("driver_license", {"state_column": "state"}, rows=n, unique=True,
                            columns={"state": states})
    assert numbers.null_count == 0
    pairs = list(zip(states.to_pylist(), numbers.to_pylist(), strict=True))
    assert len(set(pairs)) == n
    patterns = {s: re.compile(_license_regex(f)) for s, f in DRIVER_LICENSE_FORMATS.items()}
    for state, number in pairs:
        assert patterns[state].fullmatch(number), (state, number)
    assert len(DRIVER_LICENSE_FORMATS) == 51
    assert set(DRIVER_LICENSE_FORMATS) == set(load_vocab("us_states").column("state").to_pylist())
    gen = registry()["driver_license"](registry()["driver_license"].Params(state_column="s"))
    assert gen.capacity() == 10**8
    assert gen.dependencies() == {"s"}


def test_driver_license_unknown_and_odd_states():
    col = pa.array(["ca", None, "ZZ", " ny ", "WA", "C"])
    got = run_generator("driver_license", {"state_column": "s"}, rows=6, columns={"s": col}).to_pylist()
    assert re.fullmatch(r"[A-Z][0-9]{7}", got[0])
    assert got[1] is None and got[2] is None and got[5] is None
    assert re.fullmatch(r"[0-9]{9}", got[3])
    assert re.fullmatch(r"WDL[0-9A-Z]{9}", got[4])
    # the same state code gives the same number whatever the other rows hold
    alone = run_generator("driver_license", {"state_column": "s"}, rows=np.array([4]),
                          columns={"s": pa.array(["WA"])}).to_pylist()
    assert alone == [got[4]]


def test_state_index_fast_and_slow_paths():
    states = ["CA", "NY", "TX"]
    fast = _state_index(pa.array(["ca", "NY", "tx", "zz", "C1"]), states)
    slow = _state_index(pa.array(["ca", "NY", "tx", "zz", "C1", None]), states)
    assert fast.tolist() == [0, 1, 2, -1, -1]
    assert slow.tolist() == [0, 1, 2, -1, -1, -1]


def test_inverse_cdf_matches_choice_from():
    rng = np.random.default_rng(7)  # test data only
    u = np.concatenate([rng.random(200_000), [1e-300, 0.5, 0.25, 1 - 2**-53]])
    for weights in [rng.random(380), rng.pareto(1.0, 30_000) + 1e-3, np.array([1.0]),
                    np.array([0.0, 1.0, 0.0, 0.0, 2.0]), np.r_[np.full(1000, 1e-9), 1.0]]:
        cdf = np.cumsum(weights)
        assert np.array_equal(_InverseCdf(cdf)(u), choice_from(cdf, u))


@pytest.mark.parametrize("size", [1, 2, 5, 16, 17, 1000, 65_537, 300_001])
def test_bijection(size):
    ctx = Context(seed=3, table="t", column="c", rows=np.arange(size), total_rows=size,
                  as_of=dt.date(2026, 1, 1), unique=True, source=DictSource(), stream_name="c")
    rows = np.arange(size)
    values = _bijection(ctx, size, "x", rows)
    assert np.array_equal(np.sort(values), rows)
    assert np.array_equal(_bijection(ctx, size, "x", rows[size // 3:]), values[size // 3:])
    with pytest.raises(ValueError):
        _bijection(ctx, size, "x", np.array([size]))
