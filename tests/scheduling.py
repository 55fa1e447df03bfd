"""How `make test` shares the tests among pytest-xdist processes: a test file per process at a
time, except folders that run whole in one process (`GROUPED`).

The browser tests are such a folder: one process runs them all, with one product and one
browser, rather than each process that happens to take a browser file starting its own (up
to three of each at once). On two cores this costs about a minute of the whole run and
keeps its peak lower (13 min 32 s against 12 min 34 s; at most 373 threads against 468).
(pytest-xdist's own `xdist_group` marks are lost on pytest 9, which no longer reads the node
id that pytest-xdist rewrites; the folder is known from the id itself.)
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

GROUPED = ("tests/browser/",)
"""Folders whose tests all run in one process, one folder at a time."""


class FilesAndGroups(LoadScopeScheduling):
    """A file per work unit (as `--dist loadfile`), a whole folder of `GROUPED` per unit."""

    def _split_scope(self, nodeid: str) -> str:
        file = nodeid.split("::", 1)[0]
        return next((folder for folder in GROUPED if file.startswith(folder)), file)
