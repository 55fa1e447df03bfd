"""Compiles the gettext catalogues at install: `.po` files are kept in the repository, the
`.mo` files the product reads are built here (and by `make translations` while editing).

Everything else about the package is declared in pyproject.toml.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGUES = Path("campaign") / "translations"


class BuildWithCatalogues(build_py):
    """build_py, then each `.po` compiled beside it (in the source tree when editable)."""

    def run(self) -> None:
        super().run()
        target = Path(".") if self.editable_mode else Path(self.build_lib)
        for source in sorted(CATALOGUES.glob("*/LC_MESSAGES/*.po")):
            compiled = target / source.with_suffix(".mo")
            compiled.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as po:
                catalogue = read_po(po)
            with compiled.open("wb") as mo:
                write_mo(mo, catalogue)


setup(cmdclass={"build_py": BuildWithCatalogues})
