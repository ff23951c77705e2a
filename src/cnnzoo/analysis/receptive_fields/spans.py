"""Interval arithmetic along one spatial axis of the input: which pixels each unit sees.

A :class:`Span` describes, for one spatial axis ``d`` of the input, the interval of
input pixels ``[lo(u), hi(u)]`` that the unit at index ``u`` sees. The intervals are
periodic: with period ``P`` and jump ``j`` (the mean distance in input pixels between
neighbouring units), unit ``u = q * P + p`` sees ``[lo[p] + q * P * j, hi[p] + q * P * j]``.
Convolutions and pooling keep ``P = 1``; upsampling and transposed convolutions,
whose units are not all alike, raise it, which keeps their receptive fields exact. A
constant part ``[glo, ghi]``, seen by every unit, arises when a globally pooled
tensor is broadcast back (squeeze-excitation). Bounds are exact fractions; ``None``
means the unit sees no input pixel at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

__all__ = [
    "Bound",
    "Span",
    "Taps",
    "folded",
    "lower",
    "phased",
    "point",
    "shifted",
    "upper",
    "windowed_span",
]

Bound = Fraction | None
"""One end of an interval of input pixels; ``None``: the unit sees no input pixel."""

Taps = Callable[[int], Sequence[int]]
"""``taps(o)``: the input indices output index ``o`` of a window reads."""


def lower(values: Iterable[Bound]) -> Bound:
    """The smallest present bound, or ``None`` if none is present."""
    present = [v for v in values if v is not None]
    return min(present) if present else None


def upper(values: Iterable[Bound]) -> Bound:
    """The largest present bound, or ``None`` if none is present."""
    present = [v for v in values if v is not None]
    return max(present) if present else None


@dataclass(frozen=True)
class Span:
    """The periodic intervals of input pixels the units along one axis see."""

    jump: Fraction
    lo: tuple[Bound, ...]
    hi: tuple[Bound, ...]
    glo: Fraction | None = None
    ghi: Fraction | None = None

    @property
    def period(self) -> int:
        """How many neighbouring units differ before the pattern repeats."""
        return len(self.lo)

    def at(self, u: int) -> tuple[Bound, Bound]:
        """The interval unit ``u`` sees, without the constant part."""
        period = len(self.lo)
        p, q = u % period, u // period
        shift = q * period * self.jump
        lo, hi = self.lo[p], self.hi[p]
        return (None if lo is None else lo + shift), (None if hi is None else hi + shift)

    def extent(self, u: int) -> Fraction:
        """How many input pixels unit ``u`` sees, the constant part included."""
        lo, hi = self.at(u)
        lo, hi = lower([lo, self.glo]), upper([hi, self.ghi])
        return Fraction(0) if lo is None or hi is None else hi - lo + 1

    def whole(self) -> tuple[Bound, Bound]:
        """The interval unit 0 sees, the constant part included."""
        lo, hi = self.at(0)
        return lower([lo, self.glo]), upper([hi, self.ghi])


def point() -> Span:
    """The span of the input itself: each pixel sees itself."""
    return Span(Fraction(1), (Fraction(0),), (Fraction(0),))


def _same(later: Bound, earlier: Bound, shift: Fraction) -> bool:
    if later is None or earlier is None:
        return later is None and earlier is None
    return later == earlier + shift


def phased(
    jump: Fraction,
    period: int,
    bounds: Callable[[int], tuple[Bound, Bound]],
    glo: Bound = None,
    ghi: Bound = None,
) -> Span:
    """Build a span from ``bounds(p) -> (lo, hi)`` for ``p < period``, at its shortest period."""
    pairs = [bounds(p) for p in range(period)]
    lo = tuple(pair[0] for pair in pairs)
    hi = tuple(pair[1] for pair in pairs)
    for short in range(1, period):
        if period % short:
            continue
        shift = short * jump
        if all(
            _same(values[p + short], values[p], shift)
            for values in (lo, hi)
            for p in range(period - short)
        ):
            lo, hi = lo[:short], hi[:short]
            break
    return Span(jump, lo, hi, glo, ghi)


def shifted(span: Span, delta: int) -> Span:
    """The span seen from unit ``delta`` on (slicing, padding)."""
    return phased(span.jump, span.period, lambda p: span.at(p + delta), span.glo, span.ghi)


def folded(span: Span, size: int, step: int) -> Span:
    """Unit ``u`` now sees what units ``u, u + step, ..., u + (size - 1) * step`` saw."""

    def bounds(p: int) -> tuple[Bound, Bound]:
        seen = [span.at(p + t * step) for t in range(size)]
        return lower(s[0] for s in seen), upper(s[1] for s in seen)

    last = span.hi[0]
    if span.period == 1 and span.lo[0] is not None and last is not None:
        return replace(span, hi=(last + (size - 1) * step * span.jump,))
    return phased(span.jump, span.period, bounds, span.glo, span.ghi)


def windowed_span(span: Span, step: int, taps: Taps, ratio: Fraction) -> Span:
    """Apply a sliding window along an axis that moves ``step`` units of ``span`` per index.

    Output unit ``o`` reads the input indices ``taps(o)``; ``taps(o + b) == taps(o) + a``
    for ``ratio = a / b`` input indices per output index.
    """
    inner = span.period // math.gcd(span.period, step)  # the period counted in indices
    period = ratio.denominator * inner

    def bounds(o: int) -> tuple[Bound, Bound]:
        seen = [span.at(v * step) for v in taps(o)]
        return lower(s[0] for s in seen), upper(s[1] for s in seen)

    return phased(span.jump * step * ratio, period, bounds, span.glo, span.ghi)
