"""Config folders (``dataset.yaml``, ``schema.yaml``, ``evolution.yaml``) loaded as ESDH specs.

The config-folder platform described a dataset with three files and generated values from the column
*name only* (``val_17`` strings for most columns, 60 distinct timestamps, sequential ids everywhere).
This module translates such a folder into an ordinary ESDH spec mapping, which ``load_spec`` then
checks and compiles like any other spec. The translation gives every column real semantics, chosen
from its name and type by the table of rules ``RULES`` (first match wins): ids become a primary key
or ids drawn from a pool, money becomes log-normal amounts within the constraints, datetimes spread
over the year before ``as_of``, categories get realistic vocabularies, fraud flags get the evolution
fraud rate exactly and ``missingness`` becomes an exact ``null_rate``.

Every problem in any of the three files is collected and reported at once, with the file, line and
dotted path of the key (see docs/spec.md, "Config folders", for the rules).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esdh.errors import SpecError, SpecProblem
from esdh.rng import derive_key
from esdh.spec.yamlsource import Path_, SourceMap, dotted, read_yaml

__all__ = ["DEFAULT_AS_OF", "RULES", "FolderSourceMap", "load_config_folder", "read_config_folder", "rule_for"]

DATASET, SCHEMA, EVOLUTION = "dataset.yaml", "schema.yaml", "evolution.yaml"
FILES = (DATASET, SCHEMA, EVOLUTION)
DEFAULT_AS_OF = dt.date(2026, 1, 1)  # the dataset's "today" when dataset.yaml gives no as_of
FOLDER_TYPES = {"string": "string", "integer": "integer", "float": "number", "boolean": "boolean",
              "datetime": "datetime"}  # folder type -> ESDH type
TYPE_ALIASES = {"int": "integer", "str": "string", "text": "string", "double": "float", "number": "float",
                "bool": "boolean", "timestamp": "datetime"}
NUMERIC = ("integer", "float")

# Keys each file may hold. Other keys are ignored, as the platform ignored them, except close misspellings
# of these (``nullabel``, ``row_cont``), which are reported.
DATASET_KEYS = {"name", "domain", "description", "row_count", "rows", "seed", "as_of", "version", "title"}
SCHEMA_KEYS = {"schema_version", "columns"}
COLUMN_KEYS = {"name", "type", "nullable", "constraints", "description"}
CONSTRAINT_KEYS = {"min", "max"}
EVOLUTION_KEYS = {"fraud_rate", "weekly_changes", "fraud", "missingness"}
HINT_FRAUD = "give evolution.yaml a fraud_rate (or weekly_changes: [{fraud_rate: ...}], or fraud: {rate: ...})"


# ---- source locations ------------------------------------------------------------------------------


@dataclass
class FolderSourceMap(SourceMap):
    """Where each part of the translated spec came from: a file of the folder, its line and the key's
    path in that file. Problems found later (while compiling or planning) point there."""

    origins: dict[Path_, tuple[str, int | None, str]] = field(default_factory=dict)

    def _origin(self, path: Path_) -> tuple[str, int | None, str] | None:
        for cut in range(len(path), -1, -1):
            origin = self.origins.get(tuple(path[:cut]))
            if origin is not None:
                return origin
        return None

    def line_of(self, path: Path_) -> int | None:
        origin = self._origin(path)
        return origin[1] if origin else None

    def problem(self, path: Path_, message: str, hint: str = "") -> SpecProblem:
        origin = self._origin(path)
        if origin is None:
            return SpecProblem(path=dotted(path), message=message, hint=hint, file=self.file)
        file, line, folder_path = origin
        return SpecProblem(path=folder_path or dotted(path), message=f"{message} (in the translated {dotted(path)})",
                           hint=hint, file=file, line=line)


class _Unfit(Exception):
    """A column the rules cannot translate as configured (reported on its schema.yaml line)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


# ---- the column context and the rules ---------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """What a rule knows about a column when it builds the ESDH column."""

    name: str
    type: str                      # folder type: string, integer, float, boolean, datetime
    lo: Any                        # constraints.min (None if not given)
    hi: Any                        # constraints.max
    rows: int                      # the table's row count
    key: bool                      # this column is the table's primary key
    fraud_rate: float | None       # from evolution.yaml
    types: Mapping[str, str]       # every column of the table -> its folder type
    missing: frozenset[str]        # columns with missingness


