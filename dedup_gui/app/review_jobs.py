"""The jobs of review decisions: keep chosen files apart as "not duplicates" (a new index
without a pair search), and choose the keepers of a rule chain in many groups."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from dedup_gui.app.decisions import Decisions, apart_rows
from dedup_gui.core.decisions.apply_rules import ReviewColumns, apply_chain
from dedup_gui.core.decisions.ignore_list import NotComparableError
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import ChainRule
from dedup_gui.core.models import DuplicateGroup, ImageRecord


class ApartJob(QObject):
    """Save "not duplicates" for every pair of `chosen` (reading their digests) and split
    them in `index` without a new pair search (`SimilarityIndex.with_apart`). The caller
    lets no other thread use the index until this job reports."""

    noted = Signal(str)
    """What was done, for the status bar; before `finished`."""
    finished = Signal(object, object)
    """(None, the new SimilarityIndex), like ScanJob's"""
    failed = Signal(str)

    def __init__(
        self, decisions: Decisions, index: SimilarityIndex, chosen: Sequence[ImageRecord]
    ) -> None:
        super().__init__()
        self._decisions = decisions
        self._index = index
        self._chosen = list(chosen)

    def cancel(self) -> None:
        """Short: it runs to the end (the entry is saved either way)."""

    @Slot()
    def run(self) -> None:
        try:
            digested, _added = self._decisions.keep_apart(self._chosen)
            records = self._decisions.with_known_digests(self._index.records)
            index = self._index.with_apart(*apart_rows(records, digested))
        except NotComparableError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        saved = "" if self._decisions.available else " (for this session only: not saved)"
        self.noted.emit(
            f"Kept {len(digested)} files apart as not duplicates{saved}. Edit → Not "
            "Duplicates List… undoes it."
        )
        self.finished.emit(None, index)


class ApplyRulesJob(QObject):
    """Choose the keepers of a rule chain in many groups. The arrays take a moment to lay
    out at 100k files, and the ORIGINAL rule compares every group's thumbnails once."""

    finished = Signal(object, object)
    """(ChainMarks, ReviewColumns they index)"""
    failed = Signal(str)

    def __init__(
        self,
        source: ReviewColumns | Sequence[DuplicateGroup],
        rules: Sequence[ChainRule],
        positions: Sequence[int] | None,
    ) -> None:
        super().__init__()
        self._source = source
        self._rules = tuple(rules)
        self._positions = None if positions is None else list(positions)

    def cancel(self) -> None:
        """Short; a result nobody wants any more is dropped."""

    @Slot()
    def run(self) -> None:
        try:
            source = self._source
            columns = source if isinstance(source, ReviewColumns) else ReviewColumns.of(source)
            chosen = apply_chain(columns, self._rules, self._positions)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(chosen, columns)
