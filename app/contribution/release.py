"""The differentially private release of an aggregate: noisy counts, thresholded after the noise.

Promise: the counts are released by OpenDP's Laplace threshold mechanism
(`make_laplace_threshold`: discrete Laplace noise from OpenDP's own CSPRNG; a pair is released
only when its noisy count reaches the threshold), calibrated so that adding or removing any one
meeting changes the release's distribution by at most (ε, δ), with ε and δ taken from OpenDP's
own privacy map, not computed here.

Why the k floor costs nothing extra: the mechanism is run on max(count − (k − 1), 0), which
moves by at most one when one meeting comes or goes, just as the count does; pairs at zero are
absent from its input, so a pair seen in fewer than k meetings can never be released, and
(k − 1) is added back to what is released (post-processing). A meeting adds at most
MAX_PAIRS_PER_MEETING pairs, so the mechanism sees (L0, L1, L∞) = (m, m, 1) and its noise
scale is m / ε.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from app import __version__
from app.contribution.aggregate import MAX_PAIRS_PER_MEETING, Aggregate
from app.contribution.pairs import Pair

DEFAULT_EPSILON = 1.0
# Larger ε means less noise and less privacy; past 10 the noise hides almost nothing.
MAX_EPSILON = 10.0
# δ: the chance the threshold lets a rare pair through. Well below 1 / (meetings a user holds).
DELTA = 1e-6
FORMAT = "candor-contribution/1"
_SEP = "\t"  # between the heard and the corrected term in OpenDP's keys (words hold no tab)


class BadEpsilon(ValueError):
    """ε is not a usable privacy budget; the message says which values are."""


def check_epsilon(value: str | float) -> float:
    try:
        epsilon = float(value)
    except (TypeError, ValueError):
        epsilon = math.nan
    if not (0 < epsilon <= MAX_EPSILON):  # NaN fails this too
        raise BadEpsilon(
            f"epsilon must be a number greater than 0 and at most {MAX_EPSILON:g}, not "
            f"{value!r}; smaller shares less (the default, {DEFAULT_EPSILON:g}, is recommended)"
        )
    return epsilon


@functools.cache
def _opendp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


@dataclass(frozen=True)
class Calibration:
    epsilon: float  # as OpenDP's privacy map states it for one meeting
    delta: float
    scale: float
    threshold: int  # on the shifted counts; in meetings: threshold + k - 1


def _measurement(scale: float, threshold: int) -> Any:
    dp = _opendp()
    domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_laplace_threshold(domain, metric, scale=scale, threshold=threshold)


def _d_in(m: int) -> tuple[int, int, int]:
    return (m, m, 1)


@functools.cache
def calibrate(epsilon: float, m: int = MAX_PAIRS_PER_MEETING, delta: float = DELTA
              ) -> Calibration:
    """The noise scale for ε and the smallest threshold whose δ (by OpenDP's map) is ≤ delta."""
    scale = m / epsilon
    lo, hi = 1, 2
    while _measurement(scale, hi).map(_d_in(m))[1] > delta:
        lo, hi = hi, hi * 2
    while lo < hi:  # δ falls as the threshold rises
        mid = (lo + hi) // 2
        if _measurement(scale, mid).map(_d_in(m))[1] <= delta:
            hi = mid
        else:
            lo = mid + 1
    eps, d = _measurement(scale, lo).map(_d_in(m))
    return Calibration(float(eps), float(d), scale, lo)


@dataclass(frozen=True)
class Release:
    """One draw: what a contribution file holds, exactly."""

    pairs: tuple[tuple[Pair, int], ...]  # released noisy counts (meetings), sorted
    epsilon: float
    delta: float
    k: int
    scale: float
    threshold_meetings: int
    models: tuple[str, ...]
    meetings_read: int  # not in the file: how many meetings were looked at, for the preview

    def document(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "app": "Candor",
            "app_version": __version__,
            "models": list(self.models),  # chosen for live captions and saved transcripts
            "privacy": {
                "epsilon": self.epsilon,
                "delta": self.delta,
                "k": self.k,
                "unit": "one meeting",
                "max_pairs_per_meeting": MAX_PAIRS_PER_MEETING,
                "mechanism": (f"OpenDP {version('opendp')} make_laplace_threshold: discrete "
                              f"Laplace noise, scale {self.scale:g}, on max(meetings - (k - 1), "
                              "0); released only when the noisy count reaches the threshold"),
                "threshold_meetings": self.threshold_meetings,
            },
            "about": ("How often the speech recogniser wrote one term where the user corrected it "
                      "to another, counted in different meetings, with noise added. No "
                      "sentences, names, numbers, addresses, times, meeting ids or audio."),
            "pairs": [{"heard": p.heard, "corrected": p.corrected, "meetings": n}
                      for p, n in self.pairs],
        }

    def text(self) -> str:
        """The file's exact content."""
        return json.dumps(self.document(), ensure_ascii=False, indent=2) + "\n"


def draw(aggregate: Aggregate, epsilon: float) -> Release:
    """A new release: fresh noise from OpenDP every call."""
    calibration = calibrate(check_epsilon(epsilon))
    shift = aggregate.k - 1
    shifted = {f"{p.heard}{_SEP}{p.corrected}": n - shift
               for p, n in aggregate.counts.items() if n - shift > 0}
    noisy = _measurement(calibration.scale, calibration.threshold)(shifted) if shifted else {}
    released = sorted(
        (Pair(*key.split(_SEP, 1)), int(count) + shift) for key, count in noisy.items()
    )
    return Release(tuple(released), calibration.epsilon, calibration.delta, aggregate.k,
                   calibration.scale, calibration.threshold + shift, aggregate.models,
                   aggregate.meetings_read)
