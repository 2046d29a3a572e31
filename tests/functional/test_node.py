"""A node's whole agent chain, from metadata to containers and signals.

Real os-collect-config (local collector standing in for Heat's metadata)
runs real os-refresh-config over a ``configure.d`` laid out as on a node:
``20-os-apply-config`` (heat-agents' template renders the heat-config
file), our ``50-heat-config-tripleo-docker-hook`` cleanup script, and
heat-agents' ``55-heat-config``, which runs the hook and heat-config-notify.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests import helpers

REPO = os.path.join(os.path.dirname(__file__), '..', '..')
CLEANUP = os.path.join(REPO, 'etc', 'os-refresh-config', 'configure.d',
                       '50-heat-config-tripleo-docker-hook')


def _tool(name):
    path = shutil.which(name, path=os.path.dirname(sys.executable)) or \
        shutil.which(name)
    if not path:
        pytest.fail(f'{name} is not installed (test-requirements.txt)')
    return path


@pytest.fixture
def node(tmp_path, runner_env, heat_agents):
    """``node(deployments)`` runs one os-collect-config cycle."""
    root = tmp_path / 'root'
    base = tmp_path / 'orc'
    configure = base / 'configure.d'
    configure.mkdir(parents=True)
    bindir = os.path.dirname(sys.executable)
    scripts = {
        '20-os-apply-config': 'exec {} -t {} -o {}'.format(
            _tool('os-apply-config'),
            os.path.join(heat_agents, 'heat-config', 'os-apply-config'),
            root),
        '50-heat-config-tripleo-docker-hook': f'exec {CLEANUP}',
        '55-heat-config': 'exec {} {}'.format(sys.executable, os.path.join(
            heat_agents, 'heat-config/os-refresh-config/configure.d/'
            '55-heat-config')),
    }
    for name, body in scripts.items():
        path = configure / name
        path.write_text(f'#!/bin/sh\n{body}\n')
        path.chmod(0o755)
    metadata = tmp_path / 'metadata'
    metadata.mkdir()
    env = dict(runner_env,
               PATH=bindir + os.pathsep + os.environ.get('PATH', ''),
               OS_REFRESH_CONFIG_BASE_DIR=str(base),
               # os-collect-config's local collector switches to the C
               # locale and back to getlocale(), which maps C.UTF-8 to an
               # en_US.UTF-8 this machine lacks: stay in plain C.
               LC_ALL='C', LANG='C',
               HEAT_SHELL_CONFIG=str(root / 'var/run/heat-config/'
                                     'heat-config'))

    def run(deployments):
        data = {} if deployments is None else {'deployments': deployments}
        (metadata / 'heat.json').write_text(json.dumps(data))
        proc = subprocess.run(
            [_tool('os-collect-config'), '--one-time', '--force',
             '--cachedir', str(tmp_path / 'cache'),
             '--backup-cachedir', str(tmp_path / 'cache-backup'),
             '--config-file', '/dev/null',
             '--local-path', str(metadata),
             '--command', '{} --lockfile {}'.format(
                 _tool('os-refresh-config'), tmp_path / 'orc.lock'),
             'local'],
            env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return proc.stderr

    return run


def _service(name):
    return {'image': helpers.BUSYBOX, 'net': 'host',
            'command': helpers.SLEEP_FOREVER}


def _ids(api, deployment):
    return {c['Labels']['container_name']: c['Id'] for c in api.containers(
        all=True, filters={'label': f'deployment={deployment}'})}


def test_node_deploys_cleans_up_and_survives_empty_metadata(
        docker_api, deployment, node, signal_server):
    other = f'{deployment}-b'
    try:
        a = helpers.signalled(helpers.make_doc(deployment, {'docker_config': {
            'step_1': {f'{deployment}-a1': _service('a1')}}}),
            signal_server, 'tok-a')
        b = helpers.signalled(helpers.make_doc(other, {'docker_config': {
            'step_1': {f'{other}-b1': _service('b1')}}}),
            signal_server, 'tok-b')
        log = node([a, b])
        statuses = [body['deploy_status_code']
                    for _, _, body in signal_server.received]
        assert statuses == [0, 0], log[-4000:]
        first = _ids(docker_api, deployment)
        assert list(first) == [f'{deployment}-a1']
        assert list(_ids(docker_api, other)) == [f'{other}-b1']

        # Heat drops deployment b from the metadata (deleted without a
        # DELETE action): the cleanup script removes its containers; a is
        # already deployed (same id) and untouched.
        node([a])
        assert _ids(docker_api, other) == {}
        assert _ids(docker_api, deployment) == first
        assert len(signal_server.received) == 2

        # Metadata without deployments: the heat-config file renders empty;
        # nothing is removed and os-refresh-config still succeeds.
        node(None)
        assert _ids(docker_api, deployment) == first
    finally:
        from tests.functional.conftest import remove_deployment
        remove_deployment(docker_api, other)
