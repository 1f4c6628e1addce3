"""The main window end to end, offscreen: drop, scan, slider, cancel, settings."""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from imagegen import make_photo
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from dedup_gui.app import dialogs, scan_jobs, window_jobs
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings, FolderEntry
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY
from dedup_gui.core.models import ScanProgress
from dedup_gui.core.scanning import scanner
from tests.engine_fixtures import write_rotated_copy

SCAN_TIMEOUT_MS = 60_000


@pytest.fixture
def messages(monkeypatch):
    """Every dialog the window would show, answered without blocking."""
    shown: list[tuple[str, str]] = []

    def record(kind):
        def show(_parent, title, text, *args, **kwargs):
            shown.append((kind, f"{title}: {text}"))
            return True
        return show

    for kind in ("confirm", "inform", "warn"):
        monkeypatch.setattr(dialogs, kind, record(kind))
    return shown


@pytest.fixture
def started_jobs(monkeypatch) -> list[str]:
    """The kind of every job the window starts on a thread, in order."""
    started: list[str] = []
    real_start_in_thread = window_jobs.start_in_thread

    def record_start(job, parent, done_signals, on_finished=None):
        started.append(type(job).__name__)
        return real_start_in_thread(job, parent, done_signals, on_finished)

    monkeypatch.setattr(window_jobs, "start_in_thread", record_start)
    return started


@pytest.fixture
def settings_file(tmp_path):
    return str(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings_file, messages):
    win = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.cancel_job()
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=SCAN_TIMEOUT_MS)


