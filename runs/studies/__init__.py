"""Studies: named groups of jobs, planned together and summarised as one view.

Each study module has TYPE, TITLE, OPTIONS, `plan(options, ...)` and
`summarize(name, jobs) -> StudyView`; none of them imports torch.
"""

from __future__ import annotations

from types import ModuleType

from runs.studies import zoo

STUDY_TYPES: dict[str, ModuleType] = {m.TYPE: m for m in (zoo,)}
