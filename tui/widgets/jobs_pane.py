"""A filterable, sortable job table with a line about the highlighted job (queue and history panes).

The list is a window read from the store (`tui.job_window`): at most a few
hundred rows, however long the history and the queue. Live updates are
incremental: rows whose status or priority did not change are repainted in
place; the window is read again only when the order can have changed.
"""

from __future__ import annotations

import sqlite3

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui import job_rows
from runs.db import StoreError
from runs.records import Job
from tui import job_window
from tui.jobquery import SORT_CYCLE, VOLATILE_SORTS, Query, arrange, next_status, with_status
from tui.live import Changes, Live
from tui.widgets.filter_bar import FilterBar
from tui.widgets.job_table import JobTable


class JobsPane(Vertical):
    DEFAULT_CSS = """
    JobsPane { height: 1fr; }
    JobsPane > #job-note { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, live: Live, *, query: str = "", sort: str = "queue", reverse: bool = False,
                 marks: bool = False, empty: str = "no jobs", base_query: str = "", id: str | None = None):
        super().__init__(id=id)
        self.live = live
        self.query_text, self.sort, self.reverse = query, sort, reverse
        self.marks = marks
        self.empty = empty              # said when there is nothing to list at all
        self.base_query = base_query    # the pane's own filter (history: finished runs), not the person's
        self._query = Query.parse(query)
        self._spec_for: frozenset | None = None
        self._spec_column = job_rows.SpecColumn()
        self.shown: dict[int, Job] = {}     # the window's jobs, by id
        self.window = job_window.Window([], 0)

    def compose(self) -> ComposeResult:
        yield FilterBar(self.query_text)
        yield JobTable(marks=self.marks, empty=self.empty)
        yield Static(id="job-note")

    @property
    def table(self) -> JobTable:
        return self.query_one(JobTable)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        self.filter_bar.set_sort(self.sort, self.reverse)
        self.table.set_sort(self.sort, self.reverse)
        self.rearrange()

    # -- live ------------------------------------------------------------------
    def apply(self, changes: Changes | None) -> None:
        table = self.table
        table.set_engine_running(self.live.engine_running)
        if changes is None or changes.moved or changes.engine:
            self.rearrange()
            return
        touched = changes.jobs & set(self.shown)
        if not touched:
            return
        moved = False
        for job_id in touched:
            fresh = self.live.jobs.get(job_id)
            if fresh is not None:
                old = self.shown[job_id]
                moved = moved or (old.status, old.priority) != (fresh.status, fresh.priority)
                self.shown[job_id] = fresh
        if moved:  # a listed job changed its place (whatever the look said): the window is read again
            self.rearrange()
        elif self.sort in VOLATILE_SORTS or any(not self._query.matches(self.shown[i]) for i in touched):
            self._show(self._ordered(self.window.jobs))  # same window: a new order, or a row that left the filter
        else:
            table.refresh_jobs(touched)

    def _ordered(self, jobs: list[Job]) -> list[Job]:
        return arrange((self.shown[j.id] for j in jobs), self._query, self.sort, self.reverse)

    def rearrange(self, keep: int | None = None) -> None:
        try:
            self.window = job_window.read(self.live.store, self._query, self.sort, self.reverse)
        except (StoreError, sqlite3.Error, OSError) as exc:  # the app says what is wrong with the store
            self.live.error = self.live.error or str(exc)
            self.window = job_window.Window([], 0)
        self.live.remember(self.window.jobs)
        self._show(self.window.jobs, keep)

    def _show(self, jobs: list[Job], keep: int | None = None) -> None:
        self.shown = {j.id: j for j in jobs}
        ids = [j.id for j in jobs]
        self.table.set_engine_running(self.live.engine_running)
        spec = self._spec_of(ids)
        self.table.set_rows(ids, self.shown, keep=keep, spec_column=spec, empty=self._empty_text(ids))
        self.filter_bar.set_counts(len(ids), sum(self.live.counts().values()), self._more())
        self.filter_bar.set_shared(spec.shared())

    def _more(self) -> str:
        """What a window that holds only part of the matches says instead of its counts ("" otherwise)."""
        w, shown = self.window, len(self.window.jobs)
        if w.searched is not None:
            return f"{shown:,} found in the newest {w.searched:,}"
        if w.matching is not None and w.matching <= shown:
            return ""
        of = f"{w.matching:,}" if w.matching is not None else "more"
        return f"newest {shown:,} of {of}, sorted" if w.sorted_newest else f"first {shown:,} of {of}"

    def _spec_of(self, ids: list[int]) -> job_rows.SpecColumn:
        """What tells the listed jobs apart; recomputed only when the set of listed jobs changed."""
        key = frozenset(ids)
        if key != self._spec_for:
            self._spec_for = key
            self._spec_column = job_rows.SpecColumn.of(self.shown[i] for i in ids)
        return self._spec_column

    def _empty_text(self, ids: list[int]) -> str:
        """Why the list is empty: nothing at all yet, or a filter that matches nothing (and how to clear it)."""
        if ids:
            return self.empty
        base = self.base_query.split()
        own = " ".join(t for t in self.query_text.split() if t not in base)
        if own:
            return f"no jobs match `{own}` (Esc clears the filter)"
        return self.empty

    # -- filter and sort -----------------------------------------------------------
    def set_query(self, text: str) -> None:
        self.query_text = text
        self._query = Query.parse(text)
        self.filter_bar.set_text(text)
        self.rearrange()

    def cycle_status(self) -> str:
        status = next_status(self.query_text)
        self.set_query(with_status(self.query_text, status))
        return status

    def cycle_sort(self) -> None:
        i = SORT_CYCLE.index(self.sort) if self.sort in SORT_CYCLE else -1
        self.set_sort(SORT_CYCLE[(i + 1) % len(SORT_CYCLE)], self.reverse)

    def set_sort(self, sort: str, reverse: bool) -> None:
        self.sort, self.reverse = sort, reverse
        self.filter_bar.set_sort(sort, reverse)
        self.table.set_sort(sort, reverse)
        self.rearrange()

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        event.stop()
        self.query_text = event.text
        self._query = Query.parse(event.text)
        self.rearrange()

    def on_filter_bar_done(self, event: FilterBar.Done) -> None:
        event.stop()
        self.table.focus()

    def on_job_table_sort_clicked(self, event: JobTable.SortClicked) -> None:
        event.stop()
        self.set_sort(event.sort, not self.reverse if event.sort == self.sort else False)

    def on_job_table_highlighted(self, event: JobTable.Highlighted) -> None:
        job = self.shown.get(event.job_id) if event.job_id is not None else None
        note = self.query_one("#job-note", Static)
        if job is None:
            self._note(note, Text(""))
            return
        # the whole reason first (the row has only room for its short form), then the whole spec
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"#{job.id} ", style="bold")
        why = job_rows.note_text(job, self.live.engine_running)
        if why.plain:
            line.append_text(why)
            line.append(" · ")
        line.append(f"{job.kind} {job.short_spec()}")
        if job.study:
            line.append(f" · study {job.study}", style="dim")
        self._note(note, line)

    def _note(self, note: Static, line: Text) -> None:
        if line != getattr(self, "_last_note", None):
            self._last_note = line
            note.update(line, layout=False)  # one line, always: no layout pass