def save_copies(folder: Path, seed: int, *, size=(320, 240)) -> list[Path]:
    """An original JPEG, a half-size re-encode and a PNG copy of one generated photo."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = make_photo(seed, *size)
    paths = [folder / f"photo{seed}.jpg", folder / f"photo{seed}_small.jpg",
             folder / f"photo{seed}.png"]
    photo.save(paths[0], quality=92)
    photo.resize((size[0] // 2, size[1] // 2), Image.Resampling.LANCZOS).save(paths[1], quality=80)
    photo.save(paths[2])
    return paths


def thirty_photos(tmp_path: Path) -> Path:
    library = tmp_path / "library"
    library.mkdir()
    for seed in range(30):
        make_photo(seed, 96, 72).save(library / f"p{seed:02}.jpg")
    return library


def slow_down_hashing(monkeypatch, seconds_per_file: float) -> threading.Event:
    """Each file takes `seconds_per_file` longer to hash, so a test can act mid-scan; the
    event is set when the first file starts."""
    real_hash_task = scanner._hash_task
    started = threading.Event()

    def slow_hash_task(task):
        started.set()
        time.sleep(seconds_per_file)
        return real_hash_task(task)

    monkeypatch.setattr(scanner, "_hash_task", slow_hash_task)
    return started


def scan_and_wait(qtbot, window: MainWindow) -> None:
    window.start_scan()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)


def grouped_paths(window: MainWindow) -> list[set[str]]:
    return [{m.record.path for m in g.members} for g in window.group_model.groups()]


def test_empty_window_says_drop_folders_here(window):
    assert window.pages.currentWidget() is window.empty_state
    assert window.empty_state.title.text() == "Drop folders here"


def test_dropping_a_folder_adds_it(qtbot, window, tmp_path):
    folder = tmp_path / "holiday"
    folder.mkdir()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.folder_panel.paths() == [str(folder)])
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)


@pytest.mark.skipif(os.name != "posix", reason="names that are not UTF-8 are a POSIX thing")
def test_a_dropped_folder_whose_name_is_not_utf8_is_scanned_and_remembered(
    qtbot, window, tmp_path, settings_file
):
    """An old disk's folder named in Latin-1: "Fotos_M\xfcnchen"."""
    folder = os.fsdecode(os.fsencode(tmp_path) + b"/Fotos_M\xfcnchen")
    paths = {str(path) for path in save_copies(Path(folder), 4)}
    mime = QMimeData()
    # As a file manager sends it: the name's bytes percent-encoded.
    mime.setUrls([QUrl.fromEncoded(b"file://" + urllib.parse.quote_from_bytes(
        os.fsencode(folder)).encode())])
    QApplication.sendEvent(window, QDragEnterEvent(
        window.rect().center(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier))
    drop = QDropEvent(QPointF(window.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.folder_panel.paths() == [folder])
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    assert grouped_paths(window) == [paths]
    assert window.folder_panel._tree.topLevelItem(0).text(0).endswith("Fotos_M\ufffdnchen")

    window.folder_panel.set_reference(folder, True)
    window.save_settings()
    reopened = AppSettings(QSettings(settings_file, QSettings.Format.IniFormat))
    assert reopened.folders() == [FolderEntry(folder, True)]


def test_a_dropped_image_file_is_added_and_scanned(qtbot, window, tmp_path):
    photo = tmp_path / "single.jpg"
    make_photo(3, 160, 120).save(photo)
    window.add_paths([str(photo)])
    assert window.folder_panel.paths() == [str(photo)]
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    assert [r.path for r in window.scan_result.records] == [str(photo)]


def test_dropping_a_non_image_file_is_refused_with_a_message(qtbot, window, tmp_path, messages):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a photo")
    window.add_paths([str(text_file)])
    assert window.folder_panel.paths() == []
    assert any(kind == "warn" and "notes.txt" in text for kind, text in messages)


def test_scan_groups_the_copies_of_each_photo(qtbot, window, tmp_path):
    library = tmp_path / "library"
    expected = [set(map(str, save_copies(library / f"album{seed}", seed))) for seed in range(3)]
    make_photo(99, 320, 240).save(library / "unique.jpg")
    (library / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    window.add_paths([str(library)])
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)

    groups = grouped_paths(window)
    assert sorted(map(sorted, groups)) == sorted(map(sorted, expected))
    reclaimable = [g.reclaimable_bytes for g in window.group_model.groups()]
    assert reclaimable == sorted(reclaimable, reverse=True)
    assert window.pages.currentWidget() is window.tabs
    assert window.errors_view.error_model.errors()[0].path == str(library / "broken.jpg")
    assert "3 groups" in window.status_label.text()
    assert window.compare_view.shown_paths()[0] == window.group_model.group(0).keeper.record.path


def test_similarity_slider_regroups_without_rescanning(qtbot, window, tmp_path, monkeypatch):
    library = tmp_path / "library"
    library.mkdir()
    for seed in range(6):
        photo = make_photo(seed, 320, 240)
        photo.save(library / f"s{seed}.jpg", quality=90)
        photo.crop((12, 9, 320, 240)).resize((320, 240)).save(library / f"s{seed}_crop.jpg")
    window.folder_panel.add_folder(str(library))
    window.similarity_slider.setValue(round(MIN_SIMILARITY))
    scan_and_wait(qtbot, window)
    loose = grouped_paths(window)

    def no_rescan(*args, **kwargs):
        raise AssertionError("moving the slider must not rescan")

    monkeypatch.setattr(scan_jobs, "scan", no_rescan)
    window.similarity_slider.setValue(100)
    qtbot.waitUntil(lambda: grouped_paths(window) != loose, timeout=5000)
    strict = set().union(*grouped_paths(window)) if window.group_model.rowCount() else set()
    assert strict < set().union(*loose)
    assert not window.is_busy()


def test_cancel_stops_promptly_and_keeps_what_was_hashed(qtbot, window, tmp_path, monkeypatch):
    library = thirty_photos(tmp_path)
    slow_down_hashing(monkeypatch, 0.05)

    window.folder_panel.add_folder(str(library))
    window.start_scan()
    bar = window.progress_panel.bar
    qtbot.waitUntil(lambda: bar.maximum() == 30 and bar.value() >= 2, timeout=SCAN_TIMEOUT_MS)
    cancelled_at = time.monotonic()
    window.progress_panel.cancel_button.click()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    assert time.monotonic() - cancelled_at < 1.0
    assert window.scan_result is not None and window.scan_result.cancelled
    assert 2 <= len(window.scan_result.records) < 30
    assert "cancelled" in window.statusBar().currentMessage()


def test_folders_references_slider_and_layout_are_remembered(qtbot, settings_file, messages,
                                                             tmp_path):
    photos, archive = tmp_path / "photos", tmp_path / "archive"
    photos.mkdir()
    archive.mkdir()
    first = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    qtbot.addWidget(first)
    first.scan_on_add = False
    first.add_paths([str(photos), str(archive)])
    first.folder_panel.set_reference(str(archive), True)
    first.similarity_slider.setValue(95)
    first.main_splitter.setSizes([250, 900])
    first.resize(700, 500)  # the offscreen screen is 800x600
    first.close()

    second = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    qtbot.addWidget(second)
    assert [(e.path, e.reference) for e in second.folder_panel.entries()] == [
        (str(photos), False), (str(archive), True)
    ]
    assert second.similarity_slider.value() == 95
    assert (second.width(), second.height()) == (700, 500)
    assert second.main_splitter.sizes()[0] == first.main_splitter.sizes()[0]


def test_removing_a_folder_takes_its_images_out_of_the_groups(qtbot, window, tmp_path):
    photo = make_photo(12, 320, 240)
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    photo.save(first / "a.jpg", quality=90)
    photo.save(first / "a.png")
    photo.resize((160, 120)).save(second / "a_small.jpg", quality=80)
    window.folder_panel.add_folder(str(first))
    window.folder_panel.add_folder(str(second))
    scan_and_wait(qtbot, window)
    assert grouped_paths(window) == [{str(first / "a.jpg"), str(first / "a.png"),
                                      str(second / "a_small.jpg")}]

    window.folder_panel.remove_folder(str(second))
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    assert grouped_paths(window) == [{str(first / "a.jpg"), str(first / "a.png")}]


def test_a_folder_removed_during_the_scan_is_left_out_of_the_results(qtbot, window, tmp_path,
                                                                   monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    kept = {str(path) for path in save_copies(first, 1)}
    save_copies(second, 2)
    (second / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    hashing = slow_down_hashing(monkeypatch, 0.1)
    window.folder_panel.add_folder(str(first))
    window.folder_panel.add_folder(str(second))
    window.start_scan()
    qtbot.waitUntil(hashing.is_set, timeout=SCAN_TIMEOUT_MS)
    window.folder_panel.remove_folder(str(second))
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)

    assert grouped_paths(window) == [kept]
    assert window.scan_result is not None
    assert all(r.path.startswith(str(first)) for r in window.scan_result.records)
    assert window.scan_result.errors == []
    assert window.tabs.tabText(1) == "Not scanned (0)"


def test_a_folder_remembered_in_another_spelling_still_shows_its_groups(qtbot, window,
                                                                      tmp_path):
    paths = {str(path) for path in save_copies(tmp_path / "library", 3)}
    window.folder_panel.set_entries([FolderEntry(f"{tmp_path}//library/./", False)])
    scan_and_wait(qtbot, window)
    assert grouped_paths(window) == [paths]


def test_choosing_the_earliest_capture_date_changes_the_keeper_without_a_rescan(
    qtbot, window, tmp_path, settings_file, started_jobs
):
    photo = make_photo(21, 320, 240)
    large_late = write_rotated_copy(tmp_path / "large_late.jpg", photo, 1,
                                    capture="2021:06:01 12:00:00")
    small_early = write_rotated_copy(tmp_path / "small_early.jpg",
                                     photo.resize((160, 120), Image.Resampling.LANCZOS), 1,
                                     capture="2015:06:01 12:00:00")
    window.folder_panel.add_folder(str(tmp_path))
    scan_and_wait(qtbot, window)
    assert window.group_model.group(0).keeper.record.path == str(large_late)
    started_jobs.clear()

    combo = window.keeper_choice.combo
    combo.setCurrentIndex(combo.findText("the earliest capture date"))
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)

    [group] = window.group_model.groups()
    assert group.keeper.record.path == str(small_early)
    assert [m.keep for m in group.members] == [True, False]
    assert "ScanJob" not in started_jobs
    window.save_settings()
    reopened = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    qtbot.addWidget(reopened)
    assert reopened.keeper_choice.combo.currentText() == "the earliest capture date"


def test_a_library_without_duplicates_says_so(qtbot, window, tmp_path):
    for seed in range(3):
        make_photo(seed, 160, 120).save(tmp_path / f"unique{seed}.jpg")
    window.folder_panel.add_folder(str(tmp_path))
    scan_and_wait(qtbot, window)
    assert window.pages.currentWidget() is window.tabs
    assert window.duplicates_page.currentWidget() is window.no_groups
    assert window.no_groups.title.text() == "No duplicates found"
    assert "3 images compared" in window.no_groups.subtitle.text()


def test_rotated_copies_group_only_when_asked_without_rescanning(qtbot, window, tmp_path,
                                                                monkeypatch):
    photo = make_photo(21, 320, 240)
    photo.save(tmp_path / "upright.jpg", quality=90)
    photo.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "turned.jpg", quality=90)
    window.folder_panel.add_folder(str(tmp_path))
    scan_and_wait(qtbot, window)
    assert grouped_paths(window) == []

    monkeypatch.setattr(scan_jobs, "scan", lambda *args, **kwargs: pytest.fail("rescanned"))
    window.transforms_box.setChecked(True)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    assert grouped_paths(window) == [{str(tmp_path / "upright.jpg"), str(tmp_path / "turned.jpg")}]


def test_ctrl_o_asks_for_a_folder_and_adds_it(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(dialogs, "choose_folder", lambda parent: str(tmp_path))
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert window.folder_panel.paths() == [str(tmp_path)]


def test_closing_the_window_mid_scan_stops_the_worker_at_once(qtbot, window, tmp_path,
                                                               monkeypatch):
    library = thirty_photos(tmp_path)
    slow_down_hashing(monkeypatch, 0.05)

    grouping_cancelled: list[bool] = []

    def build(records, *, cancel, **kwargs):
        grouping_cancelled.append(cancel.cancelled)
        raise scan_jobs.Cancelled

    monkeypatch.setattr(scan_jobs.SimilarityIndex, "build", build)
    window.folder_panel.add_folder(str(library))
    window.start_scan()
    bar = window.progress_panel.bar
    qtbot.waitUntil(lambda: bar.maximum() == 30 and bar.value() >= 2, timeout=SCAN_TIMEOUT_MS)
    threads = list(window.jobs.running_jobs)
    closed_at = time.monotonic()
    window.close()
    assert time.monotonic() - closed_at < 2.0
    assert threads and all(thread.isFinished() for thread in threads)
    assert grouping_cancelled == [True]  # closing does not go on to group what was hashed


def test_a_scan_that_reports_after_the_window_closed_starts_no_more_work(qtbot, window,
                                                                        tmp_path, started_jobs):
    """A thread started then would be destroyed with the window, perhaps still running."""
    save_copies(tmp_path / "library", 1)
    window.folder_panel.add_folder(str(tmp_path / "library"))
    window.start_scan()
    threads = list(window.jobs.running_jobs)
    # Without processing events, so the scan's result stays queued behind the close.
    deadline = time.monotonic() + SCAN_TIMEOUT_MS / 1000
    while not all(thread.isFinished() for thread in threads):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    window.close()
    qtbot.wait(300)
    assert started_jobs == ["ScanJob"]
    assert not window.is_busy()


def test_a_long_export_path_in_the_progress_line_does_not_widen_the_window(qtbot, window):
    width = window.width()
    window.progress_panel.start("Exporting to /" + "a_long_folder_name/" * 40 + "dupes.csv…")
    qtbot.wait(10)
    assert window.minimumSizeHint().width() < 1000
    assert window.width() == width


def test_dropping_many_photos_adds_them_in_one_go(qtbot, window, tmp_path):
    photos = []
    for number in range(300):
        photos.append(tmp_path / f"photo{number:03}.jpg")
        photos[-1].write_bytes(b"")
    window.scan_on_add = False
    changes: list[bool] = []
    window.folder_panel.folders_changed.connect(lambda: changes.append(True))
    window.add_paths([str(photo) for photo in photos] + [str(photos[0])])
    assert len(changes) == 1  # not once per photo: that made a big drop quadratic
    assert window.folder_panel.paths() == [str(photo) for photo in photos]
    assert not window.folder_panel.add_folder(str(photos[5]))
    assert window.folder_panel.add_folder(str(tmp_path))  # a folder that holds them is added


def test_after_cancelling_the_scan_the_comparing_can_be_cancelled_too(qtbot, window, tmp_path,
                                                                      monkeypatch):
    library = thirty_photos(tmp_path)
    slow_down_hashing(monkeypatch, 0.05)

    def slow_build(records, *, cancel, **kwargs):
        deadline = time.monotonic() + 10
        while not cancel.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        raise scan_jobs.Cancelled

    monkeypatch.setattr(scan_jobs.SimilarityIndex, "build", slow_build)
    window.folder_panel.add_folder(str(library))
    window.start_scan()
    panel = window.progress_panel
    qtbot.waitUntil(lambda: panel.bar.maximum() == 30 and panel.bar.value() >= 2,
                    timeout=SCAN_TIMEOUT_MS)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: "Comparing" in panel.label.text(), timeout=SCAN_TIMEOUT_MS)
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=2000)
    assert "Comparing was cancelled" in window.statusBar().currentMessage()


