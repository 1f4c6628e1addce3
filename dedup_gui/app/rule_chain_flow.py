"""The rule chain dialog in the window: open it, apply its chain to all or the selected
groups (an ApplyRulesJob), and make it the suggested keeper when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from dedup_gui.app import dialogs
from dedup_gui.app.formatting import format_count
from dedup_gui.app.review_jobs import ApplyRulesJob
from dedup_gui.app.rule_chain_dialog import RuleChainDialog

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow


class RuleChainFlow(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.dialog: RuleChainDialog | None = None
        self._apply_job: ApplyRulesJob | None = None
        self._apply_where = ""
        self._apply_suggestion: tuple[tuple, bool] = ((), False)

    def open(self) -> None:
        window = self._window
        if self.dialog is None:
            self.dialog = RuleChainDialog(window)
            self.dialog.apply_requested.connect(self._on_rule_chain_apply)
        dialog = self.dialog
        dialog.set_chain(window.keeper_choice.chain())
        dialog.use_as_suggestion.setChecked(window.keeper_choice.uses_chain())
        dialog.show()
        dialog.raise_()

    def _on_rule_chain_apply(self, all_groups: bool) -> None:
        """Keep what the dialog's chain chooses in all or the selected groups; the chain is
        remembered, and becomes the suggested keeper when the user asked for that."""
        window = self._window
        assert self.dialog is not None
        chain = self.dialog.chain()
        use = self.dialog.use_as_suggestion.isChecked()
        window.settings.set_keeper_chain(chain)
        window.settings.set_use_keeper_chain(use)
        rows = None if all_groups else window.review_pane.selected_rows()
        if rows == []:
            window.statusBar().showMessage("Select the groups to apply the rules to first.", 5000)
            return
        if self._apply_job is None:
            positions = None if rows is None else [window.group_model.position(r) for r in rows]
            job = ApplyRulesJob(window.group_model.columns_source(), chain, positions)
            job.finished.connect(self._on_rules_applied)
            job.failed.connect(self._on_apply_failed)
            self._apply_job = job
            self._apply_where = "every group" if rows is None else format_count(len(rows), "group")
            window.statusBar().showMessage("Applying the rules…")
            window.jobs.start_thread(job, [job.finished, job.failed])
            self._apply_suggestion = (chain, use)

    def _on_rules_applied(self, chosen: object, columns: object) -> None:
        window = self._window
        self._apply_job = None
        change = window.group_model.apply_chain_marks(chosen, columns)  # type: ignore[arg-type]
        if change is None:
            window.statusBar().showMessage("The groups changed meanwhile: apply the rules again.")
            return
        window.compare_view.refresh_marks()
        window.statusBar().showMessage(
            f"Rules applied to {self._apply_where}: "
            f"{format_count(change.changed, 'mark')} changed.", 8000
        )
        # After the marks: a regroup would make them stale.
        chain, use = self._apply_suggestion
        keeper_choice = window.keeper_choice
        if use != keeper_choice.uses_chain() or (use and chain != keeper_choice.chain()):
            keeper_choice.set_chain(chain, use=use)
            if not use:
                keeper_choice.set_preferred(keeper_choice.preferred())
            window.regrouping.regroup()

    def _on_apply_failed(self, message: str) -> None:
        self._apply_job = None
        dialogs.warn(self._window, "Something went wrong", message)

