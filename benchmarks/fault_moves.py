"""Fault injection for Move Marked Copies to Folder (benchmarks/fault_injection.py runs it).

Every case moves the marked copies of a copy of the library (the GUI's plan: every copy but
the keeper) into a target folder and counts, by sha256, any file that is neither at its
place nor at TARGET/<its path below the library>: that is a lost file. Cases: kill -9 during
the move on the same file system and across file systems (a real other file system, /dev/shm,
when it is one; else the copy path forced), a full destination (a small tmpfs in a private
mount namespace; else a per-file size limit), and changes between the plan and the move: a
file appearing at a destination, sources replaced or rewritten, a kept copy deleted, a
destination folder swapped for a link, a destination folder that refuses writes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import hostile_files as hostile
from fault_harness import CaseResult, Child, Env, copy_tree, driver, wait_for_output

if TYPE_CHECKING:
    from fault_injection import Harness

MOVED = "trashed"
"""The outcome value of a file moved into the folder (the trash's TRASHED)."""
RACER = b"a file the user saved in the target folder meanwhile"


class MoveFaults:
    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.box = harness.box

    def cases(self) -> list[tuple[str, Callable[[], CaseResult]]]:
        return [
            ("kill -9 during a move (same disk)", lambda: self.move_kill(across=False)),
            ("kill -9 during a move (across disks)", lambda: self.move_kill(across=True)),
            ("move: full destination disk", self.full_destination),
            ("move: destination file appears", lambda: self.changed_before_move(
                "move: a file appears at a destination", file_at_destination)),
            ("move: sources replaced or changed", lambda: self.changed_before_move(
                "move: sources replaced/rewritten, a keeper gone", sources_changed)),
            ("move: destination folder -> link", lambda: self.changed_before_move(
                "move: destination folders swapped for links", folders_to_links)),
            ("move: permission denied", lambda: self.changed_before_move(
                "move: a destination folder refuses writes", refusing_folder)),
        ]

    # --- kill -9 -----------------------------------------------------------------------

    def move_kill(self, *, across: bool) -> CaseResult:
        case = CaseResult(f"kill -9 during a move ({'across disks' if across else 'same disk'})")
        library = self.box.root / f"movekill-{across}"
        cache = self.box.folder(f"movekill-{across}-cache")
        with other_file_system(self.box.root, across) as (target, flags, how):
            for _warm_up_then_measure in range(2):
                copy_tree(self.h.library, library)
                shutil.rmtree(target, ignore_errors=True)
                reference = Child(self.move_all(target, library, flags),
                                  self.box.env("move", cache)).finish(120)
                if not case.check(reference, (0,), "uninterrupted move"):
                    return case
            planned = set(reference.said("planned"))
            exec_seconds = reference.said("exec_seconds")
            midway = debris_seen = debris_after = 0
            for attempt in range(self.h.tries(20, 4)):
                case.tries += 1
                copy_tree(self.h.library, library)
                shutil.rmtree(target, ignore_errors=True)
                before = hostile.snapshot(library)
                env = self.box.env("move", cache)
                child = Child(self.move_all(target, library, flags), env)
                if attempt % 2 == 0:
                    time.sleep(self.h.rng.uniform(0.0, reference.seconds * 1.1))
                else:  # aim at the moving itself
                    wait_for_output(child, b"EXECUTING", 60)
                    time.sleep(self.h.rng.uniform(0.0, exec_seconds * 1.2))
                child.kill()
                killed = child.finish(30)
                case.saw(killed)
                if killed.status != -signal.SIGKILL:
                    case.check(killed, (0,), "finished before the kill")
                outcome = self.account(case, before, library, target)
                midway += 0 < len(outcome.moved) < len(planned)
                debris_seen += len(outcome.debris)
                self.not_meant(case, outcome, planned)
                # The next run finishes the job and removes what the killed one left.
                again = Child(self.move_all(target, library, flags), env).finish(120)
                if case.check(again, (0,), "the next run"):
                    after = self.account(case, before, library, target)
                    debris_after += len(after.debris)
                    if after.debris:
                        case.wrong += 1
                        case.note(f"the next run left {len(after.debris)} temporary files")
        case.measured = (f"{how}: {midway} kills mid-move ({len(planned)} files in "
                         f"{exec_seconds * 1000:.0f} ms), {debris_seen} temp files left, "
                         f"{debris_after} after the next run")
        return case

    def move_all(self, target: Path, library: Path, flags: list[str]) -> list[str]:
        return driver(self.box, "move-all", str(target), *flags, str(library))

    # --- a full destination ------------------------------------------------------------

    def full_destination(self) -> CaseResult:
        case = CaseResult("move: full destination disk")
        base = self.box.folder("movefull")
        prepared = self.scan_and_plan(case, base)
        if prepared is None:
            return case
        library, plan_file, planned, env, _groups = prepared
        sizes = sorted(Path(path).stat().st_size for path in planned)
        target = base / "target"
        target.mkdir()
        before = hostile.snapshot(library)
        case.tries = 1
        private_mount = can_mount_tmpfs()
        if private_mount:
            room = sum(sizes) * 2 // 5  # room for some of the files only
            command = ["unshare", "-rm", *driver(self.box, "move-full", str(plan_file),
                                                 str(target), str(room))]
            how = f"tmpfs of {room >> 10} KB"
        else:
            limit = sizes[len(sizes) // 2]
            command = driver(self.box, "move", str(plan_file), str(target), "--force-copy",
                             f"--fsize={limit}")
            how = f"file size limit {limit >> 10} KB"
        run = Child(command, env).finish(120)
        if not case.check(run, (0,), "move"):
            return case
        outcomes = run.said("move_outcomes")
        listed = run.said("target_files") if private_mount else None
        outcome = self.account(case, before, library, target, listed)
        self.not_meant(case, outcome, planned)
        refused = [o for o in outcomes.values() if o[0] != MOVED]
        full = [o for o in refused if "space" in o[1] or "too large" in o[1]]
        if not full:
            case.wrong += 1
            case.note("the destination never filled up")
        if outcome.debris:
            case.wrong += 1
            case.note(f"{len(outcome.debris)} partial copies left in the target")
        case.measured = (f"{how}: {len(outcomes) - len(refused)} moved, {len(full)} refused "
                         "(disk full), no partial copy")
        return case

    # --- changes between the plan and the move -----------------------------------------

    def changed_before_move(self, title: str, change: Changer) -> CaseResult:
        """Scan and plan, then `change` the disk, then move. `change` returns the source
        paths that must stay where they are, and undoes what the harness must clean."""
        case = CaseResult(title)
        base = self.box.folder(f"movechanged/{change.__name__}")
        prepared = self.scan_and_plan(case, base)
        if prepared is None:
            return case
        library, plan_file, planned, env, groups = prepared
        target = base / "target"
        target.mkdir()
        case.tries = 1
        with change(library, target, sorted(planned), groups) as must_stay:
            before = hostile.snapshot(library, target, base / "outside")
            run = Child(driver(self.box, "move", str(plan_file), str(target)), env).finish(60)
            if case.check(run, (0,), "move"):
                outcome = self.account(case, before, library, target)
                wrongly = sorted(set(outcome.moved) & must_stay)
                if wrongly:
                    case.wrong += 1
                    case.note(f"moved {short(wrongly[0])}, which had to stay")
                self.not_meant(case, outcome, planned)
                outcomes = run.said("move_outcomes")
                moved = sum(o[0] == MOVED for o in outcomes.values())
                case.measured = f"{moved} moved, {len(outcomes) - moved} left in place"
        return case

    def scan_and_plan(
        self, case: CaseResult, base: Path
    ) -> tuple[Path, Path, set[str], Env, list[list[str]]] | None:
        library = copy_tree(self.h.library, base / "library")
        env = self.box.env("move-changed")
        state, plan_file = base / "scanned.pickle", base / "plan.pickle"
        scan = Child(driver(self.box, "scan", str(state), str(library)), env).finish(120)
        if not case.check(scan, (0,), "scan"):
            return None
        planning = Child(driver(self.box, "plan", str(state), str(plan_file)), env).finish(60)
        if not case.check(planning, (0,), "plan"):
            return None
        return library, plan_file, set(planning.said("planned")), env, scan.said("groups")

    # --- bookkeeping -------------------------------------------------------------------

    def account(
        self, case: CaseResult, before: dict[str, str], library: Path, target: Path,
        listed: dict[str, str] | None = None,
    ) -> hostile.MoveAccounting:
        outcome = hostile.account_move(before, library, target, listed)
        if outcome.lost:
            case.lost += len(outcome.lost)
            case.note(f"lost {short(outcome.lost[0])}" + (
                f" (+{len(outcome.lost) - 1})" if len(outcome.lost) > 1 else ""))
        return outcome

    @staticmethod
    def not_meant(case: CaseResult, outcome: hostile.MoveAccounting, planned: set[str]) -> None:
        extra = sorted(set(outcome.moved) - planned)
        if extra:
            case.wrong += 1
            case.note(f"moved {short(extra[0])}, which was not marked")


Changer = Callable[
    [Path, Path, list[str], list[list[str]]], contextlib.AbstractContextManager[set[str]]
]
"""(library, target, planned paths, groups keeper first) -> the sources that must stay."""


@contextlib.contextmanager
def file_at_destination(library: Path, target: Path, planned: list[str], _groups: list[list[str]]):
    """The user saves other files at three of the destinations (one in a folder not yet
    made, so the move makes the folder and must still not write over it)."""
    chosen = planned[:: max(1, len(planned) // 3)][:3]
    for path in chosen:
        racer = target / os.path.relpath(path, library)
        racer.parent.mkdir(parents=True, exist_ok=True)
        racer.write_bytes(RACER + path.encode())
    yield set(chosen)


@contextlib.contextmanager
def sources_changed(
    library: Path, target: Path, planned: list[str], groups: list[list[str]]
):
    """One source replaced by another file (new inode), one rewritten in place with size and
    mtime put back, and the kept copy of one group deleted (its copies must all stay)."""
    replaced, rewritten = Path(planned[0]), Path(planned[1])
    fresh = replaced.with_name("fresh.tmp")
    fresh.write_bytes(hostile.jpeg_bytes(hostile.make_photo(4242)))
    fresh.replace(replaced)
    stamp = rewritten.stat()
    data = bytearray(rewritten.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 128] = bytes(128)
    with rewritten.open("r+b") as handle:
        handle.write(bytes(data))
    os.utime(rewritten, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    group = next(g for g in groups if not {str(replaced), str(rewritten)} & set(g))
    Path(group[0]).unlink()  # the keeper: none of its group's copies may move now
    yield {str(replaced), str(rewritten), *group[1:]}


@contextlib.contextmanager
def folders_to_links(library: Path, target: Path, planned: list[str], _groups: list[list[str]]):
    """target/backup -> a folder outside, target/edits -> the library's own camera folder:
    nothing may go through either."""
    outside = target.parent / "outside"
    outside.mkdir(exist_ok=True)
    (target / "backup").symlink_to(outside)
    (target / "edits").symlink_to(library / "camera")
    yield {p for p in planned if Path(p).parent.name in ("backup", "edits")}


@contextlib.contextmanager
def refusing_folder(library: Path, target: Path, planned: list[str], _groups: list[list[str]]):
    """target/backup cannot be written to (read-only for a user; immutable when we are
    root, who may write anywhere)."""
    folder = target / "backup"
    folder.mkdir()
    root = os.geteuid() == 0
    if root:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield {p for p in planned if Path(p).parent.name == "backup"}
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(folder)], check=False)
        else:
            folder.chmod(0o755)


@contextlib.contextmanager
def other_file_system(box: Path, across: bool):
    """(target, driver flags, how): a target on the box's file system, or on another one
    (/dev/shm when it is one, else the copy path forced)."""
    if not across:
        yield box / "movekill-target", [], "rename"
        return
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != box.stat().st_dev:
        other = Path(tempfile.mkdtemp(prefix="dedup-faults-", dir=shm))
        try:
            yield other / "target", [], "copy to tmpfs"
        finally:
            shutil.rmtree(other, ignore_errors=True)
        return
    yield box / "movekill-target", ["--force-copy"], "copy (forced)"


def can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null "
         "|| mount -t tmpfs -o size=64k tmpfs /tmp"],
        capture_output=True, timeout=10, check=False,
    )
    return probe.returncode == 0


def short(path: str) -> str:
    return "/".join(Path(path).parts[-2:]).replace("\n", "\\n")

