"""The documentation people read stays short where it promises to, and points only at what exists.

A guide that shows a missing picture, or a README that links to a moved page, fails here rather than in
front of a reader.
"""

import re
from pathlib import Path

from implantation.settings import PROJECT_ROOT

GUIDES = ("chef-de-projet-disp.md", "agent-dreets-ddets.md", "siae.md", "administrateur-atigip.md")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _pages() -> list[Path]:
    return [
        PROJECT_ROOT / "README.md",
        PROJECT_ROOT / "ARCHITECTURE.md",
        PROJECT_ROOT / "benchmarks" / "README.md",
        *sorted((PROJECT_ROOT / "docs").rglob("*.md")),
    ]


def test_the_readme_fits_in_300_lines() -> None:
    lines = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300


def test_every_role_has_its_guide_and_the_guides_show_at_least_six_captures() -> None:
    shown: set[Path] = set()
    for name in GUIDES:
        page = PROJECT_ROOT / "docs" / "guide" / name
        images = [page.parent / target for target in LINK.findall(page.read_text(encoding="utf-8"))]
        shown |= {image.resolve() for image in images if image.suffix == ".png"}
        assert any(image.suffix == ".png" for image in images), name
    assert len(shown) >= 6
    assert all(image.is_file() for image in shown), sorted(str(i) for i in shown if not i.is_file())


def test_relative_links_point_at_files_that_exist() -> None:
    broken = []
    for page in _pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path = (page.parent / target).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(PROJECT_ROOT)} → {target}")
    assert broken == []
