"""The reliability suite (``tox -e reliability``): the real hook process
against the real engine, with bad input, random input and kill -9.

Figures of each part are written to ``.cache/reliability-<part>.json``
and summed up in ``docs/source/reliability.rst``.
"""

import json
import os

import pytest

from tests.functional.conftest import docker_api  # noqa: F401
from tests.functional.conftest import hook_env  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def budget(name: str, default: int) -> int:
    """A size of the suite, from ``TDH_<NAME>`` (run it longer)."""
    return int(os.environ.get(f'TDH_{name.upper()}', default))


def write_figures(part: str, figures: dict) -> None:
    path = os.path.join(ROOT, '.cache', f'reliability-{part}.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(figures, f, indent=1, sort_keys=True)
    print(f'\n{part}: {json.dumps(figures, sort_keys=True)}')


@pytest.fixture(scope='session')
def figures():
    """Per-part figures collected by the tests of a session."""
    collected = {}
    yield collected
    for part, data in collected.items():
        write_figures(part, data)
