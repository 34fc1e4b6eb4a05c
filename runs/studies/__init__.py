"""Studies: named groups of jobs, planned together and summarised as one view.

Each study is a module here with TYPE, TITLE, OPTIONS, `plan(...)` and
`summarize(name, jobs) -> StudyView`; none of them imports torch. Modules
are found by their TYPE attribute, so adding a study touches no shared file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _discover() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "TYPE") and hasattr(module, "summarize"):
            found[module.TYPE] = module
    order = ["zoo", "augment", "gan", "fgsm"]
    return dict(sorted(found.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99))


STUDY_TYPES: dict[str, ModuleType] = _discover()
