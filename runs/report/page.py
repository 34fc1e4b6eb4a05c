"""The report as one self-contained HTML page and its Markdown twin (no external URL, no script)."""

from __future__ import annotations

import html

from runs.report.sections import Figure, Section
from runs.studies.table import Grid

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
figure { margin: 1rem 0; } img { max-width: 100%; image-rendering: pixelated; }
figcaption, .note { color: #555; font-size: 0.85rem; }
td.diag { font-weight: bold; }
"""


def _grid_html(grid: Grid) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in [grid.row_label, *grid.columns])
    rows = []
    for r, (label, cells) in enumerate(grid.rows):
        tds = "".join(f"<td{' class=diag' if grid.diagonal and r == k else ''}>{html.escape(c.text)}</td>"
                      for k, c in enumerate(cells))
        rows.append(f"<tr><td>{html.escape(label)}</td>{tds}</tr>")
    caption = html.escape(f"{grid.title} ({grid.unit})")
    return f"<table><caption>{caption}</caption><tr>{head}</tr>{''.join(rows)}</table>"


def _block_html(block) -> str:
    if isinstance(block, Grid):
        return _grid_html(block)
    if isinstance(block, Figure):
        return (f'<figure><img src="{html.escape(block.file)}" alt="{html.escape(block.caption)}">'
                f"<figcaption>{html.escape(block.caption)}</figcaption></figure>")
    return f'<p class="note">{html.escape(str(block))}</p>'


def to_html(title: str, intro: list[str], studies: list[tuple[str, list[Section]]]) -> str:
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    parts += [f'<p class="note">{html.escape(line)}</p>' for line in intro]
    for heading, sections in studies:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        for section in sections:
            parts.append(f"<h3>{html.escape(section.title)}</h3>")
            parts += [_block_html(block) for block in section.blocks]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _block_markdown(block) -> str:
    if isinstance(block, Grid):
        return block.to_markdown()
    if isinstance(block, Figure):
        return f"![{block.caption}]({block.file})\n\n*{block.caption}*"
    return str(block)


def to_markdown(title: str, intro: list[str], studies: list[tuple[str, list[Section]]]) -> str:
    parts = [f"# {title}", "", *intro, ""]
    for heading, sections in studies:
        parts += [f"## {heading}", ""]
        for section in sections:
            parts += [f"### {section.title}", ""]
            for block in section.blocks:
                parts += [_block_markdown(block), ""]
    return "\n".join(parts).rstrip() + "\n"
