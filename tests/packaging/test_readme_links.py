"""The README is the package's long description: on PyPI a relative link leads nowhere, so
every link is absolute or an anchor, and every link into this repository names a path that
exists here."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
REPOSITORY = "https://github.com/dlqctl/dlqctl"
LINK = re.compile(r"\]\(([^)\s]+)\)")
INTO_REPO = re.compile(re.escape(REPOSITORY) + r"/(blob|tree)/main/([^#]+)(#.*)?$")


def test_no_relative_links() -> None:
    relative = [
        link for link in LINK.findall(README) if not link.startswith(("https://", "http://", "#"))
    ]
    assert relative == []


def test_links_into_the_repository_name_real_paths() -> None:
    links = [link for link in LINK.findall(README) if link.startswith(REPOSITORY + "/")]
    assert links
    for link in links:
        match = INTO_REPO.match(link)
        assert match, f"{link}: not a blob/ or tree/ link on main"
        kind, path = match.group(1), REPO_ROOT / match.group(2)
        assert path.is_file() if kind == "blob" else path.is_dir(), link
