"""plotly.js from the installed ``plotly`` Python package, served as a static file.

No CDN: ``PlotlyFinder`` makes ``loudou/vendor/plotly.min.js`` a static file read from
``plotly/package_data`` (whitenoise serves it, ``collectstatic`` copies it), so charts
work offline and the Content-Security-Policy's ``script-src 'self'`` allows it.

plotly.js adds its library-wide CSS with an inline ``<style>``, which the policy blocks
(``style-src 'self'``); it skips that when an element with id ``plotly.js-style-global``
and class ``no-inline-styles`` exists. The page links ``loudou/vendor/plotly.css`` with
that id and class: the rules plotly.js would have added, extracted from the installed
plotly.min.js by ``plotly_css()`` (a test checks the committed file matches it).
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PACKAGE_DATA = Path(plotly.__file__).parent / "package_data"
PREFIX = "loudou/vendor"
FILE = "plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds ``loudou/vendor/plotly.min.js`` in the installed plotly package."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=PACKAGE_DATA)
        self.storage.prefix = PREFIX

    def check(self, **kwargs: Any) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str]:
        find_all = find_all or kwargs.get("all", False)
        if path == f"{PREFIX}/{FILE}" and (PACKAGE_DATA / FILE).is_file():
            found = str(PACKAGE_DATA / FILE)
            return [found] if find_all else found
        return [] if find_all else ""

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        if (PACKAGE_DATA / FILE).is_file():
            yield FILE, self.storage


def plotly_css() -> str:
    """plotly.js's global CSS rules (its ``build/plotcss``), read from plotly.min.js."""
    source = (PACKAGE_DATA / FILE).read_text(encoding="utf-8")
    match = re.search(r'(\w+)=\{("X,X div":.*?)\};for\(\w+ in \1\)', source)
    if match is None:
        raise RuntimeError("plotly.min.js: the CSS rules were not found")
    pairs = re.findall(r'"([^"]*)":(?:\'([^\']*)\'|"([^"]*)")', match.group(2))
    lines = ["/* plotly.js's own CSS (see loudou/reports/plotly_assets.py). MIT licence. */"]
    for selector, single, double in pairs:
        selector = re.sub(r"^,", " ,", selector)
        selector = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        lines.append(f"{selector}{{{single or double}}}")
    return "\n".join(lines) + "\n"