class GroupsCalls:
    """Wraps SimilarityIndex.groups: which threads call it, how many at once, and an
    optional delay off the GUI thread (so a regroup job is still running when the test
    acts)."""

    def __init__(self, monkeypatch, *, worker_delay: float = 0.0) -> None:
        self.threads: list[threading.Thread] = []
        self.most_at_once = 0
        self._running = 0
        self._lock = threading.Lock()
        real_groups = SimilarityIndex.groups

        def groups(index, *args, **kwargs):
            with self._lock:
                self.threads.append(threading.current_thread())
                self._running += 1
                self.most_at_once = max(self.most_at_once, self._running)
            try:
                if threading.current_thread() is not threading.main_thread():
                    time.sleep(worker_delay)
                return real_groups(index, *args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1

        monkeypatch.setattr(SimilarityIndex, "groups", groups)


def scan_inbox_and_archive(qtbot, window: MainWindow, tmp_path: Path) -> tuple[Path, Path]:
    """A large original in an inbox and its small copy in an archive, both unprotected:
    the original is the keeper. Returns (original, copy)."""
    photo = make_photo(7, 320, 240)
    archive, inbox = tmp_path / "archive", tmp_path / "inbox"
    archive.mkdir()
    inbox.mkdir()
    photo.save(inbox / "big.png")
    photo.resize((160, 120)).save(archive / "small.jpg", quality=85)
    window.folder_panel.add_folders([str(inbox), str(archive)])
    scan_and_wait(qtbot, window)
    assert window.group_model.group(0).keeper.record.path == str(inbox / "big.png")
    return inbox / "big.png", archive / "small.jpg"


def keeper_path(window: MainWindow) -> str | None:
    return window.group_model.group(0).keeper.record.path if window.group_model.rowCount() else None


def test_protecting_a_folder_ranks_the_keepers_off_the_gui_thread(qtbot, window, tmp_path,
                                                                  monkeypatch):
    _original, copy = scan_inbox_and_archive(qtbot, window, tmp_path)
    calls = GroupsCalls(monkeypatch)

    window.folder_panel.set_reference(str(copy.parent), True)
    qtbot.waitUntil(lambda: keeper_path(window) == str(copy) and not window.is_busy(),
                    timeout=SCAN_TIMEOUT_MS)
    assert window.group_model.group(0).keeper.is_reference
    assert calls.threads and threading.main_thread() not in calls.threads


def test_a_slider_move_during_a_regroup_waits_for_it_and_wins(qtbot, window, tmp_path,
                                                               monkeypatch):
    _original, copy = scan_inbox_and_archive(qtbot, window, tmp_path)
    calls = GroupsCalls(monkeypatch, worker_delay=0.5)

    shown: list[list[set[str]]] = []
    real_set_groups = window.group_model.set_groups

    def set_groups(groups):
        shown.append([{m.record.path for m in g.members} for g in groups])
        real_set_groups(groups)

    monkeypatch.setattr(window.group_model, "set_groups", set_groups)
    window.folder_panel.set_reference(str(copy.parent), True)
    qtbot.waitUntil(lambda: window.status_label.text() == "Regrouping…", timeout=5000)
    assert not window.trash_action.isEnabled()
    window.similarity_slider.setValue(100)  # the two files no longer match at 100%
    window.regroup()  # as the slider's debounce timer would, while the job still runs
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=SCAN_TIMEOUT_MS)
    assert shown == [[]]  # the job's groups at the old similarity were never shown
    assert calls.most_at_once == 1
    assert "Regrouping" not in window.status_label.text()

    window.similarity_slider.setValue(round(MIN_SIMILARITY))
    qtbot.waitUntil(lambda: keeper_path(window) == str(copy), timeout=5000)


