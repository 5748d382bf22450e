"""Regenerate the identity vocabularies in ``src/esdh/packs/vocab/`` from faker and zipcodes.

Run from the repository root::

    pip install faker zipcodes
    python scripts/build_vocab.py

The output is deterministic (fixed ordering, fixed number formatting, ``\\n`` line endings), so a
re-run with the same faker and zipcodes versions gives byte-identical files. faker and zipcodes are
build-time inputs only: the generators read the CSV files, never these packages.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "esdh" / "packs" / "vocab"

# The 50 states and DC with their 2020 Census resident populations (U.S. Census Bureau, public domain).
STATES: list[tuple[str, str, int]] = [
    ("AL", "Alabama", 5024279), ("AK", "Alaska", 733391), ("AZ", "Arizona", 7151502),
    ("AR", "Arkansas", 3011524), ("CA", "California", 39538223), ("CO", "Colorado", 5773714),
    ("CT", "Connecticut", 3605944), ("DE", "Delaware", 989948), ("DC", "District of Columbia", 689545),
    ("FL", "Florida", 21538187), ("GA", "Georgia", 10711908), ("HI", "Hawaii", 1455271),
    ("ID", "Idaho", 1839106), ("IL", "Illinois", 12812508), ("IN", "Indiana", 6785528),
    ("IA", "Iowa", 3190369), ("KS", "Kansas", 2937880), ("KY", "Kentucky", 4505836),
    ("LA", "Louisiana", 4657757), ("ME", "Maine", 1362359), ("MD", "Maryland", 6177224),
    ("MA", "Massachusetts", 7029917), ("MI", "Michigan", 10077331), ("MN", "Minnesota", 5706494),
    ("MS", "Mississippi", 2961279), ("MO", "Missouri", 6154913), ("MT", "Montana", 1084225),
    ("NE", "Nebraska", 1961504), ("NV", "Nevada", 3104614), ("NH", "New Hampshire", 1377529),
    ("NJ", "New Jersey", 9288994), ("NM", "New Mexico", 2117522), ("NY", "New York", 20201249),
    ("NC", "North Carolina", 10439388), ("ND", "North Dakota", 779094), ("OH", "Ohio", 11799448),
    ("OK", "Oklahoma", 3959353), ("OR", "Oregon", 4237256), ("PA", "Pennsylvania", 13002700),
    ("RI", "Rhode Island", 1097379), ("SC", "South Carolina", 5118425), ("SD", "South Dakota", 886667),
    ("TN", "Tennessee", 6910840), ("TX", "Texas", 29145505), ("UT", "Utah", 3271616),
    ("VT", "Vermont", 643077), ("VA", "Virginia", 8631393), ("WA", "Washington", 7705281),
    ("WV", "West Virginia", 1793716), ("WI", "Wisconsin", 5893718), ("WY", "Wyoming", 576851),
]

# Common street suffixes (a subset of faker's en_US street_suffixes) with USPS Publication 28
# abbreviations and hand-set relative weights (roughly how often each appears on residential streets).
SUFFIXES: list[tuple[str, str, int]] = [
    ("Street", "St", 30), ("Avenue", "Ave", 16), ("Road", "Rd", 14), ("Drive", "Dr", 14),
    ("Lane", "Ln", 10), ("Court", "Ct", 8), ("Way", "Way", 6), ("Place", "Pl", 5),
    ("Circle", "Cir", 5), ("Boulevard", "Blvd", 3), ("Trail", "Trl", 3), ("Terrace", "Ter", 2),
    ("Parkway", "Pkwy", 2), ("Loop", "Loop", 2), ("Run", "Run", 1), ("Path", "Path", 1),
    ("Pike", "Pike", 1), ("Ridge", "Rdg", 1), ("Square", "Sq", 1), ("Crossing", "Xing", 1),
    ("Highway", "Hwy", 1), ("Cove", "Cv", 1), ("Point", "Pt", 1), ("Row", "Row", 1),
    ("Hollow", "Holw", 1), ("Pass", "Pass", 1), ("Grove", "Grv", 1), ("Heights", "Hts", 1),
]

# Frequently occurring US street names (ordinals, trees, landmarks, presidents), hand-listed;
# these facts are not copyrightable. They get a higher weight than the person-name streets.
COMMON_STREETS: list[tuple[str, int]] = [
    ("Main", 40), ("Park", 20), ("Oak", 20), ("Pine", 18), ("Maple", 18), ("Cedar", 16), ("Elm", 15),
    ("Washington", 15), ("Lake", 14), ("Hill", 14), ("Walnut", 10), ("Spring", 10), ("Church", 10),
    ("Center", 9), ("Lincoln", 9), ("Jackson", 8), ("Franklin", 8), ("Jefferson", 8), ("Madison", 8),
    ("Willow", 8), ("Sunset", 8), ("Highland", 8), ("Ridge", 8), ("Meadow", 7), ("River", 7),
    ("Mill", 7), ("Forest", 7), ("Cherry", 7), ("Chestnut", 7), ("Spruce", 6), ("Birch", 6),
    ("Hickory", 6), ("Dogwood", 6), ("Magnolia", 6), ("Sycamore", 5), ("Poplar", 5), ("Laurel", 5),
    ("Railroad", 5), ("School", 5), ("Prospect", 5), ("Union", 5), ("Market", 5), ("Broad", 5),
    ("Water", 5), ("Bridge", 4), ("Valley", 5), ("Lakeview", 4), ("Hillside", 4), ("Woodland", 4),
    ("Fairview", 4), ("Adams", 4), ("Monroe", 4), ("Academy", 3), ("College", 3), ("Front", 4),
    ("High", 5), ("Mulberry", 3), ("Locust", 3), ("Holly", 3), ("Aspen", 3), ("Juniper", 3),
    ("Cypress", 3), ("Orchard", 3), ("Country Club", 3), ("Green", 4), ("Grove", 4), ("Liberty", 4),
    ("Summit", 3), ("Riverside", 3), ("Bay", 3), ("Canyon", 2), ("Mountain View", 2),
    ("Pleasant", 3), ("Cross", 3), ("King", 3), ("Kennedy", 2), ("Roosevelt", 2), ("Wilson", 2),
]
ORDINALS = [
    "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th", "12th",
    "13th", "14th", "15th", "16th", "17th", "18th", "19th", "20th",
]

FIRST_STREET_NAMES = 150  # the most frequent first names used as street names (faker's format)
LAST_STREET_NAMES = 400  # the most frequent last names used as street names (faker's format)


def write(name: str, header: list[str], rows: list[list[object]]) -> None:
    path = OUT / f"{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{path.name}: {len(rows)} rows, {path.stat().st_size} bytes")


def weight(value: float) -> str:
    return f"{value:.9f}"


def main() -> int:
    import zipcodes
    from faker.providers.person.en_US import Provider as Person

    OUT.mkdir(parents=True, exist_ok=True)

    # first names: faker's en_US SSA top names of the 1960s-1990s with frequency weights
    first: list[list[object]] = []
    for gender, table in (("F", Person.first_names_female), ("M", Person.first_names_male)):
        first.extend([name, gender, weight(w)] for name, w in table.items())
    first.sort(key=lambda r: (r[1], r[0]))
    write("first_names", ["name", "gender", "weight"], first)

    # last names: faker's en_US top 1000 surnames of the US Census with frequency weights
    last = sorted(([name, weight(w)] for name, w in Person.last_names.items()), key=lambda r: r[0])
    write("last_names", ["name", "weight"], last)

    # states
    write("us_states", ["state", "state_name", "population"], [list(s) for s in STATES])

    # ZIP codes: active STANDARD ZIPs of the 50 states and DC with a county and an area code
    known = {s[0] for s in STATES}
    zips = []
    for z in zipcodes.list_all():
        if not (z["active"] and z["zip_code_type"] == "STANDARD" and z["state"] in known):
            continue
        if not z["county"] or not z["area_codes"] or not z["lat"] or not z["long"]:
            continue
        zips.append([z["zip_code"], z["city"], z["state"], z["county"], z["area_codes"][0],
                     f"{float(z['lat']):.4f}", f"{float(z['long']):.4f}"])
    zips.sort(key=lambda r: r[0])
    missing = known - {r[2] for r in zips}
    if missing:
        raise SystemExit(f"no ZIP codes for {sorted(missing)}")
    write("us_zips", ["postal_code", "city", "state", "county", "area_code", "latitude", "longitude"], zips)

    # street names: common names, ordinals and (as faker's en_US formats do) first and last names
    streets: Counter[str] = Counter()
    for name, w in COMMON_STREETS:
        streets[name] += w
    for i, name in enumerate(ORDINALS):
        streets[name] += max(2, 20 - i)
    females = sorted(Person.first_names_female.items(), key=lambda kv: (-kv[1], kv[0]))
    males = sorted(Person.first_names_male.items(), key=lambda kv: (-kv[1], kv[0]))
    for name, _ in (females[: FIRST_STREET_NAMES // 2] + males[: FIRST_STREET_NAMES // 2]):
        streets[name] += 1
    for name, _ in sorted(Person.last_names.items(), key=lambda kv: (-kv[1], kv[0]))[:LAST_STREET_NAMES]:
        streets[name] += 1
    write("street_names", ["name", "weight"], [[n, streets[n]] for n in sorted(streets)])
    write("street_suffixes", ["name", "abbreviation", "weight"], [list(s) for s in SUFFIXES])
    return 0


if __name__ == "__main__":
    sys.exit(main())
