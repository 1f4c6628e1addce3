"""Plumbing for benchmarks/fault_injection.py: a sandbox (its own cache and trash), child
processes watched for time and memory, the trash driver, and one result row per case."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

REPO = Path(__file__).resolve().parent.parent
MEMORY_CAP_BYTES = 6 << 30
"""A child whose process tree passes this is killed (the machine is shared)."""
CRASH_MARKERS = ("Traceback (most recent call last)", "Exception ignored")
UNFORESEEN_ERROR_STATUS = 70

DRIVER = '''\
"""Scan, plan and trash (or move to a folder) like the GUI does, through dedup_gui.core."""
import errno, hashlib, inspect, json, os, pickle, subprocess, sys, time
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.trash import actions


def scan(roots):
    with HashCache.open_default() as cache:
        result = scanner.scan(roots, cache=cache, options=scanner.ScanOptions(workers=2))
    groups = SimilarityIndex.build(result.records).groups(DEFAULT_SIMILARITY)
    return {"groups": groups, "roots": tuple(getattr(result, "roots", ()))}


def plan(scanned):
    """As the GUI's trash flow does: a group the planner says would lose every copy is
    put to the user ("Trash every copy?"), who says yes: they were told every file of it
    is marked, and that is only true if it is."""
    groups = scanned["groups"]
    marks = [member.record.path for group in groups for member in group.members[1:]]
    extra = {}
    if "roots" in inspect.signature(actions.plan_removal).parameters:
        extra["roots"] = scanned["roots"]
    asked = {} if "roots" not in inspect.signature(actions.removal_problems).parameters else extra
    problems = actions.removal_problems(groups, marks, **asked)
    emptied = {
        problem.group_index for problem in problems
        if problem.kind is actions.ProblemKind.WOULD_EMPTY_GROUP
        and problem.group_index is not None
    }
    if emptied:
        say({"confirmed_every_copy": sorted(emptied)})
    try:
        return actions.plan_removal(groups, marks, allow_empty_groups=emptied, **extra)
    except actions.RemovalRefusedError as refused:
        say({"refused": [problem.message for problem in refused.problems]})
        sys.exit(3)


def execute(removal_plan):
    started = time.monotonic()
    report = actions.execute_removal(removal_plan)
    say({
        "outcomes": {o.path: o.outcome.value for o in report.outcomes},
        "exec_seconds": time.monotonic() - started,
    })


def force_copy(move_to_folder):
    """As if the target were on another file system: every rename or link of a photo into
    it fails with EXDEV, so the copy path runs (our temporary files publish as usual)."""
    def other_device(real):
        def call(source, destination, **kwargs):
            if ".dedup-move-" not in os.fspath(source):
                raise OSError(errno.EXDEV, "Invalid cross-device link (forced)")
            return real(source, destination, **kwargs)
        return call
    move_to_folder._rename = other_device(move_to_folder._rename)
    move_to_folder._link = other_device(move_to_folder._link)


def move(removal_plan, target, flags):
    from dedup_gui.core.trash import move_to_folder
    if "--force-copy" in flags:
        force_copy(move_to_folder)
    for flag in flags:
        if flag.startswith("--fsize="):  # a per-file size limit: writes past it fail (EFBIG)
            import resource
            limit = int(flag.split("=", 1)[1])
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    print("EXECUTING", flush=True)
    started = time.monotonic()
    report = move_to_folder.move_marked(removal_plan, target)
    say({
        "move_outcomes": {o.path: [o.outcome.value, o.message] for o in report.outcomes},
        "destinations": report.destinations,
        "leftovers_removed": list(getattr(report, "leftovers_removed", ())),
        "exec_seconds": time.monotonic() - started,
    })


def target_files(target):
    """relative path -> sha256 of every file under `target` (said before a private mount
    goes away with this process)."""
    found = {}
    for folder, _dirs, names in os.walk(target):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    found[os.path.relpath(path, target)] = hashlib.sha256(handle.read()).hexdigest()
    return found


def say(document):
    print(json.dumps(document), flush=True)


def main(mode, args):
    if mode == "scan":  # OUT ROOT...
        scanned = scan(args[1:])
        say({"groups": [[m.record.path for m in g.members] for g in scanned["groups"]]})
        with open(args[0], "wb") as out:
            pickle.dump(scanned, out)
    elif mode == "plan":  # IN OUT
        with open(args[0], "rb") as scanned:
            removal_plan = plan(pickle.load(scanned))
        say({"planned": list(removal_plan.paths)})
        with open(args[1], "wb") as out:
            pickle.dump(removal_plan, out)
    elif mode == "execute":  # IN
        with open(args[0], "rb") as planned:
            execute(pickle.load(planned))
    elif mode == "move":  # PLAN TARGET [--force-copy] [--fsize=BYTES]
        with open(args[0], "rb") as planned:
            move(pickle.load(planned), args[1], args[2:])
    elif mode == "move-full":  # PLAN TARGET BYTES: TARGET a tmpfs of BYTES (own mount space)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args[2]}", "tmpfs", args[1]],
                       check=True)
        with open(args[0], "rb") as planned:
            move(pickle.load(planned), args[1], [])
        say({"target_files": target_files(args[1])})
    elif mode == "move-all":  # TARGET [--force-copy] ROOT...
        flags = [arg for arg in args[1:] if arg.startswith("--")]
        scanned = scan([arg for arg in args[1:] if not arg.startswith("--")])
        say({"groups": [[m.record.path for m in g.members] for g in scanned["groups"]]})
        removal_plan = plan(scanned)
        say({"planned": list(removal_plan.paths)})
        move(removal_plan, args[0], flags)
    elif mode == "all":  # ROOT...
        scanned = scan(args)
        say({"groups": [[m.record.path for m in g.members] for g in scanned["groups"]]})
        removal_plan = plan(scanned)
        say({"planned": list(removal_plan.paths)})
        print("EXECUTING", flush=True)
        execute(removal_plan)


main(sys.argv[1], sys.argv[2:])
'''


@dataclass(frozen=True)
class Env:
    """A child's environment: its own cache folder and its own XDG data home (trash)."""

    cache: Path
    data_home: Path

    def variables(self) -> dict[str, str]:
        variables = dict(os.environ)
        variables.update({
            "DEDUP_GUI_CACHE_DIR": str(self.cache),
            "XDG_DATA_HOME": str(self.data_home),
            "XDG_CACHE_HOME": str(self.cache / "xdg"),
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        })
        return variables

    @property
    def trash(self) -> Path:
        return self.data_home / "Trash"


