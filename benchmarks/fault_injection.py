"""Fault injection: can anything cost a photo, crash, hang or blow up memory?

Runs every case on the checked-out code, in child processes, inside one temporary folder
with its own cache (DEDUP_GUI_CACHE_DIR) and its own trash (XDG_DATA_HOME): the user's
real cache and trash are never touched. Before and after each case, the sha256 of every
file involved is compared; a file trashed on purpose must be byte-identical in the trash.

Cases: kill -9 during scans, during a trash and during a move to a folder (fault_moves.py:
also a full destination and changes between the plan and the move); four scans sharing one
cache; a damaged cache; a cache write-locked by another program; tiny files declaring huge
images; and the end-to-end safety cases (--output over a photo, folder links, Ctrl+C in a
long digest, newlines in names, a closed pipe, files changed between the scan and the trash).

Prints one table; exits 1 if any file was lost, else 0 (failed checks are in the table).

    python benchmarks/fault_injection.py [--quick] [--seed N] [--keep] [--only TEXT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hostile_files as hostile
from fault_harness import (
    CaseResult,
    Child,
    Env,
    Run,
    Sandbox,
    cli,
    copy_cache,
    copy_tree,
    driver,
    run_cli,
    wait_for_output,
)
from fault_moves import MoveFaults

SCAN_OK = (0, 1)
FOUND = (1,)
LOCK_TARGET_FACTOR, LOCK_TARGET_SLACK = 2.0, 5.0
MEMORY_TARGET_SLACK = 256 << 20
"""Hostile files may cost at most this much more than a normal scan of the same photos."""
SIGINT_TARGET_SECONDS = 1.5
SPARSE_SIZE = 8 << 30


class Harness:
    def __init__(self, quick: bool, seed: int) -> None:
        self.quick = quick
        self.rng = random.Random(seed)
        self.box = Sandbox()
        self.library = self.box.folder("library")
        hostile.write_library(self.library)
        self.library_hashes = hostile.snapshot(self.library)
        clean = run_cli(self.box.env("clean"), "scan", "--workers", "2", str(self.library))
        if clean.status != 1:
            raise RuntimeError(f"the clean scan failed ({clean.status}): {clean.stderr[-500:]}")
        self.clean_seconds = clean.seconds
        self.groups = groups_in(clean.stdout, self.library)

    def tries(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def library_unchanged(self, case: CaseResult, folder: Path | None = None) -> None:
        """Read-only cases: the scanned library must be exactly as it was."""
        folder = folder or self.library
        before = {
            path.replace(str(self.library), str(folder), 1): digest
            for path, digest in self.library_hashes.items()
        }
        lost = hostile.account(before, set(), Path("/nonexistent")).lost
        if lost:
            case.lost += len(lost)
            case.note(f"library changed: {short(lost[0])}")

    def scan_ok(
        self, case: CaseResult, run: Run, folder: Path | None = None, what: str = ""
    ) -> bool:
        """A scan of the library that must find exactly the clean run's groups."""
        if not case.check(run, SCAN_OK, what):
            return False
        found = groups_in(run.stdout, folder or self.library)
        if found != self.groups or run.status != 1:
            case.wrong += 1
            prefix = f"{what}: " if what else ""
            case.note(f"{prefix}status {run.status}, {describe_difference(found, self.groups)}")
            return False
        return True

    # --- kill -9 -----------------------------------------------------------------------

    def scan_kill(self) -> CaseResult:
        case = CaseResult("kill -9 during a scan, then rescan")
        library = copy_tree(self.library, self.box.root / "scankill")
        env = self.box.env("scankill")
        for attempt in range(self.tries(20, 4)):
            case.tries += 1
            if attempt % 2 == 0:  # half cold, half over the cache the last one left
                env = self.box.env("scankill")
            else:
                for path in self.rng.sample(sorted(library.rglob("*.jpg")), 20):
                    os.utime(path, ns=(time.time_ns(), time.time_ns()))
            child = Child(cli("scan", "--workers", "2", str(library)), env)
            time.sleep(self.rng.uniform(0.05, self.clean_seconds * 1.1))
            child.kill()
            case.saw(child.finish(30))
            self.scan_ok(case, run_cli(env, "scan", "--workers", "2", str(library)), library)
        self.library_unchanged(case, library)
        return case

    def trash_kill(self) -> CaseResult:
        case = CaseResult("kill -9 during a trash")
        library = self.box.root / "trashkill"
        cache = self.box.folder("trashkill-cache")
        for _warm_up_then_measure in range(2):
            copy_tree(self.library, library)
            reference = Child(driver(self.box, "all", str(library)), self.box.env("trash", cache))
            run = reference.finish(120)
            if not case.check(run, (0,), "uninterrupted trash"):
                return case
        groups = run.said("groups")
        planned = set(run.said("planned"))
        exec_seconds = run.said("exec_seconds")
        midway = 0
        for attempt in range(self.tries(20, 4)):
            case.tries += 1
            copy_tree(self.library, library)
            before = hostile.snapshot(library)
            env = self.box.env("trash", cache)
            child = Child(driver(self.box, "all", str(library)), env)
            if attempt % 2 == 0:
                time.sleep(self.rng.uniform(0.0, run.seconds * 1.1))
            else:  # aim at the trashing itself
                wait_for_output(child, b"EXECUTING", 60)
                time.sleep(self.rng.uniform(0.0, exec_seconds * 1.2))
            child.kill()
            killed = child.finish(30)
            case.saw(killed)
            if killed.status != -signal.SIGKILL:
                case.check(killed, (0,), "finished before the kill")
            trashed = self.account(case, before, planned, env)
            midway += 0 < len(trashed) < len(planned)
            for group in groups:
                if not any(at_place(path, before) for path in group):
                    case.lost += 1
                    case.note(f"no copy left of {short(group[0])}")
        case.measured = (
            f"{midway} kills mid-trash ({len(planned)} files in {exec_seconds * 1000:.0f} ms)"
        )
        return case

    def account(
        self, case: CaseResult, before: dict[str, str], meant: set[str], env: Env
    ) -> tuple[str, ...]:
        outcome = hostile.account(before, meant, env.data_home)
        if outcome.lost:
            case.lost += len(outcome.lost)
            case.note(f"lost {short(outcome.lost[0])}" + (
                f" (+{len(outcome.lost) - 1})" if len(outcome.lost) > 1 else ""
            ))
        return outcome.trashed

    # --- the cache ---------------------------------------------------------------------

    def concurrent_scans(self) -> CaseResult:
        case = CaseResult("4 scans at once on one cache")
        library = copy_tree(self.library, self.box.root / "concurrent")
        cache = self.box.folder("concurrent-cache")
        slowest = 0.0
        for round_number in range(self.tries(3, 1)):
            if round_number:  # some misses, so all four write
                for path in self.rng.sample(sorted(library.rglob("*.jpg")), 20):
                    os.utime(path, ns=(time.time_ns(), time.time_ns()))
            children = [
                Child(cli("scan", "--workers", "1", str(library)), self.box.env("conc", cache))
                for _ in range(4)
            ]
            for child in children:
                case.tries += 1
                run = child.finish(180)
                slowest = max(slowest, run.seconds)
                self.scan_ok(case, run, library)
        case.measured = f"slowest {slowest:.1f} s"
        self.library_unchanged(case, library)
        return case

    def damaged_cache(self) -> CaseResult:
        case = CaseResult("random damage to the cache, then scan")
        library = copy_tree(self.library, self.box.root / "damaged")
        template = self.box.env("damage-template")
        run = run_cli(template, "scan", "--workers", "2", str(library))
        if not self.scan_ok(case, run, library):
            return case
        database = next(template.cache.glob("*.sqlite3"))
        photos = sorted(library.rglob("*.jpg"))
        for seed in range(self.tries(50, 8)):
            case.tries += 1
            env = self.box.env("damaged")
            copy_cache(template, env)
            what = hostile.damage(env.cache / database.name, seed)
            for path in self.rng.sample(photos, 5):  # some misses: moved-file lookups run
                os.utime(path, ns=(time.time_ns(), time.time_ns()))
            run = run_cli(env, "scan", "--workers", "2", str(library), timeout=90)
            self.scan_ok(case, run, library, what=f"seed {seed} ({what})")
        self.library_unchanged(case, library)
        return case

    def locked_cache(self) -> CaseResult:
        case = CaseResult("cache write-locked by another program")
        library = copy_tree(self.library, self.box.root / "locked")
        hostile.write_byte_pairs(library / "pairs", 300)  # enough files for several writes
        template = self.box.env("lock-template")
        first = run_cli(template, "scan", "--workers", "2", str(library))
        if not case.check(first, FOUND, "filling the cache"):
            return case
        expected = groups_in(first.stdout, library)
        stamp = time.time_ns()
        for path in library.rglob("*.jpg"):  # every file changed: all hashed, all written
            os.utime(path, ns=(stamp, stamp))
        free, held = self.box.env("lock-free"), self.box.env("lock-held")
        copy_cache(template, free)
        copy_cache(template, held)
        database = next(held.cache.glob("*.sqlite3"))
        holder = Child([sys.executable, "-c", LOCK_HOLDER, str(database)], held)
        if not wait_for_output(holder, b"locked", 30):
            holder.kill()
            case.crashes += 1
            case.note("the lock holder never got the lock")
            return case
        timings = {}
        for name, env in (("unlocked", free), ("locked", held)):
            case.tries += 1
            run = run_cli(env, "scan", "--workers", "2", str(library),
                          timeout=20 if self.quick else 120)
            timings[name] = run
            found = groups_in(run.stdout, library)
            if case.check(run, FOUND, name) and found != expected:
                case.wrong += 1
                case.note(f"{name}: {describe_difference(found, expected)}")
        holder.kill()
        holder.finish(10)
        locked, unlocked = timings["locked"], timings["unlocked"]
        budget = unlocked.seconds * LOCK_TARGET_FACTOR + LOCK_TARGET_SLACK
        stopped = " (stopped)" if locked.timed_out else ""
        case.measured = f"{locked.seconds:.0f} s{stopped} vs {unlocked.seconds:.1f} s unlocked"
        if not locked.timed_out and locked.seconds > budget:
            case.wrong += 1
            case.note(f"locked scan {locked.seconds:.1f} s > target {budget:.1f} s")
        return case

    # --- hostile files -----------------------------------------------------------------

    def hostile_files(self) -> list[CaseResult]:
        base = self.box.folder("hostile")
        crafted = self.box.folder("hostile/crafted")
        makers: dict[str, Callable[[], Path]] = {
            "progressive JPEG declaring 32768x32768": lambda: craft(
                crafted / "bomb.jpg", hostile.progressive_jpeg_declaring, 32768, 32768),
            "float TIFF 9400x9400": lambda: craft(
                crafted / "float.tif", hostile.float_tiff_declaring, 9400),
            "16-bit grey PNG 9400x9400": lambda: craft(
                crafted / "grey16.png", hostile.grey16_png_declaring, 9400),
            "a file growing while read": lambda: crafted / "growing.jpg",
        }  # fmt: skip
        normal = self.photo_pair(base / "normal")
        baseline = CaseResult("hostile: normal scan of the photo pair (baseline)")
        baseline.tries = 1
        run = run_cli(self.box.env("hostile"), "scan", "--workers", "2", str(normal))
        if case_pair_ok(baseline, run, normal):
            baseline.measured = f"{run.peak_rss / 1e6:.0f} MB"
        results = [baseline]
        suites: list[tuple[str, list[str]]] = [("all hostile files together", list(makers))]
        if not self.quick:
            suites = [(name, [name]) for name in makers] + suites
        for title, names in suites:
            case = CaseResult(f"hostile: {title}")
            folder = self.photo_pair(base / f"case{len(results)}")
            files = [makers[name]() for name in names]
            for made in files:
                target = folder / made.name
                if made.name == "growing.jpg":
                    target.write_bytes(hostile.jpeg_bytes(hostile.make_photo(77, 640, 480)))
                else:
                    shutil.copy2(made, target)
            before = hostile.snapshot(folder)
            grower = None
            if "a file growing while read" in names:
                growing = folder / "growing.jpg"
                before.pop(str(growing))
                grower = Child([
                    sys.executable, str(Path(hostile.__file__)), "grow", str(growing), "60",
                ], self.box.env("grower"))
            case.tries = 1
            run = run_cli(self.box.env("hostile"), "scan", "--workers", "2", str(folder))
            if grower is not None:
                grower.kill()
                grower.finish(10)
            case_pair_ok(case, run, folder)
            case.measured = f"{run.peak_rss / 1e6:.0f} MB, {run.seconds:.1f} s"
            if run.peak_rss > baseline.peak_rss + MEMORY_TARGET_SLACK:
                case.wrong += 1
                case.note(
                    f"peak {run.peak_rss / 1e6:.0f} MB > normal {baseline.peak_rss / 1e6:.0f} MB"
                    f" + {MEMORY_TARGET_SLACK >> 20} MB"
                )
            self.account(case, before, set(), self.box.env("unused"))
            results.append(case)
        return results

    def photo_pair(self, folder: Path) -> Path:
        """A real photo and its smaller copy: the pair every hostile scan must still find."""
        folder.mkdir(parents=True)
        photo = hostile.make_photo(900, 1024, 768)
        (folder / "pair_original.jpg").write_bytes(hostile.jpeg_bytes(photo))
        smaller = photo.resize((800, 600))
        (folder / "pair_smaller.jpg").write_bytes(hostile.jpeg_bytes(smaller, quality=85))
        return folder

    # --- safety, end to end ------------------------------------------------------------

    def output_over_photo(self) -> CaseResult:
        case = CaseResult("scan --output over a photo")
        folder = copy_tree(self.library / "backup", self.box.root / "output")
        photo = sorted(folder.glob("*.jpg"))[0]
        before = hostile.snapshot(folder)
        case.tries = 1
        run = run_cli(self.box.env("output"), "scan", str(folder), "--output", str(photo))
        if case.check(run, (0, 1, 4)) and run.status != 4:
            case.wrong += 1
            case.note(f"status {run.status}, not 4")
        self.account(case, before, set(), self.box.env("unused"))
        return case

    def folder_link(self, name: str, target: str, timeout: float) -> CaseResult:
        case = CaseResult(f"a folder link ({name}) in the scanned folder")
        base = self.box.folder(f"links-{name.split()[0]}")
        scanned, outside = base / "scanned", base / "outside"
        inside_pair = self.photo_pair(scanned)
        outside.mkdir()
        for source in sorted((self.library / "backup").glob("*.jpg"))[:4]:
            shutil.copy2(source, outside / source.name)
            shutil.copy2(source, outside / f"again {source.name}")
        (scanned / name.split()[0]).symlink_to(target)
        before = hostile.snapshot(base)
        case.tries = 1
        # A scan that left the folder may read the whole machine: stop it early.
        run = run_cli(self.box.env("links"), "scan", "--workers", "2", str(scanned),
                      timeout=timeout, memory_cap=1 << 30)
        if case.check(run, SCAN_OK):
            found = groups_in(run.stdout, inside_pair, real=True)
            expected = frozenset({frozenset({"pair_original.jpg", "pair_smaller.jpg"})})
            if found != expected:
                case.wrong += 1
                outsiders = sorted(p for g in found for p in g if p.startswith(".."))
                case.note(f"{len(outsiders)} files from outside grouped, e.g. "
                          f"{outsiders[0] if outsiders else describe_difference(found, expected)}")
        case.measured = f"{run.seconds:.1f} s"
        self.account(case, before, set(), self.box.env("unused"))
        return case

    def interrupt_digest(self) -> CaseResult:
        case = CaseResult("Ctrl+C during a long digest")
        folder = self.box.folder("sigint")
        for seed in (1, 2):
            hostile.sparse_jpeg(folder / f"huge_{seed}.jpg", SPARSE_SIZE, seed)
        case.tries = 1
        child = Child(cli("scan", "--workers", "2", str(folder)), self.box.env("sigint"))
        deadline = time.monotonic() + 20
        while read_chars(child.pid) < 256 << 20:
            early = child.poll()
            if early is not None:
                case.check(early, (130,))
                case.note(f"the scan ended (status {early.status}) before any Ctrl+C")
                return case
            if time.monotonic() > deadline:
                case.note("no digest read seen in 20 s; interrupted anyway")
                break
            time.sleep(0.05)
        sent = time.monotonic()
        child.kill(signal.SIGINT)
        run = child.finish(timeout=(sent - child.started) + (5 if self.quick else 30))
        took = time.monotonic() - sent
        case.measured = f"ended {took:.2f} s after Ctrl+C" if not run.timed_out else "no end"
        if case.check(run, (130,)) and took > SIGINT_TARGET_SECONDS:
            case.wrong += 1
            case.note(f"{took:.1f} s to stop (target {SIGINT_TARGET_SECONDS} s)")
        for path in folder.iterdir():
            path.unlink()
        return case

    def newline_name(self) -> CaseResult:
        case = CaseResult("newline in a file name, query text output")
        base = self.box.folder("newline")
        library = base / "library"
        library.mkdir()
        image = self.library / "camera" / "IMG_0003.jpg"
        shutil.copy2(image, library / "plain copy.jpg")
        forged = "forged.jpg\n  100.0%  exact  forged-line.jpg  1x1  1 B\nx.jpg"
        shutil.copy2(image, library / forged)
        before = hostile.snapshot(base)
        case.tries = 1
        run = run_cli(self.box.env("newline"), "query", str(image), str(library))
        if case.check(run, SCAN_OK):
            lines = run.stdout.decode(errors="replace").splitlines()
            summary = lines[-1].split() if lines else ["?"]
            copies = int(summary[0]) if summary[0].isdigit() else -1
            forged_line = any(line.startswith("  100.0%  exact  forged-line") for line in lines)
            if copies < 1 or len(lines) != copies + 2 or forged_line:
                case.wrong += 1
                case.note(f"{len(lines)} lines for {copies} copies (want {copies + 2})")
        self.account(case, before, set(), self.box.env("unused"))
        return case

    def closed_pipe(self) -> CaseResult:
        case = CaseResult("scan | head -c 10")
        folder = self.box.folder("pipe")
        hostile.write_byte_pairs(folder, 200)
        case.tries = 1
        child = Child(cli("scan", "--workers", "2", str(folder)), self.box.env("pipe"),
                      stdout=subprocess.PIPE)
        assert child.process.stdout is not None
        if select.select([child.process.stdout], [], [], 90)[0]:
            os.read(child.process.stdout.fileno(), 10)
        child.process.stdout.close()
        run = child.finish(120)
        if case.check(run, (0, 1, 4, -signal.SIGPIPE, 128 + signal.SIGPIPE)):
            case.measured = f"status {run.status}"
        return case

    def changed_before_trash(self, title: str, change: Callable[[Path, dict], set[str]],
                             ) -> CaseResult:
        """Scan, then `change` the disk, then plan and trash (and: plan, change, trash).
        `change(library, scanned)` returns the paths that must not be trashed."""
        case = CaseResult(title)
        for when in ("before planning", "after planning"):
            case.tries += 1
            base = self.box.folder(f"changed/{title.split()[0]}-{when.split()[0]}")
            library = copy_tree(self.library, base / "library")
            env = self.box.env("changed")
            state = base / "scanned.pickle"
            scan = Child(driver(self.box, "scan", str(state), str(library)), env).finish(120)
            if not case.check(scan, (0,), "scan"):
                continue
            scanned = {"groups": scan.said("groups"), "library": library}
            plan_file = base / "plan.pickle"
            protected: set[str] = set()
            if when == "before planning":
                protected = change(library, scanned)
            planning = Child(driver(self.box, "plan", str(state), str(plan_file)), env)
            planned_run = planning.finish(60)
            if not case.check(planned_run, (0, 3), "plan"):
                continue
            if planned_run.status == 3:
                continue  # refused: nothing trashed, which is safe
            planned = set(planned_run.said("planned"))
            if when == "after planning":
                protected = change(library, scanned)
            before = hostile.snapshot(base)
            execute = Child(driver(self.box, "execute", str(plan_file)), env).finish(60)
            if not case.check(execute, (0,), "execute"):
                continue
            meant = (planned & set(before)) - protected
            trashed = self.account(case, before, meant, env)
            wrongly = sorted(set(trashed) & protected)
            if wrongly:
                case.note(f"{when}: trashed {short(wrongly[0])}")
        return case

    def safety_cases(self) -> list[tuple[str, Callable[[], CaseResult]]]:
        root_timeout = 8 if self.quick else 20
        return [
            ("--output over a photo", self.output_over_photo),
            ("parent -> .. link", lambda: self.folder_link("parent -> ..", "..", 60)),
            ("root -> / link", lambda: self.folder_link("root -> /", "/", root_timeout)),
            ("Ctrl+C in a digest", self.interrupt_digest),
            ("newline in a name", self.newline_name),
            ("closed pipe", self.closed_pipe),
            ("keeper deleted", lambda: self.changed_before_trash(
                "keeper deleted after the scan", delete_keeper)),
            ("copy rewritten", lambda: self.changed_before_trash(
                "copy rewritten, size+mtime put back", rewrite_copy)),
            ("parent swapped", lambda: self.changed_before_trash(
                "parent folder swapped for a link", swap_parent)),
        ]


