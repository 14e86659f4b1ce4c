"""mkdocs hooks of the wskit site, listed under `hooks:` in mkdocs.yml.

`nox -s conformance` and `nox -s bench` write their summaries to docs/_generated/.
The pages that show them include them with a line of the form
``--8<-- "docs/_generated/NAME.md"``; this hook replaces that line with the file's text.
The including page has its own title, so the file's leading level-1 title is dropped
when it only repeats the page's title, and otherwise kept as a bold line (it may carry
the date of the run). A missing file fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_INCLUDE = re.compile(r'^--8<-- "(docs/_generated/[A-Za-z0-9_.-]+\.md)"[ \t]*$', re.MULTILINE)
_TITLE = re.compile(r"\A\s*# ([^\n]*)\n")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    root = Path(config["config_file_path"]).parent

    def include(match: re.Match[str]) -> str:
        text = (root / match.group(1)).read_text(encoding="utf-8")
        title = _TITLE.match(text)
        if title is not None:
            heading = title.group(1).strip()
            same = heading.lower() == str(page.title or "").strip().lower()
            text = ("" if same else f"**{heading}**\n\n") + text[title.end() :]
        return text.strip() + "\n"

    return _INCLUDE.sub(include, markdown)