class Sandbox:
    """Everything of one harness run, in one temporary folder removed at the end."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dedup-faults-")).resolve()
        self.driver = self.root / "trash_driver.py"
        self.driver.write_text(DRIVER)
        self._count = 0

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def env(self, name: str, cache: Path | None = None) -> Env:
        """A fresh trash; a fresh cache unless `cache` (a folder) is shared."""
        self._count += 1
        base = self.folder(f"env/{self._count:03}-{name}")
        data_home = base / "data"
        data_home.mkdir()
        cache = cache or base / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        return Env(cache, data_home)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def copy_tree(source: Path, target: Path) -> Path:
    """A copy with every mtime kept (so a cache filled for `target` before stays warm)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True, copy_function=shutil.copy2)
    return target


def copy_cache(source: Env, target: Env) -> None:
    for item in source.cache.iterdir():
        if item.is_file():
            shutil.copy2(item, target.cache / item.name)


@dataclass
class Run:
    status: int | None
    """Exit status (negative: killed by that signal); None only while running."""
    stdout: bytes
    stderr: str
    seconds: float
    peak_rss: int
    timed_out: bool = False
    over_memory: bool = False

    @property
    def crashed(self) -> bool:
        return self.status == UNFORESEEN_ERROR_STATUS or any(
            marker in self.stderr for marker in CRASH_MARKERS
        )

    def problem(self, allowed: tuple[int, ...]) -> str:
        """Why this run counts as a crash ("" if it does not)."""
        if self.over_memory:
            return f"killed: its memory passed the cap ({self.peak_rss / 1e9:.1f} GB)"
        if any(marker in self.stderr for marker in CRASH_MARKERS):
            return f"status {self.status}, {last_line_of_traceback(self.stderr)}"
        if self.status not in allowed:
            last = self.stderr.strip().splitlines()[-1:] or [""]
            return f"status {self.status}: {last[0][:120]}"
        return ""

    def said(self, key: str) -> Any:
        """The value of `key` in the first JSON line the driver printed with it."""
        for line in self.lines():
            if key in line:
                return line[key]
        raise KeyError(f"the driver never said {key!r}: {self.stderr[-300:]}")

    def lines(self) -> list[dict]:
        """The JSON lines a driver printed."""
        found = []
        for line in self.stdout.decode(errors="replace").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found