LOCK_HOLDER = """\
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(3600)
"""


# --- changes between the scan and the trash ---------------------------------------------

def biggest_group(scanned: dict) -> list[str]:
    return max(scanned["groups"], key=len)


def delete_keeper(library: Path, scanned: dict) -> set[str]:
    group = biggest_group(scanned)
    Path(group[0]).unlink()  # a file we generated: the "user" deletes the keeper
    return set(group[1:])


def rewrite_copy(library: Path, scanned: dict) -> set[str]:
    copy = Path(biggest_group(scanned)[1])
    before = copy.stat()
    data = bytearray(copy.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 256] = bytes(b ^ 0xFF for b in data[middle : middle + 256])
    with copy.open("r+b") as handle:  # in place, as an editor saving over it would
        handle.write(bytes(data))
    os.utime(copy, ns=(before.st_atime_ns, before.st_mtime_ns))
    return {str(copy)}


def swap_parent(library: Path, scanned: dict) -> set[str]:
    """backup/ moves away; backup becomes a link to an unscanned folder holding files of
    the same names, sizes and mtimes (half byte-identical, half different inside)."""
    folder = library / "backup"
    moved = library.parent / "moved backup"
    unscanned = library.parent / "unscanned"
    folder.rename(moved)
    unscanned.mkdir()
    for index, source in enumerate(sorted(moved.iterdir())):
        target = unscanned / source.name
        shutil.copy2(source, target)
        if index % 2:
            rewrite_in_place(target)
    folder.symlink_to(unscanned)
    return {str(path) for path in unscanned.iterdir()}


