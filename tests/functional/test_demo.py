"""``tools/demo.sh``, the README's first command, on the engine under test
(``--podman`` in ``tox -e functional-podman``): it deploys, a second run
keeps every container, nova_metadata serves on the host network, and
``--delete`` removes it all.  The hook runs with the test's private state
(``TRIPLEO_DOCKER_HOOK_CONFIG``); the demo's fixed names mean a demo the
operator left on this machine skips the test rather than being touched.
"""

import os
import shutil
import subprocess

import pytest

from tests import helpers

REPO = os.path.join(os.path.dirname(__file__), '..', '..')
NAME = 'ComputeContainersDeployment_Demo'
DEMO_DIR = '/var/lib/tdh-demo'
SERVICES = {'nova_libvirt', 'nova_metadata', 'nova_compute'}


def _demo(env, *args, podman=helpers.ENGINE == 'podman'):
    flags = ['--podman'] if podman else []
    return subprocess.run(
        ['bash', os.path.join(REPO, 'tools', 'demo.sh'), *flags, *args],
        env=env, capture_output=True, text=True, timeout=600,
        stdin=subprocess.DEVNULL)


def _demo_containers(api):
    return {c['Labels']['container_name']: c['Id'] for c in api.containers(
        all=True, filters={'label': [f'deployment={NAME}',
                                     'managed_by=tripleo-docker-hook']})}


def test_demo_deploys_keeps_and_deletes(docker_api, hook_env, tmp_path):
    if _demo_containers(docker_api) or os.path.exists(DEMO_DIR):
        pytest.skip(f'a demo is on this machine ({DEMO_DIR}, {NAME})')
    hook = tmp_path / 'hook'
    hook.write_text('#!/bin/sh\nexec {} "$@"\n'.format(
        ' '.join(helpers.hook_command())))
    hook.chmod(0o755)
    env = dict(hook_env, TDH_DEMO_HOOK=str(hook))
    try:
        first = _demo(env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert '"uuid": "6a1d3c52-demo-compute-0"' in first.stdout
        before = _demo_containers(docker_api)
        assert set(before) == SERVICES
        for cid in before.values():
            assert docker_api.inspect_container(cid)['State']['Running']

        again = _demo(env)
        assert again.returncode == 0, again.stdout + again.stderr
        assert '3 keep' in again.stdout, again.stdout
        assert _demo_containers(docker_api) == before

        if helpers.ENGINE == 'podman':
            # Same names and port on Docker: refused before anything runs.
            docker = _demo(env, podman=False)
            assert docker.returncode == 1, docker.stdout + docker.stderr
            assert 'the demo runs on podman' in docker.stderr
            assert 'tripleo-docker-hook <' not in docker.stdout

        gone = _demo(env, '--delete')
        assert gone.returncode == 0, gone.stdout + gone.stderr
        assert '3 remove' in gone.stdout, gone.stdout
        assert _demo_containers(docker_api) == {}
        assert not os.path.exists(DEMO_DIR)
    finally:
        for cid in _demo_containers(docker_api).values():
            docker_api.remove_container(cid, force=True)
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