def last_line_of_traceback(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = [text for text in lines[index:] if not text.startswith(" ")]
            return tail[-1][:120] if tail else "traceback"
    return (lines[-1] if lines else "")[:120]


class Child:
    """A started child process in its own session; `finish` watches it to the end."""

    def __init__(
        self, command: list[str], env: Env, *, stdout: int | None = None,
    ) -> None:
        # Closed in _done, once the child is reaped.
        self._out: IO[bytes] | None = (
            None if stdout is not None else tempfile.TemporaryFile()  # noqa: SIM115
        )
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command, env=env.variables(), stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else self._out, stderr=self._err,
            start_new_session=True, cwd=env.cache.parent,
        )
        self._peak = 0
        self._watched: psutil.Process | None
        try:
            self._watched = psutil.Process(self.process.pid)
        except psutil.Error:
            self._watched = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def tree_rss(self) -> int:
        if self._watched is None:
            return 0
        total = 0
        try:
            for process in [self._watched, *self._watched.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
        except psutil.Error:
            return 0
        self._peak = max(self._peak, total)
        return total

    def kill(self, signum: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def poll(self) -> Run | None:
        """The finished run, or None while it still runs (reaps it when done)."""
        pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        if not pid:
            self.tree_rss()
            return None
        return self._done(status, usage)

    def finish(self, timeout: float, memory_cap: int = MEMORY_CAP_BYTES) -> Run:
        timed_out = over_memory = False
        while True:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                break
            if self.tree_rss() > memory_cap and not over_memory:
                over_memory = True
                self.kill()
            elif time.monotonic() - self.started > timeout and not timed_out:
                timed_out = True
                self.kill()
            time.sleep(0.02)
        run = self._done(status, usage)
        run.timed_out, run.over_memory = timed_out, over_memory
        return run

    def _done(self, status: int, usage: object) -> Run:
        seconds = time.monotonic() - self.started
        self.kill()  # anything it left behind in its session
        self.process.returncode = os.waitstatus_to_exitcode(status)
        stdout = b""
        if self._out is not None:
            self._out.seek(0)
            stdout = self._out.read()
            self._out.close()
        self._err.seek(0)
        stderr = self._err.read().decode(errors="replace")
        self._err.close()
        peak = max(self._peak, getattr(usage, "ru_maxrss", 0) * 1024)
        return Run(self.process.returncode, stdout, stderr, seconds, peak)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "dedup_gui.cli", *args]


def run_cli(
    env: Env, *args: str, timeout: float = 120, memory_cap: int = MEMORY_CAP_BYTES
) -> Run:
    return Child(cli(*args), env).finish(timeout, memory_cap)


def driver(sandbox: Sandbox, *args: str) -> list[str]:
    return [sys.executable, str(sandbox.driver), *args]


@dataclass
class CaseResult:
    name: str
    tries: int = 0
    lost: int = 0
    crashes: int = 0
    hangs: int = 0
    wrong: int = 0
    """Ran to the end without crashing but gave a wrong answer, or missed its target."""
    peak_rss: int = 0
    notes: list[str] = field(default_factory=list)
    measured: str = ""
    """The figure this case measures, shown in the table (e.g. "12.0 s vs 3.1 s")."""

    @property
    def verdict(self) -> str:
        if self.lost:
            return "LOST"
        if self.crashes or self.hangs or self.wrong:
            return "FAIL"
        return "ok" if self.tries else "n/a"

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < 4:
            self.notes.append(text)

    def saw(self, run: Run) -> None:
        self.peak_rss = max(self.peak_rss, run.peak_rss)

    def check(self, run: Run, allowed: tuple[int, ...], what: str = "") -> bool:
        """Count a hang or crash of `run`; True when it ran to an allowed status."""
        self.saw(run)
        prefix = f"{what}: " if what else ""
        if run.timed_out:
            self.hangs += 1
            self.note(f"{prefix}no end after {run.seconds:.0f} s")
            return False
        problem = run.problem(allowed)
        if problem:
            self.crashes += 1
            self.note(prefix + problem)
            return False
        return True


def wait_for_output(child: Child, marker: bytes, timeout: float) -> bool:
    """Whether `child` printed `marker` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    stream = child._out
    while time.monotonic() < deadline:
        if stream is not None:
            stream.seek(0)
            if marker in stream.read():
                return True
        time.sleep(0.001)
    return False
