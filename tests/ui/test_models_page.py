"""The speech models page (Settings → Speech models…): the catalogue as a user sees it, a download
that asks for its permission each time and shows its progress, Cancel that can be resumed, choosing
a model for saved transcripts while live captions keep theirs, a speed test, and deleting.
Real downloads from a hub-like server on 127.0.0.1, the real consent dialog, the real model."""

from __future__ import annotations

import pytest

from app.consent.purposes import MODEL_DOWNLOAD
from app.transcription.manifest import NO_PUBLISHED_FIGURE, load_manifest
from app.transcription.model_choice import model_for
from tests.support.model_server import copy_bundled_model
from tests.ui.dialogs import DialogAnswerer
from tests.ui.windows import shown_main_window

pytestmark = pytest.mark.model


@pytest.fixture
def page(qtbot, candor_home):
    window = shown_main_window(qtbot)
    window.models_action.trigger()
    page = window.models_page
    assert page is not None
    assert page.isVisible()
    return page


def _row(page, name: str) -> dict[str, str]:
    names = [e.name for e in page.entries]
    row = names.index(name)
    header = [page.table.horizontalHeaderItem(c).text() for c in range(page.table.columnCount())]
    return {header[c]: page.table.item(row, c).text() for c in range(page.table.columnCount())}


def _grants(gate) -> int:
    return sum(1 for r in gate.ledger.records()
               if r.purpose == MODEL_DOWNLOAD and r.state == "given")


def test_every_catalogue_model_is_listed_with_its_facts_and_sourced_accuracy(page):
    manifest = load_manifest()
    assert [e.name for e in page.entries][:len(manifest.models)] == list(manifest.models)
    tiny = _row(page, "tiny.en")
    assert tiny["On this device"] == "bundled with Candor"
    assert tiny["Used for"] == "live captions and saved transcripts"
    base = _row(page, "base.en")
    assert base["On this device"] == "not installed"
    assert base["Download"].endswith("MB")
    assert base["Used for"] == "—"
    page.select("base.en")
    spec = manifest.get("base.en")
    assert spec is not None
    assert spec.accuracy
    # a published figure is shown with the source it comes from, not as a bare claim
    figure = spec.accuracy[0]
    assert figure.source in page.details.text()
    assert f"WER {figure.value:g} % on {figure.dataset}" in page.details.text(), \
        "the figure as published, not scaled"
    # every row shows the figure the models are compared on, the same benchmark for all
    for name, model in manifest.models.items():
        headline = model.headline_accuracy
        assert headline is not None
        assert f"WER {headline.value:g} % on AMI (meetings)" in _row(page, name)["Accuracy"]
    assert page.download_button.isEnabled()
    assert not page.delete_button.isEnabled(), "nothing to delete before a download"
    page.select("tiny.en")
    assert not page.download_button.isEnabled(), "the bundled model needs no download"
    assert not page.delete_button.isEnabled(), "the bundled model cannot be deleted"


def test_a_folder_without_a_published_figure_says_so(qtbot, candor_home):
    copy_bundled_model(candor_home / "models" / "my-folder")
    window = shown_main_window(qtbot)
    window.models_action.trigger()
    page = window.models_page
    assert _row(page, "my-folder")["Accuracy"] == NO_PUBLISHED_FIGURE
    page.select("my-folder")
    assert f"Published accuracy: {NO_PUBLISHED_FIGURE}." in page.details.text()


def test_a_download_asks_each_time_shows_progress_and_the_model_can_serve_saved_transcripts(
        page, qtbot, hub, gate):
    page.select("base.en")
    answerer = DialogAnswerer(["deny"])
    page.download_button.click()
    answerer.stop()
    assert answerer.seen == [MODEL_DOWNLOAD]
    assert "needs your permission" in page.status.text()
    assert hub.requests == [], "nothing is asked of the hub without the permission"

    hub.bytes_per_second = 50_000_000  # a network slower than loopback: there is a middle
    shown: list[int] = []
    page.progress.valueChanged.connect(shown.append)
    answerer = DialogAnswerer(["allow"])
    page.download_button.click()
    answerer.stop()
    assert page.progress.isVisible()
    qtbot.waitUntil(lambda: "installed" in page.status.text()
                    or "failed" in page.status.text(), timeout=120_000)
    assert "every file matched its checksum" in page.status.text(), page.status.text()
    assert not page.progress.isVisible()
    assert len({v for v in shown if 0 < v < 100}) >= 3, f"progress as it went: {shown}"
    assert _row(page, "base.en")["On this device"] == "downloaded"
    gate.refresh()
    assert not gate.allowed(MODEL_DOWNLOAD), "the permission was used up by the download"

    page.select("base.en")
    page.final_button.click()
    assert model_for("final").name == "base.en"
    assert model_for("live").name == "tiny.en", "live captions keep their model"
    assert _row(page, "base.en")["Used for"] == "saved transcripts"
    assert _row(page, "tiny.en")["Used for"] == "live captions"

    page.select("base.en")
    asked: list[str] = []
    page.delete_selected(confirm=lambda _p, _t, text, _a: asked.append(text) or True)
    assert "base.en" in asked[0]
    assert "saved transcripts" in asked[0]
    assert "Deleted the model base.en" in page.status.text()
    assert _row(page, "base.en")["On this device"] == "not installed"
    assert model_for("final").name == "tiny.en", "saved transcripts are back on the default"
    # a second download asks again: the permission was for that one download
    before = _grants(gate)
    answerer = DialogAnswerer(["deny"])
    page.download_button.click()
    answerer.stop()
    assert answerer.seen == [MODEL_DOWNLOAD]
    assert _grants(gate) == before


def test_cancel_stops_the_download_and_it_can_be_resumed(page, qtbot, hub):
    hub.bytes_per_second = 10_000_000  # about 8 s for the whole model: time to cancel
    page.select("base.en")
    answerer = DialogAnswerer(["allow"])
    page.download_button.click()
    answerer.stop()
    assert page.cancel_button.isVisible()
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=60_000)
    page.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in page.status.text(), timeout=30_000)
    assert not page.cancel_button.isVisible()
    entry = next(e for e in page.entries if e.name == "base.en")
    assert entry.installed is None
    assert entry.partial_download
    page.select("base.en")
    assert page.download_button.text() == "Resume download…"
    assert page.delete_button.isEnabled(), "an unfinished download can be deleted"


def test_delete_asks_first_and_cancel_keeps_the_model(page, qtbot, hub):
    page.select("base.en")
    answerer = DialogAnswerer(["allow"])
    page.download_button.click()
    answerer.stop()
    qtbot.waitUntil(lambda: "installed" in page.status.text(), timeout=120_000)
    page.select("base.en")
    answerer = DialogAnswerer(["cancel"])
    assert page.delete_selected() is False
    answerer.stop()
    assert any(s.startswith("message:Delete the model base.en") for s in answerer.seen)
    assert _row(page, "base.en")["On this device"] == "downloaded"


def test_test_speed_reports_the_real_time_factor_on_this_machine(page, qtbot):
    page.select("tiny.en")
    task = page.bench_selected(runs=1)
    assert task is not None
    assert not page.bench_button.isEnabled(), "one speed test at a time"
    qtbot.waitUntil(lambda: "real-time factor" in page.status.text()
                    or "could not run" in page.status.text(), timeout=120_000)
    text = page.status.text()
    assert "tiny.en" in text, text
    assert "real-time factor" in text, text
    assert any(verdict in text for verdict in ("keep up", "later and coarser", "too slow"))
    assert page.bench_button.isEnabled()