def rewrite_in_place(path: Path) -> None:
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[-300:-200] = bytes(b ^ 0x55 for b in data[-300:-200])
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


# --- helpers ---------------------------------------------------------------------------

def craft(path: Path, maker: Callable[..., None], *args: int) -> Path:
    if not path.exists():
        maker(path, *args)
    return path


def case_pair_ok(case: CaseResult, run: Run, folder: Path) -> bool:
    if not case.check(run, SCAN_OK):
        return False
    found = groups_in(run.stdout, folder)
    if frozenset({"pair_original.jpg", "pair_smaller.jpg"}) not in found:
        case.wrong += 1
        case.note(f"the real photo pair was not grouped (status {run.status})")
        return False
    return True


def groups_in(stdout: bytes, root: Path, *, real: bool = False) -> hostile.GroupSet:
    """The groups of a `scan` JSON output, as paths relative to `root` (real paths: with
    every link resolved, so a file reached through a link shows where it really is)."""
    try:
        document = json.loads(stdout)
    except ValueError:
        return frozenset()
    groups = set()
    for group in document.get("groups", []):
        paths = [entry["path"] for entry in group["files"]]
        if real:
            paths = [os.path.realpath(path) for path in paths]
        groups.add(frozenset(os.path.relpath(path, root) for path in paths))
    return frozenset(groups)


