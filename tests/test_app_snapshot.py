"""Opening folders again shows the last grouping at once (or, with none yet, the cached
records grouped), then checks it for changes."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from dedup_gui.app import dialogs, scan_jobs
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.scanning import cache_preview
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import scan
from tests.test_app_decisions import make_pairs

TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True)
def answered(monkeypatch):
    monkeypatch.setattr(dialogs, "confirm", lambda *_args, **_kwargs: True)
    for kind in ("inform", "warn", "report"):
        monkeypatch.setattr(dialogs, kind, lambda *_args, **_kwargs: False)


@pytest.fixture
def open_window(qtbot, tmp_path):
    """A window on one settings file; a second call is the app started again."""
    settings_file = str(tmp_path / "settings.ini")
    opened: list[MainWindow] = []

    def open_() -> MainWindow:
        window = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
        qtbot.addWidget(window)
        window.show()
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.cancel_job()
        qtbot.waitUntil(lambda w=window: not w.is_busy(), timeout=TIMEOUT_MS)


@pytest.fixture
def held_scan(monkeypatch):
    """The scanner waits until the test lets it go: the snapshot's groups can be looked
    at before the check for changes ends."""
    release = threading.Event()
    real_scan = scan_jobs.scan

    def scan(*args, **kwargs):
        release.wait(TIMEOUT_MS / 1000)
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(scan_jobs, "scan", scan)
    return release


def wait_idle(qtbot, window: MainWindow) -> None:
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)


def grouped(window: MainWindow) -> list[list[str]]:
    return [[m.record.path for m in g.members] for g in window.group_model.groups()]


def first_open(qtbot, open_window, folder: Path) -> list[list[str]]:
    window = open_window()
    window.folder_panel.add_folder(str(folder))
    window.start_scan()
    wait_idle(qtbot, window)
    # The grouping's snapshot is written after the groups are sent, on the job's thread.
    qtbot.waitUntil(lambda: not window.jobs.running_jobs, timeout=TIMEOUT_MS)
    groups = grouped(window)
    window.close()
    return groups


def test_opening_again_shows_the_last_groups_before_the_check_ends(
    qtbot, open_window, tmp_path, held_scan
):
    folder = tmp_path / "photos"
    make_pairs(folder)
    held_scan.set()
    before = first_open(qtbot, open_window, folder)
    assert len(before) == 2
    held_scan.clear()

    again = open_window()
    again.start_scan()  # the folders come back from the settings
    qtbot.waitUntil(lambda: again.group_model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert grouped(again) == before
    assert again.is_busy()  # the scan is still held: these are the snapshot's groups
    assert again.progress_panel.label.text().startswith("Checking for changes")
    shown_groups = again.group_model.groups()
    held_scan.set()
    wait_idle(qtbot, again)
    # Nothing changed: the groups shown stand (not even made again), and the window now
    # has every scanned file, grouped or not.
    assert all(a is b for a, b in zip(again.group_model.groups(), shown_groups, strict=True))
    assert len(again.scan_result.records) == 4
    assert len(again.similarity_index.records) == 4


def test_the_check_regroups_after_a_change_and_keeps_the_marks_made_meanwhile(
    qtbot, open_window, tmp_path, held_scan
):
    folder = tmp_path / "photos"
    pairs = make_pairs(folder)
    held_scan.set()
    before = first_open(qtbot, open_window, folder)
    held_scan.clear()
    copy = folder / "photo1_copy.png"
    shutil.copyfile(pairs[1][0], copy)  # added since the snapshot
    pairs[2][1].unlink()  # and one removed: photo2 no longer has a copy

    again = open_window()
    again.start_scan()
    qtbot.waitUntil(lambda: again.group_model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert grouped(again) == before  # the snapshot, until the check says otherwise
    model = again.group_model
    row = model.row_of_path(str(pairs[1][1]))
    small = next(i for i, m in enumerate(model.group(row).members)
                 if m.record.path == str(pairs[1][1]))
    assert not model.group(row).members[small].keep  # suggested for the trash
    again.toggle_keep(row, small)  # the user keeps the small copy while the check runs
    assert model.is_kept(model.group(row).members[small])
    held_scan.set()
    wait_idle(qtbot, again)

    assert [sorted(group) for group in grouped(again)] == [
        sorted([str(pairs[1][0]), str(pairs[1][1]), str(copy)])
    ]
    by_path = {m.record.path: m for g in model.groups() for m in g.members}
    small_now = by_path[str(pairs[1][1])]
    assert not small_now.keep and model.is_kept(small_now)  # the mark made meanwhile stands
    assert len(again.scan_result.records) == 4


def test_a_new_groupings_snapshot_is_written_once_its_groups_are_shown(tmp_path):
    # Writing it (seconds of Python at 100k files) would slow the first paint down.
    from dedup_gui.core.scanning import snapshot
    from dedup_gui.core.scanning.cache import HashCache

    folder = tmp_path / "photos"
    make_pairs(folder)
    job = scan_jobs.ScanJob([str(folder)], save_when_shown=True)
    finished = threading.Event()
    job.finished.connect(lambda _result, index: index is not None and finished.set(),
                         Qt.ConnectionType.DirectConnection)
    thread = threading.Thread(target=job.run)
    thread.start()
    saved = HashCache.default_folder() / snapshot.FOLDER_NAME
    try:
        assert finished.wait(TIMEOUT_MS / 1000)
        thread.join(0.3)
        assert thread.is_alive() and not (saved.exists() and any(saved.iterdir()))
    finally:
        job.groups_shown()
        thread.join(TIMEOUT_MS / 1000)
    assert not thread.is_alive() and any(saved.iterdir())

# With no snapshot yet (folders scanned by the CLI): the cached records' groups show before
# the walk (core/scanning/cache_preview.py), and the scan checks them.


@pytest.fixture
def small_previews(monkeypatch):
    monkeypatch.setattr(cache_preview, "PREVIEW_MIN_RECORDS", 1)


def scanned_by_the_cli(folder) -> None:
    with HashCache.open_default() as cache:
        scan([str(folder)], cache=cache)


def open_folder(open_window, folder):
    window = open_window()
    window.folder_panel.add_folder(str(folder))
    window.start_scan()
    return window


def test_the_cached_groups_show_first_and_stand_once_checked(
    qtbot, open_window, tmp_path, held_scan, small_previews
):
    folder = tmp_path / "photos"
    pairs = make_pairs(folder)
    scanned_by_the_cli(folder)
    window = open_folder(open_window, folder)
    qtbot.waitUntil(lambda: window.group_model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert window.is_busy()  # the folders are not even walked yet: nothing can be trashed
    assert window.progress_panel.label.text().startswith("Checking for changes")
    assert not window.trash_action.isEnabled()
    preview = grouped(window)
    assert sorted(map(sorted, preview)) == sorted(sorted(map(str, pair)) for pair in pairs.values())
    assert all(m.record.ctime_ns == 0 for g in window.group_model.groups() for m in g.members)

    held_scan.set()
    wait_idle(qtbot, window)
    assert grouped(window) == preview
    # The groups now hold the scan's records, with the identity the walk saw.
    assert all(m.record.ctime_ns != 0 for g in window.group_model.groups() for m in g.members)
    assert window.scan_result.records == list(window.similarity_index.records)
    assert window.trash_action.isEnabled()


def test_the_check_replaces_a_preview_that_no_longer_holds(
    qtbot, open_window, tmp_path, held_scan, small_previews
):
    folder = tmp_path / "photos"
    pairs = make_pairs(folder)
    scanned_by_the_cli(folder)
    pairs[2][1].unlink()  # photo2 has no copy any more
    shutil.copyfile(pairs[1][0], folder / "photo1 (copy).png")  # not in the cache
    window = open_folder(open_window, folder)
    qtbot.waitUntil(lambda: window.group_model.rowCount() == 2, timeout=TIMEOUT_MS)
    held_scan.set()
    wait_idle(qtbot, window)
    assert [sorted(g) for g in grouped(window)] == [
        sorted([str(pairs[1][0]), str(pairs[1][1]), str(folder / "photo1 (copy).png")])
    ]


def test_a_cancelled_check_keeps_no_preview_record(
    qtbot, open_window, tmp_path, held_scan, small_previews
):
    folder = tmp_path / "photos"
    make_pairs(folder)
    scanned_by_the_cli(folder)
    window = open_folder(open_window, folder)
    qtbot.waitUntil(lambda: window.group_model.rowCount() == 2, timeout=TIMEOUT_MS)
    window.cancel_job()
    held_scan.set()
    wait_idle(qtbot, window)
    # Its records were never checked: what stays is what the cancelled scan found (here,
    # cancelled before the walk: nothing), as after any cancelled scan.
    assert window.scan_result.cancelled and window.scan_result.records == []
    assert window.group_model.rowCount() == 0
    assert "cancelled" in window.statusBar().currentMessage()


def test_the_checked_grouping_is_the_next_opening_snapshot(
    qtbot, open_window, tmp_path, held_scan, small_previews, monkeypatch
):
    folder = tmp_path / "photos"
    make_pairs(folder)
    scanned_by_the_cli(folder)
    held_scan.set()
    window = open_folder(open_window, folder)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: not window.jobs.running_jobs, timeout=TIMEOUT_MS)
    before = grouped(window)
    window.close()

    previews: list[object] = []
    real = scan_jobs.ScanJob._shown_preview
    monkeypatch.setattr(scan_jobs.ScanJob, "_shown_preview",
                        lambda job: previews.append(job) or real(job))
    held_scan.clear()
    again = open_window()
    again.start_scan()
    qtbot.waitUntil(lambda: again.group_model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert grouped(again) == before and not previews  # the snapshot's groups
    held_scan.set()
    wait_idle(qtbot, again)
