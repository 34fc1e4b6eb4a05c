"""The dashboard's entries in the command palette (ctrl+p): panes, submit forms, jobs by id or spec, and
every key the footer of the current view offers (`FooterCommands`), so nothing needs remembering."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from runs.records import STATUSES

PANES = (("queue", "Go to the queue"), ("devices", "Go to the devices"), ("studies", "Go to the studies"),
         ("history", "Go to history and compare"))
MAX_JOB_HITS = 20
PALETTE_JOBS = 2000  # the newest jobs the palette searches by text (an id finds any job)
EXACT_JOB_SCORE = 1000.0  # above any fuzzy-match score (those grow with the match's length)


class LabCommands(Provider):
    """Built when the palette opens: its commands then, and the newest jobs once the first text is typed
    (not again on every key)."""

    async def startup(self) -> None:
        self.commands = self._commands()
        self.recent = None

    def _recent_jobs(self) -> list:
        if self.recent is None:
            self.recent = self.app.live.store.window(STATUSES, "newest", limit=PALETTE_JOBS)
        return self.recent

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        out: list[tuple[str, object, str]] = [(title, partial(app.switch_mode, mode), f"key {i}")
                                              for i, (mode, title) in enumerate(PANES, 1)]
        out.append(("Submit a job…", app.action_submit, "the form for any job kind or study (n)"))
        from jobs.kinds import KINDS

        for name, kind in KINDS.items():
            out.append((f"Submit a {name} job…", partial(app.action_submit, f"kind:{name}"), kind.summary))
        from tui.presets import presets

        for preset in presets():
            out.append((f"Submit study: {preset.title}…", partial(app.action_submit, f"study:{preset.type}"),
                        preset.summary))
        out.append(("Start the engine", app.action_start_engine, "if none runs for this data folder (E)"))
        from runs import sweeps
        from tui.screens.sweep import open_sweep, sweep_groups

        for group, options in sweep_groups(app.store):
            out.append((f"Open sweep {sweeps.number(group)}", partial(open_sweep, app, group),
                        f"{options.get('kind', '-')} over {', '.join(options.get('swept', [])) or '-'}"))
        return out

    async def discover(self) -> Hits:
        for title, command, help_ in self.commands:
            yield DiscoveryHit(title, command, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        text = query.strip().lstrip("#").lower()
        live = getattr(self.app, "live", None)
        exact = live.job(int(text)) if live is not None and text.isdigit() else None
        if exact is not None:  # on top: a number typed into the palette means a job id, not "Study 4"
            yield Hit(EXACT_JOB_SCORE, self._title(exact), partial(self.app.open_job, exact.id),
                      help=exact.study or None)
        for title, command, help_ in self.commands:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_)
        if live is None or not text:
            return
        found = 0
        for job in self._recent_jobs():
            if exact is not None and job.id == exact.id:
                continue
            title = self._title(job)
            if text in title.lower():
                yield Hit(min(0.9, max(0.1, matcher.match(title))), title, partial(self.app.open_job, job.id),
                          help=job.study or None)
                found += 1
                if found >= MAX_JOB_HITS:
                    return

    @staticmethod
    def _title(job) -> str:
        return f"Open job {job.id}: {job.kind} {job.short_spec()} ({job.status})"


def footer_entries(screen) -> list[tuple[str, str, object, str]]:
    """(title, key, node, action) for every key the screen's footer shows now (what works here)."""
    from textual.actions import parse

    from tui.screens.help import key_name

    out, seen = [], set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.show or not active.enabled or binding.action in seen:
            continue
        _, name, params = parse(binding.action)
        if not active.node.check_action(name, params):
            continue
        seen.add(binding.action)
        what = binding.tooltip or binding.description
        out.append((f"{what[:1].upper()}{what[1:]}", key_name(binding.key), active.node, binding.action))
    return out


class FooterCommands(Provider):
    """The footer's keys of the view the palette was opened from, as commands."""

    def _entries(self):
        return footer_entries(self.screen)

    def _run(self, node, action: str):
        return partial(self.app.call_later, self.app.run_action, action, node)

    async def discover(self) -> Hits:
        for title, key, node, action in self._entries():
            yield DiscoveryHit(f"{title}", self._run(node, action), help=f"key {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, key, node, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._run(node, action), help=f"key {key}")
