"""The examples in geo's docstrings run, as part of the ordinary test run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import geo

# Running it would start the CLI.
NOT_IMPORTED = {"geo.__main__"}
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(geo.__path__, "geo.") if m.name not in NOT_IMPORTED
)


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    # only the module's own docstrings, not those of names it imports
    return [t for t in tests if t.examples and t.filename == module.__file__]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in _examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found() -> None:
    found = {name: len(_examples(name)) for name in MODULES}
    assert sum(found.values()) >= 20, found
    assert found["geo.analysis.routing"] >= 2 and found["geo.data.text"] >= 1, found