def test_closing_the_window_mid_regroup_waits_for_the_job_and_drops_its_result(
    qtbot, window, tmp_path, monkeypatch
):
    original, copy = scan_inbox_and_archive(qtbot, window, tmp_path)
    GroupsCalls(monkeypatch, worker_delay=0.5)

    window.folder_panel.set_reference(str(copy.parent), True)
    qtbot.waitUntil(lambda: window.status_label.text() == "Regrouping…", timeout=5000)
    threads = list(window.jobs.running_jobs)
    window.close()
    assert threads and all(thread.isFinished() for thread in threads)
    qtbot.wait(50)
    assert keeper_path(window) == str(original)
    assert not window.is_busy()


def test_dropping_hundreds_of_non_images_names_a_few_and_counts_the_rest(window, tmp_path,
                                                                         messages):
    names = [f"notes{number:03}.txt" for number in range(500)]
    for name in names:
        (tmp_path / name).write_text("not a photo")
    window.add_paths([str(tmp_path / name) for name in names])
    [(kind, text)] = messages
    assert kind == "warn"
    assert names[0] in text and names[9] in text and names[10] not in text
    assert "and 490 more" in text
    assert len(text.splitlines()) <= 12


def compared_keeper_width(window: MainWindow) -> int:
    """Pixel width of the image in the compare view's keeper pane."""
    items = window.compare_view.panes[0].view.scene().items()
    return items[0].pixmap().width() if items else 0


