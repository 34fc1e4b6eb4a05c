"""What the dashboard remembers between sessions, in `dashboard.json` in the data folder.

The view a person left (pane, open job, chosen study), so that reconnecting
after a dropped SSH session opens it again, and the last values typed into
the submit form, per job kind or study. Written atomically and private
(0600); a missing, damaged or unreadable file is an empty memory, never an
error, and a write that fails (a read-only folder) is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from jobs.atomic import write_private_file

FILE = "dashboard.json"
PANES = ("queue", "devices", "studies", "history")


class UiState:
    def __init__(self, root: str | Path):
        self.path = Path(root) / FILE
        self.data = self._read()

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self) -> None:
        try:
            write_private_file(self.path, json.dumps(self.data, indent=1, sort_keys=True))
        except OSError:
            pass  # a folder we cannot write to: the dashboard simply forgets

    # -- the view left -------------------------------------------------------------
    def view(self) -> dict:
        """{'pane': ..., 'job': id or None, 'study': name or None}, each checked (a bad value is dropped)."""
        raw = self.data.get("view")
        raw = raw if isinstance(raw, dict) else {}
        pane = raw.get("pane") if raw.get("pane") in PANES else "queue"
        job = raw.get("job") if isinstance(raw.get("job"), int) and not isinstance(raw.get("job"), bool) else None
        study = raw.get("study") if isinstance(raw.get("study"), str) else None
        return {"pane": pane, "job": job, "study": study}

    def remember_view(self, **changes) -> None:
        view = {**self.view(), **changes}
        if view != self.data.get("view"):
            self.data["view"] = view
            self._write()

    # -- the submit form's last values ---------------------------------------------------
    def form_values(self, choice: str) -> dict[str, str]:
        forms = self.data.get("submit")
        values = forms.get(choice) if isinstance(forms, dict) else None
        if not isinstance(values, dict):
            return {}
        return {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, str)}

    def remember_form(self, choice: str, values: dict[str, str]) -> None:
        forms = self.data.get("submit")
        forms = forms if isinstance(forms, dict) else {}
        forms[choice] = {k: v for k, v in values.items() if v.strip()}
        self.data["submit"] = forms
        self._write()
