"""The submit form: any job kind (every spec field) or a study preset, validated as you type.

The rules and messages are the CLI's own: `JobKind.field_errors` for spec
fields, the study's `Field`s for presets, `JobRequest.check` and the CLI's
list parser for placement. Submitting goes through `tui.cli.queueing.queue`
(which checks GPUs and the MNIST folder, then writes the store); the engine
is started in the background if none runs.

Enter moves to the next field (from the last, to the Submit button); only
ctrl+s or the Submit button queues. Escape asks before it throws away
edited fields. The form opens filled with the last values submitted for
that kind or study (kept in the data folder), or with a job's spec when
it clones one; ctrl+r empties every field (the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from jobs.kinds import KINDS
from jobs.schema import Field, SpecError
from runs.db import StoreError
from runs.records import DEFAULT_MAX_ATTEMPTS, InputError, Job, JobRequest
from tui import format as fmt
from tui.presets import Preset, presets
from tui.screens.confirm import Confirm


@dataclass(frozen=True)
class Extra:
    """A form field that is not part of a spec (placement, a study's group name)."""

    name: str
    help: str
    placeholder: str


PLACEMENT = (
    Extra("priority", "higher runs first; allowed: a whole number from -1000 to 1000", "0"),
    Extra("gpu", "run only on this GPU index; allowed: a GPU index >= 0", "any"),
    Extra("exclude_gpu", "never run on these GPUs; allowed: comma-separated whole numbers such as 0,2", "none"),
    Extra("after", "start only after these job ids are done; allowed: comma-separated whole numbers", "none"),
    Extra("max_attempts", "starts allowed if the engine dies under it; allowed: a whole number from 1 to 10",
          str(DEFAULT_MAX_ATTEMPTS)),
)


def default_text(field: Field, spec_so_far: dict) -> str:
    if callable(field.default):
        try:
            return f"auto: {field.default_for(spec_so_far)}"
        except Exception:  # noqa: BLE001 - depends on fields not valid yet
            return "auto"
    return field_text(field, field.default)


def field_text(field: Field, value) -> str:
    """A spec value as typed into the form (the inverse of `Field.coerce`)."""
    if field.is_list:
        return ",".join(map(str, value or []))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def form_values(job: Job) -> dict[str, str]:
    """The form's fields for a copy of `job`: the spec values that are not the defaults (so that a value
    that follows another field, such as epochs after samples, keeps following it), and its placement."""
    kind = KINDS.get(job.kind)
    values: dict[str, str] = {}
    if kind is not None:
        for f in kind.fields:
            if f.name not in job.spec:
                continue
            try:
                default = f.default_for(job.spec)
            except Exception:  # noqa: BLE001 - a default that cannot be worked out: keep the value
                default = object()
            if job.spec[f.name] != default:
                values[f.name] = field_text(f, job.spec[f.name])
    placement = job.placement or {}
    if job.priority:
        values["priority"] = str(job.priority)
    if placement.get("gpu") is not None:
        values["gpu"] = str(placement["gpu"])
    if placement.get("exclude_gpus"):
        values["exclude_gpu"] = ",".join(map(str, placement["exclude_gpus"]))
    if job.max_attempts != DEFAULT_MAX_ATTEMPTS:
        values["max_attempts"] = str(job.max_attempts)
    return values


def int_list(text: str, what: str) -> list[int]:
    from tui.cli.submit import _int_list  # the CLI's parser: the same message

    return _int_list(text, what)


def placement_request(kind: str, spec: dict, raw: dict) -> tuple[JobRequest | None, dict[str, str]]:
    """The request and every placement field's problem."""
    errors: dict[str, str] = {}

    def whole(name: str, default: int | None) -> int | None:
        text = (raw.get(name) or "").strip()
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            errors[name] = f"{name} {text!r} is not allowed; allowed: a whole number"
            return default

    priority, gpu, attempts = whole("priority", 0), whole("gpu", None), whole("max_attempts", DEFAULT_MAX_ATTEMPTS)
    lists = {}
    for name, what in (("exclude_gpu", "--exclude-gpu"), ("after", "--after")):
        try:
            lists[name] = int_list(raw.get(name) or "", what)
        except InputError as exc:
            errors[name] = str(exc)
            lists[name] = []
    request = JobRequest(kind, spec, priority=priority, gpu=gpu, exclude_gpus=lists["exclude_gpu"],
                         max_attempts=attempts, depends_on=lists["after"])
    try:
        request.check()
    except InputError as exc:
        text = str(exc)
        field = next((f for f in ("priority", "max_attempts", "gpu") if text.startswith(f)), "gpu")
        errors.setdefault(field, text)
    return (None if errors else request), errors


class FieldRow(Vertical):
    DEFAULT_CSS = """
    FieldRow { height: auto; }
    FieldRow > Horizontal { height: 1; }
    FieldRow Label { width: 14; color: $text-muted; }
    FieldRow Input { width: 1fr; }
    FieldRow > .field-error { color: $error; display: none; padding-left: 14; }
    FieldRow.invalid > .field-error { display: block; }
    FieldRow.invalid Label { color: $error; text-style: bold; }
    """

    def __init__(self, name: str, help_: str, placeholder: str, value: str = ""):
        super().__init__(id=f"row-{name}")
        self.field_name, self.help, self.placeholder, self.value = name, help_, placeholder, value

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.field_name)
            yield FieldInput(self.value, placeholder=self.placeholder, compact=True, id=f"field-{self.field_name}")
        yield Static(classes="field-error")

    def show_error(self, message: str | None) -> None:
        self.set_class(bool(message), "invalid")
        self.query_one(".field-error", Static).update(Text(message or ""))


