"""Text: patterns of random characters (unique by construction when asked) and column templates."""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from esdh.generators.base import Context, Generator, Params, register
from esdh.limits import STRING_CHARS

CLASSES = {
    "#": b"0123456789",
    "?": b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "*": b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "@": b"abcdefghijklmnopqrstuvwxyz",
}


def compile_pattern(pattern: str) -> list[bytes]:
    """One alphabet per output character; literals are one-letter alphabets. ``\\`` escapes."""
    out: list[bytes] = []
    escaped = False
    for char in pattern:
        if escaped or (char not in CLASSES and char != "\\"):
            out.append(char.encode("utf-8") if len(char.encode("utf-8")) == 1 else b"?")
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(CLASSES[char])
    return out


def render_mixed_radix(numbers: np.ndarray, alphabets: list[bytes]) -> pa.Array:
    """Write each number in the mixed radix given by the alphabets (last position varies fastest)."""
    n = len(numbers)
    matrix = np.empty((n, len(alphabets)), dtype=np.uint8)
    rest = numbers.astype(np.uint64, copy=True)
    for pos in range(len(alphabets) - 1, -1, -1):
        alphabet = np.frombuffer(alphabets[pos], dtype=np.uint8)
        size = np.uint64(len(alphabet))
        matrix[:, pos] = alphabet[(rest % size).astype(np.int64)]
        rest //= size
    return pa.array(matrix.view(f"S{len(alphabets)}").ravel()).cast(pa.string())


class PatternParams(Params):
    # '#' digit, '?' upper-case letter, '*' digit or letter, '@' lower-case letter
    pattern: str = Field(max_length=STRING_CHARS)


@register
class Pattern(Generator):
    """Random characters by placeholder ('POL-####-??'); unique by construction when asked."""

    name = "pattern"
    Params = PatternParams
    summary = "random text by pattern: # digit, ? letter, * alphanumeric, @ lower-case letter"
    supports_unique = True

    @cached_property
    def alphabets(self) -> list[bytes]:
        return compile_pattern(self.p.pattern)

    def output_type(self) -> pa.DataType:
        return pa.string()

    def capacity(self) -> int:
        size = 1
        for alphabet in self.alphabets:
            size *= len(alphabet)
        return size

    def generate(self, ctx: Context) -> pa.Array:
        capacity = self.capacity()
        if ctx.unique:
            # The last positions whose combinations fit in 62 bits carry a bijection of the row (unique);
            # any positions before them are drawn at random.
            split, tail = len(self.alphabets), 1
            while split > 0 and tail * len(self.alphabets[split - 1]) <= 2**62:
                split -= 1
                tail *= len(self.alphabets[split])
            numbers = ctx.permutation(tail)(ctx.rows)
            unique_part = render_mixed_radix(numbers, self.alphabets[split:])
            if split == 0:
                return unique_part
            head = self._random(ctx, self.alphabets[:split])
            return pc.binary_join_element_wise(head, unique_part, "")
        if capacity < 2**53:
            numbers = ctx.stream.integers(ctx.rows, capacity)
            return render_mixed_radix(numbers, self.alphabets)
        return self._random(ctx, self.alphabets)

    @staticmethod
    def _random(ctx: Context, alphabets: list[bytes]) -> pa.Array:
        """One independent draw per position (for patterns too long for one 53-bit draw)."""
        matrix = np.empty((ctx.size, len(alphabets)), dtype=np.uint8)
        for pos, alphabet in enumerate(alphabets):
            letters = np.frombuffer(alphabet, dtype=np.uint8)
            matrix[:, pos] = letters[ctx.stream.sub(f"p{pos}").integers(ctx.rows, len(letters))]
        return pa.array(matrix.view(f"S{len(alphabets)}").ravel()).cast(pa.string())


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateParams(Params):
    # text with {column} placeholders, e.g. "{model_year} {make} {model}"
    template: str = Field(max_length=STRING_CHARS)


@register
class Template(Generator):
    """Text built from other columns of the same row; null when any referenced column is null."""

    name = "template"
    Params = TemplateParams
    summary = "text from a template with {column} placeholders"

    @cached_property
    def parts(self) -> list[tuple[str, bool]]:
        pieces: list[tuple[str, bool]] = []
        last = 0
        for match in _PLACEHOLDER.finditer(self.p.template):
            if match.start() > last:
                pieces.append((self.p.template[last:match.start()], False))
            pieces.append((match.group(1), True))
            last = match.end()
        if last < len(self.p.template):
            pieces.append((self.p.template[last:], False))
        return pieces

    def dependencies(self) -> set[str]:
        return {text for text, is_column in self.parts if is_column}

    def output_type(self) -> pa.DataType:
        return pa.string()

    def generate(self, ctx: Context) -> pa.Array:
        values = [pc.cast(ctx.values(text), pa.string()) if is_column else text for text, is_column in self.parts]
        if not any(is_column for _, is_column in self.parts):
            return pa.array([self.p.template] * ctx.size, pa.string())
        return pc.binary_join_element_wise(*values, "")
