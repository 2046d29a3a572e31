"""Shared by every test directory."""

import os
import shutil
import tempfile

import pytest

from tripleo_docker_hook import confcache


@pytest.fixture(autouse=True, scope='session')
def _private_confcache():
    """Hook runs of the tests keep their option memos (confcache) in a
    private directory, removed at the end, instead of the node's
    ``/run/tripleo-docker-hook``."""
    if os.environ.get(confcache.ENV_DIR):
        yield
        return
    path = tempfile.mkdtemp(prefix='tdh-confcache-')
    os.environ[confcache.ENV_DIR] = path
    try:
        yield
    finally:
        os.environ.pop(confcache.ENV_DIR, None)
        shutil.rmtree(path, ignore_errors=True)