class FieldInput(Input):
    """A form field: Enter goes to the next field, it never submits."""

    BINDINGS = [Binding("enter", "screen.next_field", "next field", show=False)]


class SubmitScreen(ModalScreen[list[int] | None]):
    DEFAULT_CSS = """
    SubmitScreen { align: center middle; }
    SubmitScreen > #form { width: 96%; max-width: 110; height: 96%; max-height: 40; border: round $primary;
                           background: $surface; padding: 0 1; }
    SubmitScreen #choice { margin-bottom: 0; }
    SubmitScreen #fields { height: 1fr; }
    SubmitScreen #hint { height: 2; color: $text-muted; }
    SubmitScreen #plan { height: 1; }
    SubmitScreen #problem { height: auto; max-height: 3; color: $error; }
    SubmitScreen #buttons { height: 1; align-horizontal: right; }
    SubmitScreen #buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("ctrl+s", "submit", "submit"),
        Binding("ctrl+r", "defaults", "defaults", tooltip="empty every field: the defaults"),
        # Priority: move focus before the keys that follow are delivered (fast typing over SSH arrives
        # in one burst; without this, "1<tab>256" would all land in the first field).
        Binding("tab", "app.focus_next", "next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "previous field", show=False, priority=True),
    ]

    def __init__(self, live, choice: str | None = None, values: dict[str, str] | None = None,
                 source: str | None = None):
        super().__init__()
        self.live = live
        self.presets = {p.type: p for p in presets()}
        self.choices = [(f"{name} job", f"kind:{name}") for name in KINDS]
        self.choices += [(f"study {p.type}: {p.title.split(':', 1)[-1].strip()}", f"study:{p.type}")
                         for p in self.presets.values()]
        choices = [v for _, v in self.choices]
        self.choice = choice if choice in choices else choices[0]
        self._errors: dict[str, str] = {}
        self._given = (values, source) if values is not None else None  # a clone's values, for its kind
        self._initial: dict[str, str] = {}  # what the fields opened with: edited means different from it

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(Text("Submit", style="bold"), id="title")
            yield Select(self.choices, value=self.choice, allow_blank=False, compact=True, id="choice")
            yield Static(id="what")
            yield VerticalScroll(id="fields")
            yield Static(id="hint")
            yield Static(id="plan")
            yield Static(id="problem")
            with Horizontal(id="buttons"):
                yield Button("Submit (ctrl+s)", id="submit", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    async def on_mount(self) -> None:
        await self._build()

    # -- the fields of the chosen kind or study ---------------------------------------
    @property
    def kind(self):
        return KINDS[self.choice.split(":", 1)[1]] if self.choice.startswith("kind:") else None

    @property
    def preset(self) -> Preset | None:
        return self.presets.get(self.choice.split(":", 1)[1]) if self.choice.startswith("study:") else None

    def _prefill(self) -> tuple[dict[str, str], str | None]:
        """The values the fields open with, and where they come from."""
        if self._given is not None:
            values, source = self._given
            self._given = None
            return values, source
        remembered = self.app.ui_state.form_values(self.choice)
        return remembered, ("your last values" if remembered else None)

    def _rows(self, values: dict[str, str]) -> list[FieldRow]:
        what = self.kind.summary if self.kind is not None else self.preset.summary
        self.query_one("#what", Static).update(Text(what, style="dim"))
        if self.kind is not None:
            rows = [FieldRow(f.name, f"{f.help}. Allowed: {f.allowed()}", default_text(f, {}),
                             values.get(f.name, "")) for f in self.kind.fields]
            return rows + [FieldRow(e.name, e.help, e.placeholder, values.get(e.name, "")) for e in PLACEMENT]
        preset = self.preset
        rows = [FieldRow("name", "group name; reusing a name adds runs to that group (e.g. more seeds)", preset.type,
                         values.get("name", ""))]
        rows += [FieldRow(f.name, f"{f.help}. Allowed: {f.allowed()}", default_text(f, {}), values.get(f.name, ""))
                 for f in (*preset.options, *preset.overrides)]
        return rows

    async def _build(self) -> None:
        values, source = self._prefill()
        title = Text("Submit", style="bold")
        if source:
            title.append(f"  filled with {source} (ctrl+r: the defaults)", style="dim")
        self.query_one("#title", Static).update(title)
        box = self.query_one("#fields", VerticalScroll)
        await box.remove_children()
        await box.mount_all(self._rows(values))
        self._initial = self.raw()
        self.validate()
        inputs = list(self.query("#fields Input"))
        if inputs:
            self.set_focus(inputs[0])  # now: the keys typed right after `n` go into it

    def on_key(self, event) -> None:
        """Keys typed in the same burst as the `n` that opened the form reach the form before its first
        field exists; once it has the focus, they are typed into it (not lost)."""
        focused = self.focused
        if isinstance(focused, Input) and event.is_printable and event.character:
            event.stop()
            focused.insert_text_at_cursor(event.character)

    async def on_select_changed(self, event: Select.Changed) -> None:
        if event.value != self.choice and isinstance(event.value, str):
            self.choice = event.value
            await self._build()

    def raw(self) -> dict[str, str]:
        return {inp.id.removeprefix("field-"): inp.value for inp in self.query("#fields Input")}

    # -- validation as you type ------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        self.validate()

    def on_descendant_focus(self, event) -> None:
        widget = event.widget
        if isinstance(widget, Input) and widget.id and widget.id.startswith("field-"):
            row = self.query_one(f"#row-{widget.id.removeprefix('field-')}", FieldRow)
            self.query_one("#hint", Static).update(Text(row.help, style="dim"))

    def validate(self) -> dict[str, str]:
        raw = self.raw()
        errors: dict[str, str] = {}
        summary = ""
        try:
            if self.kind is not None:
                kind = self.kind
                spec_raw = {f.name: raw.get(f.name, "") for f in kind.fields}
                errors = kind.field_errors(spec_raw)
                spec = {}
                for f in kind.fields:  # placeholders follow the fields they depend on
                    try:
                        value = spec_raw[f.name]
                        spec[f.name] = f.coerce(kind.name, value) if value.strip() else f.default_for(spec)
                    except Exception:  # noqa: BLE001
                        spec[f.name] = None
                    if callable(f.default):
                        self.query_one(f"#field-{f.name}", Input).placeholder = default_text(f, spec)
                _, placement_errors = placement_request(kind.name, spec_raw, raw)
                errors.update(placement_errors)
                if not errors:
                    full = kind.validate({k: v for k, v in spec_raw.items() if v.strip()})
                    shown = " ".join(f"{k}={v}" for k, v in full.items()
                                     if k in ("net", "samples", "epochs", "transform", "arch", "seed"))
                    summary = f"will queue 1 {kind.name} job: {shown or 'defaults'}"
            else:
                preset = self.preset
                errors = preset.field_errors(raw)
                if not errors:
                    options, overrides = preset.options_from(raw)
                    requests = preset.plan(options, overrides, self.live.store)
                    name = (raw.get("name") or "").strip() or preset.type
                    summary = f"will queue {fmt.plural(len(requests), 'job')} as study '{name}'"
        except (SpecError, InputError) as exc:
            errors.setdefault("_", str(exc))
        except Exception as exc:  # noqa: BLE001 - a study's own plan() failing must not close the form
            errors.setdefault("_", f"{type(exc).__name__}: {exc}")
        for row in self.query(FieldRow):
            row.show_error(errors.get(row.field_name))
        self.query_one("#problem", Static).update(Text(errors.get("_", "")))
        self.query_one("#plan", Static).update(
            Text(summary, style="green") if not errors else Text(f"{fmt.plural(len(errors), 'problem')} to fix",
                                                                 style="red"))
        self.query_one("#submit", Button).disabled = bool(errors)
        self._errors = errors
        return errors

    # -- moving, leaving ------------------------------------------------------------------
    def action_next_field(self) -> None:
        """Enter in a field: the next field; from the last one, the Submit button (Enter there submits)."""
        inputs = list(self.query("#fields Input"))
        here = self.focused
        if here in inputs and here is not inputs[-1]:
            self.set_focus(inputs[inputs.index(here) + 1])
        else:
            self.set_focus(self.query_one("#submit", Button))

    def edited(self) -> list[str]:
        """The fields changed since the form opened."""
        return [name for name, value in self.raw().items() if value != self._initial.get(name, "")]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_close()

    def action_close(self) -> None:
        edited = self.edited()
        if not edited:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(Confirm(f"Throw away what you typed ({fmt.plural(len(edited), 'edited field')}: "
                                     f"{', '.join(edited)})?", yes="Discard", no="Keep editing"), answered)

    def action_defaults(self) -> None:
        for inp in self.query("#fields Input"):
            inp.value = ""
        self.query_one("#title", Static).update(Text("Submit", style="bold"))

    def action_submit(self) -> None:
        from tui.cli.queueing import queue

        if self.validate():
            self.notify("fix the fields marked in red first", severity="warning", timeout=3)
            return
        raw = self.raw()
        try:
            if self.kind is not None:
                kind = self.kind
                spec = {f.name: raw[f.name] for f in kind.fields if raw.get(f.name, "").strip()}
                request, _ = placement_request(kind.name, spec, raw)
                ids = queue([request], start_engine=False)
                what = f"queued job {ids[0]}: {kind.name}"
            else:
                preset = self.preset
                options, overrides = preset.options_from(raw)
                requests = preset.plan(options, overrides, self.live.store)
                name = (raw.get("name") or "").strip() or preset.type
                ids = queue(requests, study=(name, preset.type, {**options, **overrides}), start_engine=False)
                what = f"study '{name}': {fmt.plural(len(ids), 'job')} queued (jobs {ids[0]}-{ids[-1]})"
        except (SpecError, InputError, StoreError) as exc:
            self.query_one("#problem", Static).update(Text(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - say it, keep the form open
            self.query_one("#problem", Static).update(Text(f"{type(exc).__name__}: {exc}"))
            return
        # the next form for this kind opens with these values (not the dependencies: they were for this job)
        self.app.ui_state.remember_form(self.choice, {k: v for k, v in raw.items() if k != "after"})
        self.app.notify(what, timeout=4)
        self.app.ensure_engine()
        self.dismiss(ids)
