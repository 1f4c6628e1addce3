"""Human-readable numbers for labels: byte sizes, durations, rates, timestamps."""

from __future__ import annotations

from datetime import datetime

_UNITS = ("B", "KB", "MB", "GB", "TB")


def format_bytes(size: int | float) -> str:
    """Decimal units, like file managers on Linux and macOS: 1,500,000 -> "1.5 MB"."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} {_UNITS[-1]}"


def format_duration(seconds: float) -> str:
    """Short and coarse, for "time left": "45 s", "3 min 20 s", "1 h 05 min"."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_count(count: int, singular: str, plural: str | None = None) -> str:
    word = singular if count == 1 else (plural or singular + "s")
    return f"{count:,} {word}"


def format_mtime(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def format_capture_time(capture_time: str | None) -> str:
    return capture_time.replace("T", " ") if capture_time else "—"


def format_percent(similarity: float) -> str:
    return f"{similarity:.0f}%"


def format_dimensions(width: int, height: int) -> str:
    return f"{width}\N{MULTIPLICATION SIGN}{height}"