def test_an_image_edited_between_scans_shows_its_new_pixels(qtbot, window, tmp_path):
    album = tmp_path / "album"
    original, _small, png = save_copies(album, 31)
    png.unlink()
    window.folder_panel.add_folder(str(album))
    scan_and_wait(qtbot, window)
    assert window.group_model.group(0).keeper.record.path == str(original)
    qtbot.waitUntil(lambda: compared_keeper_width(window) == 320, timeout=10000)

    make_photo(31, 480, 360).save(original, quality=92)  # enlarged in an editor meanwhile
    scan_and_wait(qtbot, window)
    assert window.group_model.group(0).keeper.record.width == 480
    qtbot.waitUntil(lambda: compared_keeper_width(window) == 480, timeout=10000)


def test_a_thumbnail_that_failed_to_load_is_retried_after_a_rescan(qtbot, window, tmp_path):
    album = tmp_path / "album"
    _original, small, _png = save_copies(album, 32)
    window.folder_panel.add_folder(str(album))
    scan_and_wait(qtbot, window)
    [member] = [m for m in window.group_model.group(0).members if m.record.path == str(small)]
    # Shown once, so no load of it is still running when it goes away.
    qtbot.waitUntil(lambda: window.thumbnails.pixmap(member.record) is not None, timeout=10000)
    away = tmp_path / "away.jpg"
    small.rename(away)  # on a drive that was briefly unavailable when it was shown
    window.thumbnails.forget({str(small)})
    window.thumbnails.pixmap(member.record)
    qtbot.waitUntil(lambda: window.thumbnails.has_failed(member.record), timeout=10000)

    away.rename(small)  # back, same size and modification time
    scan_and_wait(qtbot, window)
    [member] = [m for m in window.group_model.group(0).members if m.record.path == str(small)]
    qtbot.waitUntil(lambda: window.thumbnails.pixmap(member.record) is not None, timeout=10000)
    assert not window.thumbnails.has_failed(member.record)


def test_while_scanning_the_hint_counts_images_not_the_pairs_compared_after(window):
    def progress(phase: str, done: int, total: int) -> ScanProgress:
        return ScanProgress(phase, done, total, "/photos/a.jpg", 0, 0.0, 0.0, 1.0, 0)

    window.scan_flow._on_scan_progress(progress("hashing", 16, 16))
    window.scan_flow._on_scan_progress(progress("comparing", 3, 8))

    assert window.empty_state.subtitle.text() == "16 images so far"
    assert "Comparing 8 possible lossless conversions" in window.progress_panel.label.text()


def test_a_first_scan_says_so_before_its_first_progress(qtbot, window, tmp_path, monkeypatch):
    # The first progress of an opening comes after a snapshot or the cache is read.
    import threading

    from dedup_gui.app import scan_jobs

    release = threading.Event()
    real_scan = scan_jobs.scan
    monkeypatch.setattr(scan_jobs, "scan",
                        lambda *a, **k: release.wait(10) and real_scan(*a, **k))
    album = tmp_path / "album"
    save_copies(album, 33)
    window.folder_panel.add_folder(str(album))
    window.start_scan()
    assert window.empty_state.title.text() == "Scanning…"
    release.set()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=10000)