Build = Callable[[Col], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    """Columns whose lower-cased name fully matches ``pattern`` and whose folder type is in ``types`` are
    built by ``build``. A column without a type (legacy list form) matches on its name alone when
    ``infers`` is true, and takes the rule's first type."""

    pattern: str
    types: tuple[str, ...]
    build: Build
    what: str
    infers: bool = True

    def matches(self, name: str, folder_type: str | None) -> bool:
        if folder_type is None and not self.infers:
            return False
        return (folder_type is None or folder_type in self.types) and re.fullmatch(self.pattern, name) is not None


# Vocabularies (value -> relative weight).
MERCHANT_CATEGORIES = {"Grocery": 22, "Retail": 18, "Food": 16, "Online": 14, "Utilities": 7, "Travel": 6,
                       "Health": 6, "Entertainment": 5, "Automotive": 4, "Education": 2}
PRODUCT_CATEGORIES = {"Electronics": 18, "Clothing": 20, "Home & Garden": 14, "Beauty": 10, "Sports": 9,
                      "Toys": 7, "Books": 8, "Grocery": 14}
STATUSES = {"delivered": 62, "shipped": 14, "processing": 8, "pending": 6, "cancelled": 6, "returned": 4}
SUBJECTS = {"Mathematics": 20, "English": 18, "Science": 15, "History": 10, "Geography": 7, "Physics": 8,
            "Chemistry": 8, "Biology": 8, "Computer Science": 6}
BUILDING_TYPES = {"Residential": 55, "Office": 15, "Retail": 12, "Industrial": 8, "Warehouse": 5, "School": 3,
                  "Hospital": 2}
EVENT_TYPES = {"page_view": 45, "click": 20, "login": 12, "search": 8, "feature_used": 7, "logout": 4,
               "signup": 2, "upgrade": 1, "downgrade": 0.5, "cancel": 0.5}
CLAIM_TYPES = {"Collision": 30, "Comprehensive": 18, "Liability": 15, "Glass": 12, "Theft": 8, "Water Damage": 8,
               "Medical": 5, "Fire": 4}
PLAN_TIERS = {"free": 55, "basic": 25, "pro": 15, "enterprise": 5}
SYMBOLS = {"AAPL": 1, "MSFT": 1, "NVDA": 1, "AMZN": 1, "GOOGL": 1, "META": 1, "TSLA": 1, "JPM": 1, "V": 1,
           "JNJ": 1, "WMT": 1, "XOM": 1, "PG": 1, "UNH": 1, "HD": 1, "KO": 1, "PEP": 1, "BAC": 1, "DIS": 1,
           "NFLX": 1}
DIAGNOSES = {"Essential hypertension": 14, "Type 2 diabetes mellitus": 10, "Acute upper respiratory infection": 10,
             "Hyperlipidemia": 8, "Low back pain": 7, "Major depressive disorder": 6, "Anxiety disorder": 6,
             "Asthma": 5, "Urinary tract infection": 5, "Pneumonia": 4, "COPD": 4, "Osteoarthritis of knee": 4,
             "Migraine": 3, "Heart failure": 3, "Atrial fibrillation": 3, "Gastroenteritis": 3,
             "Acute bronchitis": 3, "Chronic kidney disease": 2}
CURRENCIES = {"USD": 70, "EUR": 15, "GBP": 8, "CAD": 4, "JPY": 3}
PAYMENT_METHODS = {"card": 62, "bank_transfer": 14, "wallet": 16, "cash": 8}
CONTENT_PARTS = (  # social posts: lead + topic + tail, 12 x 15 x 10 combinations
    ["Just tried", "Loving", "Can't stop thinking about", "Big news about", "Quick thoughts on",
     "Anyone else into", "Throwback to", "Finally finished", "So excited for", "Not sure about",
     "Weekend plans:", "Hot take on"],
    ["the new coffee place downtown", "my morning run", "this week's release", "the game last night",
     "our team offsite", "homemade pasta", "the sunset at the beach", "learning Python", "the concert",
     "my garden", "a great book", "the product launch", "remote work", "the city marathon", "a road trip"],
    ["!", ".", "!!", " :)", "...", " - thoughts?", " #weekend", " #tbt", " #mondaymotivation", " #goals"],
)

# Ids of things a row refers to (not the row's own key): stem -> (rows per distinct id, first id).
DIMENSIONS = {"account": (10, 100000), "user": (10, 1), "customer": (10, 1), "merchant": (50, 1),
              "sensor": (100, 1), "meter": (100, 1), "device": (100, 1), "store": (500, 1),
              "product": (30, 1), "policy": (2, 1), "student": (10, 1), "patient": (5, 1),
              "driver": (20, 1), "vendor": (100, 1), "supplier": (100, 1), "employee": (20, 1)}
DEFAULT_IDS_PER = 10

# Datetime columns that follow another one: later -> (earlier candidates, at most this many days later).
FOLLOWS = {"delivery_date": (("ship_date", "shipment_date", "order_date"), 14),
           "discharge_date": (("admission_date",), 30),
           "end_date": (("start_date",), 365),
           "end_time": (("start_time",), 1),
           "closed_at": (("opened_at", "created_at"), 90),
           "resolved_at": (("created_at", "opened_at"), 30)}


def _bounds(c: Col, lo: float | None = None, hi: float | None = None) -> tuple[Any, Any]:
    """The generation bounds: the constraints, else the rule's defaults; whole numbers for integers."""
    low = c.lo if c.lo is not None else lo
    high = c.hi if c.hi is not None else hi
    if c.type == "integer":
        low = None if low is None else math.ceil(low)
        high = None if high is None else math.floor(high)
        if low is not None and high is not None and low > high:
            raise _Unfit(f"no whole number lies within [{c.lo}, {c.hi}]", "widen the constraints")
    return low, high


def _bounded(params: dict[str, Any], lo: Any, hi: Any) -> dict[str, Any]:
    return {**params, **({"min": lo} if lo is not None else {}), **({"max": hi} if hi is not None else {})}


def _identifier(c: Col) -> dict[str, Any]:
    stem = c.name[:-3] if c.name.endswith("_id") else c.name
    if c.key:
        start = math.ceil(c.lo) if c.lo is not None else 1
        if c.hi is not None and start + c.rows - 1 > c.hi:
            raise _Unfit(f"primary key {c.name} needs {c.rows:,} distinct values but constraints allow "
                         f"[{start}, {c.hi}]", "raise constraints.max or lower row_count")
        return {"generator": "sequence", "start": start, "description": f"primary key: {start}, {start + 1}, ..."}
    per, first = DIMENSIONS.get(stem, (DEFAULT_IDS_PER, 1))
    lo, hi = c.lo, c.hi
    if lo is None and hi is None:
        lo, hi = first, first + max(1, c.rows // per) - 1
    elif lo is None:
        lo = min(first, math.floor(hi))
    elif hi is None:
        hi = math.ceil(lo) + max(1, c.rows // per) - 1
    lo, hi = math.ceil(lo), math.floor(hi)
    if lo > hi:
        raise _Unfit(f"no whole number lies within [{c.lo}, {c.hi}]", "widen the constraints")
    return {"generator": "uniform_int", "min": lo, "max": hi,
            "description": f"one of {hi - lo + 1:,} {stem} ids ({lo} to {hi}), uniform"}


def _fraud(c: Col) -> dict[str, Any]:
    return {"generator": "flag", "rate": c.fraud_rate if c.fraud_rate is not None else 0.0}


def _money(default_median: float) -> Build:
    def build(c: Col) -> dict[str, Any]:
        lo, hi = c.lo, c.hi
        if hi is not None and hi <= 0:
            raise _Unfit(f"a money column needs a positive max, got {hi}", "give constraints.max > 0")
        if lo is not None and hi is not None:  # geometric middle of the range, ignoring sub-unit minimums
            median = math.sqrt(max(lo, hi * 1e-4) * hi)
        elif lo is not None:
            median = default_median if default_median > lo else max(lo, 1) * 3
        elif hi is not None:
            median = min(default_median, hi / 10)
        else:
            median = default_median
        precision = 0 if c.type == "integer" else 2
        return _bounded({"generator": "amount", "median": round(median, 2), "sigma": 1.0, "precision": precision},
                        lo, hi)
    return build


def _when(c: Col) -> dict[str, Any]:
    follows = FOLLOWS.get(c.name)
    if follows and c.lo is None and c.hi is None:
        earlier = next((e for e in follows[0] if c.types.get(e) == "datetime" and e not in c.missing), None)
        if earlier:
            return {"generator": "timestamp", "min": f"min(add_days({earlier}, 1), as_of)",
                    "max": f"min(add_days({earlier}, {follows[1]}), as_of)"}
    lo = "-1y" if c.lo is None else c.lo
    hi: Any = "as_of"
    if c.hi is not None:  # the check's max date is midnight: the last whole day before it is the last one
        hi = c.hi - dt.timedelta(days=1)
        if c.lo is not None and hi < c.lo:
            raise _Unfit(f"datetime constraints [{c.lo}, {c.hi}] hold no whole day", "make max later than min")
    return {"generator": "timestamp", "min": lo, "max": hi}


def _measure(mean: float, std: float, decimals: int, lo: float | None = None, hi: float | None = None) -> Build:
    """A truncated normal around a typical value, moved to the middle of the bounds if outside them."""
    def build(c: Col) -> dict[str, Any]:
        low, high = _bounds(c, lo, hi)
        mu, sd = mean, std
        if low is not None and high is not None and not low <= mu <= high:
            mu, sd = (low + high) / 2, max((high - low) / 6, 1e-9)
        elif low is not None and high is None and mu < low:
            mu = low + sd
        elif high is not None and low is None and mu > high:
            mu = high - sd
        if low is not None and high is not None and high > low:
            sd = min(sd, (high - low) / 2)
        return _bounded({"generator": "normal", "mean": mu, "std": sd,
                         "round": 0 if c.type == "integer" else decimals}, low, high)
    return build


def _score(c: Col) -> dict[str, Any]:
    low, high = _bounds(c, 0, 100)
    span = high - low
    return _measure(low + 0.7 * span, span / 6 or 1.0, 1)(c)


def _gamma(shape: float, scale: float, decimals: int) -> Build:
    def build(c: Col) -> dict[str, Any]:
        low, high = _bounds(c, 0, None)
        return _bounded({"generator": "gamma", "shape": shape, "scale": scale,
                         "round": 0 if c.type == "integer" else decimals}, low, high)
    return build


def _count(lam: float, lo: int, hi: int | None = None) -> Build:
    """Poisson counts around ``lam`` within the bounds."""
    def build(c: Col) -> dict[str, Any]:
        low, high = _bounds(c, lo, hi)
        mean = lam
        if low is not None and mean < low:
            mean = low + 1
        if high is not None and mean > high:
            mean = max(high / 2, 0.5)
        return _bounded({"generator": "poisson", "lam": mean}, low, high)
    return build


def _heavy(median: float, sigma: float) -> Build:
    """Heavy-tailed counts (likes, volumes): log-normal whole numbers within the bounds."""
    def build(c: Col) -> dict[str, Any]:
        low, high = _bounds(c, 0, None)
        med = median if high is None else min(median, max(high / 10, 1))
        return _bounded({"generator": "amount", "median": med, "sigma": sigma,
                         "precision": 0 if c.type == "integer" else 2}, low, high)
    return build


def _generic_number(c: Col) -> dict[str, Any]:
    low, high = _bounds(c)
    if low is None and high is None:
        low, high = 0, 1000
    elif low is None:
        low = high - 1000
    elif high is None:
        high = low + 1000
    if c.type == "integer":
        return {"generator": "uniform_int", "min": low, "max": high}
    return {"generator": "uniform", "min": low, "max": high, "round": 2}


def _choice(values: Mapping[str, float]) -> Build:
    return lambda c: {"generator": "choice", "values": dict(values)}


def _generator(name: str, **params: Any) -> Build:
    return lambda c: {"generator": name, **params}


def _city(c: Col) -> dict[str, Any]:
    return {"generator": "address", "field": "city", "group": c.name}  # origin and destination differ


def _flag(rate: float) -> Build:
    return lambda c: {"generator": "flag", "rate": rate, "exact": False}


def _code(c: Col) -> dict[str, Any]:
    prefix = re.sub(r"[^A-Z]", "", c.name.upper())[:3] or "C"
    return {"generator": "pattern", "pattern": f"{prefix}-######"}


def _content(c: Col) -> dict[str, Any]:
    return {"generator": "template", "parts": CONTENT_PARTS}  # expanded into hidden columns by the caller


RULES: list[Rule] = [
    Rule(r"id|.*_id", ("integer", "string"), _identifier, "identifier"),
    Rule(r"(is_)?fraud(ulent)?|fraud_flag", ("boolean", "integer"), _fraud, "fraud flag at the evolution fraud rate"),
    Rule(r"(.*_)?(amount|price|cost|total|revenue|fare|fee|balance|salary|income|premium)", NUMERIC,
         _money(50), "money: log-normal amount within the constraints"),
    Rule(r"timestamp|datetime|date|time|.*_(time|date|at|timestamp|datetime|ts)", ("datetime",), _when,
         "timestamp over the year before as_of"),
    Rule(r"age|.*_age", NUMERIC, _measure(42, 20, 0, 0, 100), "age: normal within the constraints"),
    Rule(r"(.*_)?(score|grade|rating)", NUMERIC, _score, "score: normal within [min, max]"),
    Rule(r"(.*_)?temp(erature)?", NUMERIC, _measure(21, 4, 1), "temperature: normal around 21"),
    Rule(r"(.*_)?humidity", NUMERIC, _measure(45, 12, 1, 0, 100), "humidity: normal around 45%"),
    Rule(r"(.*_)?(kwh|energy|consumption|usage)", NUMERIC, _gamma(2, 5, 3), "energy: gamma, mean 10"),
    Rule(r"quantity|qty|units|items|(.*_)?count", NUMERIC, _count(2, 1), "count: Poisson, mean 2"),
    Rule(r"bedrooms|bathrooms|rooms", NUMERIC, _count(3, 0), "rooms: Poisson, mean 3"),
    Rule(r"likes|shares|comments|views|followers|clicks|retweets", NUMERIC, _heavy(12, 1.4),
         "popularity: heavy-tailed whole numbers"),
    Rule(r"volume|(.*_)?volume", NUMERIC, _heavy(250000, 1.0), "traded volume: log-normal"),
    Rule(r"merchant_category", ("string",), _choice(MERCHANT_CATEGORIES), "merchant category"),
    Rule(r"(.*_)?category", ("string",), _choice(PRODUCT_CATEGORIES), "product category"),
    Rule(r"(.*_)?status", ("string",), _choice(STATUSES), "order status"),
    Rule(r"gender|sex", ("string",), _generator("gender"), "sex code F/M"),
    Rule(r"subject", ("string",), _choice(SUBJECTS), "school subject"),
    Rule(r"building_type", ("string",), _choice(BUILDING_TYPES), "building type"),
    Rule(r"event_type|event|action", ("string",), _choice(EVENT_TYPES), "product event"),
    Rule(r"claim_type", ("string",), _choice(CLAIM_TYPES), "insurance claim type"),
    Rule(r"plan_tier|tier|plan", ("string",), _choice(PLAN_TIERS), "subscription plan"),
    Rule(r"symbol|ticker", ("string",), _choice(SYMBOLS), "stock ticker"),
    Rule(r"diagnosis|condition", ("string",), _choice(DIAGNOSES), "diagnosis"),
    Rule(r"currency", ("string",), _choice(CURRENCIES), "currency code"),
    Rule(r"payment_method|payment_type|channel", ("string",), _choice(PAYMENT_METHODS), "payment method"),
    Rule(r"origin|destination|city|.*_city", ("string",), _city, "US city"),
    Rule(r"(.*_)?address|street|address_line_?1|line1", ("string",), _generator("address", field="line1"),
         "US street address"),
    Rule(r"state", ("string",), _generator("address", field="state"), "US state code"),
    Rule(r"zip|zip_?code|postal_code|postcode", ("string",), _generator("address", field="postal_code"), "ZIP code"),
    Rule(r"first_name", ("string",), _generator("first_name"), "first name"),
    Rule(r"last_name|surname", ("string",), _generator("last_name"), "last name"),
    Rule(r"phone|phone_number", ("string",), _generator("phone"), "US phone number"),
    Rule(r"content|text|body|message|caption|post", ("string",), _content, "post text from a template"),
    Rule(r"(is_|has_)?(occupancy|occupied)", ("boolean",), _flag(0.4), "occupied, 40%"),
    Rule(r"(is_)?active", ("boolean",), _flag(0.8), "active, 80%"),
    # fallbacks by type
    Rule(r".*", NUMERIC, _generic_number, "number: uniform within the constraints", infers=False),
    Rule(r".*", ("boolean",), _flag(0.5), "boolean: true half the time", infers=False),
    Rule(r".*", ("datetime",), _when, "timestamp over the year before as_of", infers=False),
    Rule(r".*", ("string",), _code, "text: an opaque code"),
]


def rule_for(name: str, folder_type: str | None) -> Rule:
    """The first rule that matches a column (the last rule matches every string or untyped column)."""
    return next(rule for rule in RULES if rule.matches(name.lower(), folder_type))


# ---- reading the folder ------------------------------------------------------------------------------


@dataclass
class _FolderColumn:
    name: str
    type: str | None
    nullable: bool
    lo: Any
    hi: Any
    description: str | None
    line: int | None
    path: Path_


def load_config_folder(folder: Path) -> dict[str, Any]:
    """The ESDH spec mapping of a config folder; raises SpecError listing every problem of its files."""
    return read_config_folder(folder)[0]


def read_config_folder(folder: Path) -> tuple[dict[str, Any], FolderSourceMap]:
    """The ESDH spec mapping of a config folder and where each of its parts came from."""
    return _Translator(Path(folder)).run()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dataset_name(raw: str) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", raw.strip().lower()).strip("_")
    name = re.sub(r"_+", "_", name) or "dataset"
    return f"d_{name}" if name[0].isdigit() else name


def _suggest(key: str, known: set[str]) -> str:
    from esdh.spec.compile import suggest

    return suggest(key, known)


class _Translator:
    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[SpecProblem] = []
        self.sources: dict[str, SourceMap] = {}
        self.unreadable: set[str] = set()
        self.origins: dict[Path_, tuple[str, int | None, str]] = {}

    # -- helpers --
    def file(self, name: str) -> str:
        return str(self.folder / name)

    def problem(self, name: str, path: Path_, message: str, hint: str = "") -> None:
        source = self.sources.get(name) or SourceMap(self.file(name))
        self.problems.append(source.problem(path, message, hint))

    def line(self, name: str, path: Path_) -> int | None:
        source = self.sources.get(name)
        return source.line_of(path) if source else None

    def origin(self, spec_path: Path_, name: str, folder_path: Path_) -> None:
        self.origins[spec_path] = (self.file(name), self.line(name, folder_path), dotted(folder_path))

    def read(self, name: str, required: bool) -> Any:
        path = self.folder / name
        self.sources[name] = SourceMap(str(path))
        if not path.is_file():
            if required:
                self.problems.append(SpecProblem("", f"{name} is missing", "a config folder holds dataset.yaml, "
                                                 "schema.yaml and (optionally) evolution.yaml", str(path)))
                self.unreadable.add(name)
            return None
        try:
            data, source = read_yaml(path)
        except SpecError as exc:
            self.problems += exc.problems
            self.unreadable.add(name)
            return None
        self.sources[name] = source
        if data is None and not required:
            return {}
        if not isinstance(data, dict):
            self.problem(name, (), f"{name} must be a mapping of keys", f"see the {name} format in docs/spec.md")
            self.unreadable.add(name)
            return None
        return data

    def misspelt(self, name: str, data: Mapping[str, Any], known: set[str], path: Path_ = ()) -> None:
        for key in data:
            close = _suggest(str(key), known) if key not in known else ""
            if close:
                self.problem(name, (*path, key), f"unknown key '{key}'", close)

    # -- the three files --
    def dataset(self) -> dict[str, Any]:
        data = self.read(DATASET, required=True)
        out: dict[str, Any] = {"name": _dataset_name(self.folder.resolve().name), "rows": None,
                               "seed": None, "as_of": DEFAULT_AS_OF}
        if data is None:
            return out
        self.misspelt(DATASET, data, DATASET_KEYS)
        raw = data.get("name")
        if raw is not None:
            if isinstance(raw, str | int) and not isinstance(raw, bool) and str(raw).strip():
                out["name"] = _dataset_name(str(raw))
                out["title"] = str(raw)
            else:
                self.problem(DATASET, ("name",), f"name must be text (got {raw!r})", "name the dataset")
        for key in ("description", "domain", "version"):
            if data.get(key) is not None:
                out[key] = str(data[key])
        keys = [k for k in ("row_count", "rows") if k in data]
        if not keys:
            self.problem(DATASET, (), "missing required key 'row_count'", "add row_count: <whole number > 0>")
        elif len(keys) == 2 and data["row_count"] != data["rows"]:
            self.problem(DATASET, ("rows",), f"rows ({data['rows']!r}) disagrees with row_count "
                         f"({data['row_count']!r})", "give one of them (rows is an alias of row_count)")
        else:
            out["rows_key"] = keys[0]
            value = data[keys[0]]
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                out["rows"] = value
            else:
                self.problem(DATASET, (keys[0],), f"{keys[0]} must be a whole number > 0 (got {value!r})",
                             "give the number of rows, e.g. row_count: 5000")
        if "seed" in data:
            seed = data["seed"]
            if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
                out["seed"] = seed
            else:
                self.problem(DATASET, ("seed",), f"seed must be a whole number >= 0 (got {seed!r})",
                             "remove it to derive the seed from the name")
        if "as_of" in data:
            out["as_of"] = self.as_of(data["as_of"])
        return out

    def as_of(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.problem(DATASET, ("as_of",), f"as_of must be a date YYYY-MM-DD (got {value!r})",
                         f"remove it to use {DEFAULT_AS_OF.isoformat()}")
            return DEFAULT_AS_OF

    def schema(self) -> list[_FolderColumn]:
        data = self.read(SCHEMA, required=True)
        if data is None:
            return []
        self.misspelt(SCHEMA, data, SCHEMA_KEYS)
        columns = data.get("columns")
        entries: list[tuple[Any, Any, Path_]] = []
        if isinstance(columns, dict):
            entries = [(name, spec, ("columns", name)) for name, spec in columns.items()]
        elif isinstance(columns, list):  # legacy: names, {name: x, ...} or {x: {...}}
            for i, item in enumerate(columns):
                if isinstance(item, dict) and "name" in item:
                    entries.append((item["name"], {k: v for k, v in item.items() if k != "name"}, ("columns", i)))
                elif isinstance(item, dict) and len(item) == 1:
                    (name, spec), = item.items()
                    entries.append((name, spec, ("columns", i, name)))
                else:
                    entries.append((item, None, ("columns", i)))
        if not entries:
            self.problem(SCHEMA, ("columns",) if "columns" in data else (),
                         "columns must be a non-empty mapping (or list) of columns",
                         "columns: {amount: {type: float, nullable: false}}")
            self.unreadable.add(SCHEMA)
            return []
        out: list[_FolderColumn] = []
        seen: set[str] = set()
        for name, spec, path in entries:
            column = self.column(name, spec, path, seen)
            if column is not None:
                seen.add(column.name)
                out.append(column)
        return out

    def column(self, name: Any, spec: Any, path: Path_, seen: set[str]) -> _FolderColumn | None:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            self.problem(SCHEMA, path, f"column name {name!r} is not a valid name",
                         "use letters, digits and _, not starting with a digit")
            return None
        if name in seen:
            self.problem(SCHEMA, path, f"column '{name}' is declared twice", "declare each column once")
            return None
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            self.problem(SCHEMA, path, f"column '{name}' must be a mapping (got {spec!r})",
                         "e.g. {type: float, nullable: false, constraints: {min: 0}}")
            return None
        self.misspelt(SCHEMA, spec, COLUMN_KEYS, path)
        folder_type = spec.get("type")
        if folder_type is not None:
            folder_type = TYPE_ALIASES.get(str(folder_type).lower(), str(folder_type).lower())
            if folder_type not in FOLDER_TYPES:
                self.problem(SCHEMA, (*path, "type"), f"unknown type {spec['type']!r}",
                             _suggest(str(spec["type"]), set(FOLDER_TYPES)) or f"use one of {', '.join(FOLDER_TYPES)}")
                folder_type = None
        nullable = spec.get("nullable", True)
        if not isinstance(nullable, bool):
            self.problem(SCHEMA, (*path, "nullable"), f"nullable must be true or false (got {nullable!r})",
                         "write nullable: true or nullable: false")
            nullable = True
        lo, hi = self.constraints(spec.get("constraints"), folder_type, (*path, "constraints"))
        description = spec.get("description")
        return _FolderColumn(name, folder_type, nullable, lo, hi, str(description) if description is not None else None,
                           self.line(SCHEMA, path), path)

    def constraints(self, value: Any, folder_type: str | None, path: Path_) -> tuple[Any, Any]:
        if value is None:
            return None, None
        if not isinstance(value, dict):
            self.problem(SCHEMA, path, f"constraints must be a mapping (got {value!r})",
                         "constraints: {min: 0, max: 100}")
            return None, None
        self.misspelt(SCHEMA, value, CONSTRAINT_KEYS, path)
        if folder_type in ("string", "boolean"):
            self.problem(SCHEMA, path, f"constraints apply to numeric and datetime columns, not {folder_type}",
                         "remove them, or change the column's type")
            return None, None
        bounds: list[Any] = []  # numbers, or dates for datetime columns
        for key in ("min", "max"):
            bound = value.get(key)
            if bound is None:
                bounds.append(None)
            elif folder_type == "datetime":
                bounds.append(self.date_bound(bound, (*path, key)))
            elif _number(bound):
                bounds.append(bound)
            else:
                self.problem(SCHEMA, (*path, key), f"{key} must be a number (got {bound!r})", "write e.g. min: 0")
                bounds.append(None)
        lo, hi = bounds
        if lo is not None and hi is not None and lo > hi:
            self.problem(SCHEMA, (*path, "min"), f"min ({lo}) is greater than max ({hi})", "swap them")
            return None, None
        return lo, hi

    def date_bound(self, value: Any, path: Path_) -> dt.date | None:
        if isinstance(value, dt.date):
            return value.date() if isinstance(value, dt.datetime) else value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.problem(SCHEMA, path, f"a datetime bound must be a date YYYY-MM-DD (got {value!r})",
                         "write e.g. min: 2025-01-01")
            return None

    def ratio(self, value: Any, path: Path_, what: str) -> float | None:
        if _number(value) and 0 <= value <= 1:
            return float(value)
        self.problem(EVOLUTION, path, f"{what} must be a number in [0, 1] (got {value!r})",
                     "write a share of rows, e.g. 0.02 for 2%")
        return None

    def evolution(self) -> tuple[float | None, Path_ | None, dict[str, tuple[float, Path_]]]:
        data = self.read(EVOLUTION, required=False)
        if data is None:
            return None, None, {}
        self.misspelt(EVOLUTION, data, EVOLUTION_KEYS)
        rate: float | None = None
        rate_path: Path_ | None = None
        weekly, fraud = data.get("weekly_changes"), data.get("fraud")
        if weekly is not None:  # the platform used the first week only and then ignored fraud_rate
            if not isinstance(weekly, list) or not weekly or not isinstance(weekly[0], dict):
                self.problem(EVOLUTION, ("weekly_changes",), "weekly_changes must be a list of mappings",
                             "weekly_changes: [{fraud_rate: 0.02}]")
                rate_path = ("weekly_changes",)
            elif "fraud_rate" in weekly[0]:
                rate_path = ("weekly_changes", 0, "fraud_rate")
                rate = self.ratio(weekly[0]["fraud_rate"], rate_path, "fraud_rate")
        elif fraud is not None:
            if isinstance(fraud, dict) and "rate" in fraud:
                rate_path = ("fraud", "rate")
                rate = self.ratio(fraud["rate"], rate_path, "fraud.rate")
            else:
                self.problem(EVOLUTION, ("fraud",), "fraud must be a mapping with a rate", "fraud: {rate: 0.02}")
                rate_path = ("fraud",)
        elif "fraud_rate" in data:
            rate_path = ("fraud_rate",)
            rate = self.ratio(data["fraud_rate"], rate_path, "fraud_rate")
        missing: dict[str, tuple[float, Path_]] = {}
        spec = data.get("missingness")
        if spec is not None and not isinstance(spec, dict):
            self.problem(EVOLUTION, ("missingness",), "missingness must be a mapping column -> ratio",
                         "missingness: {merchant_category: 0.25}")
        elif spec:
            for column, value in spec.items():
                ratio = self.ratio(value, ("missingness", column), f"missingness of {column}")
                if ratio is not None:
                    missing[column] = (ratio, ("missingness", column))
        return rate, rate_path, missing

    # -- the translation --
    def run(self) -> tuple[dict[str, Any], FolderSourceMap]:
        if not self.folder.is_dir():
            raise SpecError([SpecProblem("", f"not a folder: {self.folder}", "check the path", str(self.folder))])
        info = self.dataset()
        columns = self.schema()
        fraud_rate, rate_path, missing = self.evolution()
        names = {c.name: c for c in columns}
        for absent, (_, path) in missing.items():
            if absent not in names:
                if SCHEMA not in self.unreadable:
                    self.problem(EVOLUTION, path, f"missingness names unknown column '{absent}'",
                                 _suggest(absent, set(names)) or "name a column of schema.yaml")
            elif not names[absent].nullable:
                self.problem(EVOLUTION, path, f"column '{absent}' is declared nullable: false in schema.yaml "
                             f"(line {names[absent].line}) but has missingness",
                             "set nullable: true in schema.yaml or remove this missingness entry")
        name = info["name"]
        rows = info["rows"] or 1000
        key = self.primary_key(name, columns, missing)
        types = {c.name: c.type or rule_for(c.name, None).types[0] for c in columns}
        table: dict[str, Any] = {"rows": rows}
        if info.get("description"):
            table["description"] = info["description"]
        if key:
            table["primary_key"] = key
        table_columns: dict[str, Any] = {}
        table["columns"] = table_columns
        rules: list[dict[str, str]] = []
        tpath: Path_ = ("tables", name)
        for column in columns:
            rule = rule_for(column.name, column.type)
            folder_type = types[column.name]
            if rule.build is _fraud and fraud_rate is None and rate_path is None and EVOLUTION not in self.unreadable:
                self.problem(EVOLUTION, (), f"column '{column.name}' is a fraud flag but evolution.yaml gives no "
                             "fraud rate", HINT_FRAUD)
            ctx = Col(column.name, folder_type, column.lo, column.hi, rows, column.name == key, fraud_rate, types,
                      frozenset(missing))
            try:
                built = rule.build(ctx)
            except _Unfit as exc:
                self.problem(SCHEMA, column.path, exc.message, exc.hint)
                continue
            cpath: Path_ = (*tpath, "columns", column.name)
            self.origin(cpath, SCHEMA, column.path)
            if built.get("generator") == "template" and "parts" in built:
                built = self.content(column.name, built["parts"], table_columns, names, cpath, column.path)
            built["type"] = FOLDER_TYPES[folder_type]
            if column.lo is not None or column.hi is not None:
                lo, hi = column.lo, column.hi
                if folder_type == "integer":  # the same constraint on whole numbers, as whole numbers
                    lo, hi = _bounds(ctx)
                built["check"] = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
            if column.name in missing:
                built["null_rate"] = missing[column.name][0]
                self.origin((*cpath, "null_rate"), EVOLUTION, missing[column.name][1])
            if built.get("generator") == "flag" and rule.build is _fraud and rate_path:
                self.origin((*cpath, "rate"), EVOLUTION, rate_path)
            built["description"] = column.description or built.get("description") or rule.what
            table_columns[column.name] = built
            follows = FOLLOWS.get(column.name)
            earlier = str(built.get("min", ""))
            if follows and earlier.startswith("min(add_days("):
                before = earlier[len("min(add_days("):].split(",")[0]
                rules.append({"name": f"{column.name}_after_{before}",
                              "check": f"date({column.name}) >= date({before})",
                              "description": f"{column.name} is 1 to {follows[1]} days after {before}"})
        if rules:
            table["rules"] = rules
        if self.problems:
            order = {self.file(n): i for i, n in enumerate(FILES)}
            raise SpecError(sorted(self.problems, key=lambda p: (order.get(p.file, -1), p.line or 0, p.path)))
        spec: dict[str, Any] = {"dataset": name, "title": info.get("title", name),
                                "seed": info["seed"] if info["seed"] is not None else derive_key(0, name) % 2**31,
                                "as_of": info["as_of"], "tables": {name: table}}
        if info.get("version"):
            spec["version"] = info["version"]
        description = info.get("description")
        if info.get("domain"):
            description = f"{description or name} (domain: {info['domain']})"
        if description:
            spec["description"] = description
        for spec_key, folder_key in (("dataset", "name"), ("title", "name"), ("description", "description"),
                                   ("version", "version"), ("seed", "seed"), ("as_of", "as_of")):
            self.origin((spec_key,), DATASET, (folder_key,))
        self.origin(tpath, DATASET, ())
        self.origin((*tpath, "rows"), DATASET, (info.get("rows_key", "row_count"),))
        if key:
            self.origin((*tpath, "primary_key"), SCHEMA, names[key].path)
        source = FolderSourceMap(file=str(self.folder), origins=self.origins)
        return spec, source

    def content(self, name: str, parts: tuple[list[str], ...], table_columns: dict[str, Any],
                names: Mapping[str, Any], cpath: Path_, folder_path: Path_) -> dict[str, Any]:
        """Post text: hidden choice columns joined by a template (a lead, a topic and an ending)."""
        placeholders = []
        for label, values in zip(("lead", "topic", "tail"), parts, strict=True):
            hidden = f"_{name}_{label}"
            while hidden in names or hidden in table_columns:
                hidden = f"_{hidden}"
            table_columns[hidden] = {"generator": "choice", "values": list(values), "hidden": True}
            self.origin((*cpath[:-1], hidden), SCHEMA, folder_path)
            placeholders.append(hidden)
        lead, topic, tail = placeholders
        return {"generator": "template", "template": f"{{{lead}}} {{{topic}}}{{{tail}}}"}

    def primary_key(self, dataset: str, columns: list[_FolderColumn], missing: Mapping[str, Any]) -> str | None:
        """The row's own id: a column named ``id``, else the id named after the dataset's entity (the last
        word of its name: ``transaction_id`` in finance_transactions), else the first id that is not a
        known dimension (account, user, sensor, ...); None when every id refers to something else."""
        ids = [c.name for c in columns if re.fullmatch(r"id|.*_id", c.name.lower()) and c.name not in missing
               and (c.type in (None, "integer", "string"))]
        if "id" in ids:
            return "id"
        entity = dataset.split("_")[-1]
        for name in ids:
            stem = name[:-3].lower()
            if entity in (stem, f"{stem}s", f"{stem}es") or (stem.endswith("y") and entity == f"{stem[:-1]}ies"):
                return name
        return next((name for name in ids if name[:-3].lower() not in DIMENSIONS), None)
