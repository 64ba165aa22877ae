"""`candor models bench`: the real-time factor of a model on this machine, measured on the clip
shipped with Candor, and whether it can keep up with live captions here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.transcription.bench import (
    KEEPS_UP_BELOW,
    LIVE_COST_FACTOR,
    MARGINAL_BELOW,
    BenchResult,
    BenchRun,
    Clip,
    bench_clip,
    run_bench,
)
from app.transcription.models import locate_model

pytestmark = pytest.mark.model


def test_bench_reports_the_real_time_factor_and_the_live_verdict(capsys):
    assert main(["models", "bench", "--runs", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "tiny.en", "the live-captions model by default"
    assert len(result["runs"]) == 2
    assert all(r["wall_seconds"] > 0 and r["cpu_seconds"] > 0 for r in result["runs"])
    walls = [r["wall_seconds"] for r in result["runs"]]
    assert result["rtf_wall"] == pytest.approx(sum(walls) / 2 / result["audio_seconds"])
    assert result["wer"] < 0.1, "the model really transcribed the clip"
    assert result["live_factor"] == LIVE_COST_FACTOR
    assert result["live_load"] == pytest.approx(result["rtf_wall"] * LIVE_COST_FACTOR)
    assert result["verdict"] in ("keeps up", "marginal", "too slow")


def test_bench_can_measure_the_cost_of_live_captions_with_the_model_itself():
    clip = bench_clip()
    short = Clip("jfk-4s", clip.audio[: 16000 * 4], "and so my fellow americans")
    result = run_bench(locate_model("tiny.en"), runs=1, measure_live=True, clip=short)
    assert result.live_factor_source == "measured"
    assert result.live is not None
    assert result.live.passes >= 4, "a pass every 0.5 s of speech"
    assert result.live_factor > 2, "live captions cost several file passes"
    assert result.live_load == pytest.approx(result.live.wall_seconds / 4.0)


def _result(wall_rtf: float) -> BenchResult:
    return BenchResult(model="m", path=Path("."), clip="c", audio_seconds=10.0,
                       load_cpu_seconds=0.0, runs=(BenchRun(10.0 * wall_rtf, 1.0),), text="",
                       wer=0.0, live_factor=LIVE_COST_FACTOR, live_factor_source="tiny.en",
                       live=None, peak_memory_mb=0.0, load_average=0.0)


def test_the_verdict_follows_the_live_caption_latency_goals():
    assert _result(0.9 * KEEPS_UP_BELOW / LIVE_COST_FACTOR).verdict == "keeps up"
    assert _result(1.1 * KEEPS_UP_BELOW / LIVE_COST_FACTOR).verdict == "marginal"
    assert _result(0.9 * MARGINAL_BELOW / LIVE_COST_FACTOR).verdict == "marginal"
    assert _result(1.1 * MARGINAL_BELOW / LIVE_COST_FACTOR).verdict == "too slow"


def test_bench_of_an_unknown_model_is_bad_input(capsys):
    assert main(["models", "bench", "large-v9"]) == 2
    assert "unknown model 'large-v9'" in capsys.readouterr().err
    assert main(["models", "bench", "small.en"]) == 2
    assert "candor models download small.en" in capsys.readouterr().err
