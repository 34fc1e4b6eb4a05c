"""The jobs a list pane shows, read from the store a window at a time, never the whole table.

A pane lists at most WINDOW jobs. They are read through the store's status
indexes in the order of the pane's sort where an index keeps that order
(queue order: running, then queued as the engine takes them, then finished
newest first; id; newest), so a window costs its own rows however long the
history and the queue. A filter on spec fields or words is applied while
paging through that order: the spec's JSON is first matched in SQLite (a
LIKE that every match passes), then each row read is checked; at most SCAN
rows are read. Sorts no index keeps
(status, kind, progress, result, runtime) order the newest WINDOW matching
jobs. The counts come from the indexes too (`Store.count_by_status`).
"""

from __future__ import annotations

import heapq
import json
import itertools
from dataclasses import dataclass

from runs.records import FINISHED, STATUSES, Job
from runs.store import ORDERS, Store
from tui.jobquery import SORTS, Query

WINDOW = 500    # rows a list holds: many screens of them
PAGE = 500      # rows read at a time while a filter looks for matches
SCAN = 20_000   # rows a filter on spec fields or words looks through before it says so


@dataclass
class Window:
    jobs: list[Job]             # in the order shown
    matching: int | None        # how many jobs match in all (None: more than shown, not counted)
    searched: int | None = None  # rows a word filter looked through when it stopped early (None: all)
    sorted_newest: bool = False  # an order no index keeps: the newest matching jobs, sorted


def _segments(sort: str, statuses: list[str]) -> list[tuple[list[str], str]]:
    """(statuses, store order) read one after the other to list jobs in `sort`."""
    if sort == "queue":
        parts = [(["running"], "id"), (["queued"], "engine"), ([s for s in FINISHED], "newest")]
        return [([s for s in group if s in statuses], order) for group, order in parts
                if any(s in statuses for s in group)]
    return [(statuses, sort if sort in ("id", "newest") else "newest")]


def spec_patterns(query: Query) -> list[list[str]]:
    """LIKE patterns that every job matching the query's `field=value` terms has in its spec's JSON (more
    jobs may have them: the rows read are checked with `Query.matches`). Lists and nulls get none."""
    out = []
    for name, wanted in query.spec.items():
        if "," in wanted or wanted.lower() in ("none", "null", ""):
            continue
        key, value = _like(json.dumps(name)), _like(wanted)
        out.append([f'%{key}: {value}%', f'%{key}: "{value}"%'])
    return out


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page(store: Store, statuses: list[str], order: str, kinds: list[str] | None, studies: list[str | None],
          limit: int, after: Job | None, like: list[list[str]]) -> list[Job]:
    if len(studies) == 1:
        return store.window(statuses, order, kinds=kinds, study=studies[0], limit=limit, after=after, spec_like=like)
    ranges = [store.window(statuses, order, kinds=kinds, study=s, limit=limit, after=after, spec_like=like)
              for s in studies]
    return list(itertools.islice(heapq.merge(*ranges, key=ORDERS[order][1]), limit))


def read(store: Store, query: Query, sort: str = "queue", reverse: bool = False, limit: int = WINDOW) -> Window:
    statuses = [s for s in STATUSES if not query.statuses or s in query.statuses]
    kinds = sorted(query.kinds) or None
    studies: list[str | None] = sorted(query.studies) or [None]
    by_store_only = not query.spec and not query.words
    like = spec_patterns(query)
    found: list[Job] = []
    scanned, complete = 0, True
    for group, order in _segments(sort, statuses):
        after = None
        while len(found) <= limit:
            if not by_store_only and scanned >= SCAN:
                complete = False
                break
            asked = limit + 1 - len(found) if by_store_only else PAGE
            page = _page(store, group, order, kinds, studies, asked, after, like)
            scanned += len(page)
            found += page if by_store_only else [j for j in page if query.matches(j)]
            if len(page) < asked:
                break
            after = page[-1]
        if len(found) > limit or not complete:
            break
    more = len(found) > limit
    jobs = found[:limit]
    if by_store_only:
        matching = sum(sum(store.count_by_status(statuses, kinds=kinds, study=s).values()) for s in studies)
    else:
        matching = None if more or not complete else len(jobs)
    jobs.sort(key=SORTS[sort][1], reverse=reverse)
    return Window(jobs, matching, searched=None if complete else scanned,
                  sorted_newest=more and sort not in ("queue", "id", "newest"))
