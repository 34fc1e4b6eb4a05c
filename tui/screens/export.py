"""Export jobs (or a study's table) to CSV, JSON or Markdown: the same files `mnistlab export` writes.

Export is the default: Enter in the path writes, and Tab from the path
lands on the Export button (Cancel comes after it). The file is written
atomically; the notification says where it went and how big it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from tui import format as fmt
from jobs.atomic import write_private_file

FORMATS = ("csv", "json", "md")


def jobs_text(store, ids: list[int], format_: str) -> str:
    from tui.cli.export import record_markdown, records_csv

    records = [store.record(i) for i in ids]
    if format_ == "json":
        return json.dumps(records[0] if len(records) == 1 else records, indent=2, sort_keys=True, default=str)
    if format_ == "md":
        return "\n".join(record_markdown(r) for r in records)
    return records_csv(records)


def study_text(store, name: str, format_: str) -> str:
    return store.study_view(name).export(format_)


def default_name(ids: list[int] | None, study: str | None, format_: str) -> str:
    if study:
        return f"mnistlab-study-{study}.{format_}"
    ids = ids or []
    what = str(ids[0]) if len(ids) == 1 else f"{len(ids)}-jobs-{ids[0]}-{ids[-1]}" if ids else "jobs"
    return f"mnistlab-job-{what}.{format_}" if len(ids) == 1 else f"mnistlab-{what}.{format_}"


class ExportScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 80%; max-width: 90; min-width: 50; height: auto; border: round $primary;
                              background: $surface; padding: 0 1; }
    ExportScreen RadioSet { layout: horizontal; height: auto; border: none; }
    ExportScreen #export-problem { color: $error; height: auto; }
    ExportScreen #export-buttons { height: 1; align-horizontal: right; margin-top: 1; }
    ExportScreen #export-buttons Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "close"), Binding("ctrl+s", "write", "write")]

    def __init__(self, ids: list[int] | None = None, study: str | None = None, format_: str = "csv"):
        super().__init__()
        self.ids, self.study, self.format = ids, study, format_
        self._auto_name = True

    def compose(self) -> ComposeResult:
        what = f"study '{self.study}'" if self.study else (
            f"job {self.ids[0]}" if len(self.ids) == 1 else f"{fmt.plural(len(self.ids), 'job')} "
            f"({', '.join(map(str, self.ids[:8]))}" + ("…" if len(self.ids) > 8 else "") + ")")
        with Vertical():
            yield Static(Text(f"Export {what}", style="bold"))
            with RadioSet(id="export-format"):
                for f in FORMATS:
                    yield RadioButton({"csv": "CSV", "json": "JSON", "md": "Markdown"}[f], value=f == self.format,
                                      id=f"format-{f}")
            yield Input(str(Path.cwd() / default_name(self.ids, self.study, self.format)), id="export-path")
            yield Static(id="export-problem")
            with Horizontal(id="export-buttons"):
                yield Button("Export (enter)", id="export-write", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="export-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.format = event.pressed.id.removeprefix("format-")
        box = self.query_one("#export-path", Input)
        path = Path(box.value)
        if path.suffix.lstrip(".") in FORMATS:
            box.value = str(path.with_suffix("." + self.format))
        box.focus()  # Enter now writes

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_write()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export-write":
            self.action_write()
        else:
            self.dismiss(None)

    def action_write(self) -> None:
        path = Path(self.query_one("#export-path", Input).value.strip()).expanduser()
        problem = self.query_one("#export-problem", Static)
        try:
            if self.study:
                text = study_text(self.app.store, self.study, self.format)
            else:
                text = jobs_text(self.app.store, self.ids, self.format)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_private_file(path, text if text.endswith("\n") else text + "\n")
        except Exception as exc:  # noqa: BLE001 - say what went wrong, keep the dialog
            problem.update(Text(f"cannot write {path}: {exc}"))
            return
        self.app.notify(f"wrote {path} ({fmt.plural(path.stat().st_size, 'byte')})", title="exported", timeout=6,
                        markup=False)
        self.dismiss(str(path))