def describe_difference(found: hostile.GroupSet, expected: hostile.GroupSet) -> str:
    missing, extra = expected - found, found - expected
    return f"{len(found)} groups ({len(missing)} missing, {len(extra)} unexpected)"


def at_place(path: str, before: dict[str, str]) -> bool:
    here = Path(path)
    return here.is_file() and hostile.sha256(here) == before.get(path)


def read_chars(pid: int) -> int:
    try:
        return psutil.Process(pid).io_counters().read_chars
    except (psutil.Error, AttributeError):
        return 0


def short(path: str) -> str:
    return "/".join(Path(path).parts[-2:]).replace("\n", "\\n")


def print_table(results: Iterable[CaseResult]) -> None:
    header = (f"{'case':44} {'tries':>5} {'lost':>5} {'crash':>5} {'hang':>5} {'wrong':>5} "
              f"{'peak MB':>8}  {'verdict':7} measured")
    print(header)
    print("-" * len(header))
    notes = []
    for result in results:
        print(
            f"{result.name[:44]:44} {result.tries:5} {result.lost:5} {result.crashes:5} "
            f"{result.hangs:5} {result.wrong:5} {result.peak_rss / 1e6:8.0f}  "
            f"{result.verdict:7} {result.measured}"
        )
        notes += [f"  {result.name}: {note}" for note in result.notes]
    if notes:
        print("\nnotes (first few per case):")
        print("\n".join(notes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~1-minute subset")
    parser.add_argument("--seed", type=int, default=1, help="kill points and damage (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--only", metavar="TEXT", help="only the cases whose title has TEXT")
    args = parser.parse_args()
    started = time.monotonic()
    harness = Harness(args.quick, args.seed)
    steps: list[tuple[str, Callable[[], CaseResult | list[CaseResult]]]] = [
        ("kill -9 during a scan", harness.scan_kill),
        ("kill -9 during a trash", harness.trash_kill),
        *MoveFaults(harness).cases(),
        ("4 scans at once", harness.concurrent_scans),
        ("cache damage", harness.damaged_cache),
        ("write-locked cache", harness.locked_cache),
        ("hostile files", harness.hostile_files),
        *harness.safety_cases(),
    ]
    if args.only:
        steps = [step for step in steps if args.only.lower() in step[0].lower()]
    results: list[CaseResult] = []
    try:
        for title, step in steps:
            step_started = time.monotonic()
            try:
                produced = step()
            except Exception as error:  # the harness itself failed: say so, go on
                produced = CaseResult(f"{title} (harness error)", crashes=1)
                produced.note(f"{type(error).__name__}: {error}")
            produced = produced if isinstance(produced, list) else [produced]
            results += produced
            print(f"[{time.monotonic() - started:5.0f} s] {title}: "
                  f"{time.monotonic() - step_started:.0f} s", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"kept {harness.box.root}", file=sys.stderr)
        else:
            harness.box.remove()
    print(f"\nfault injection on {Path(__file__).resolve().parent.parent} "
          f"({'quick' if args.quick else 'full'}, seed {args.seed}, "
          f"{time.monotonic() - started:.0f} s)\n")
    print_table(results)
    lost = sum(result.lost for result in results)
    print(f"\n{lost} files lost." if lost else "\nno file lost.")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
