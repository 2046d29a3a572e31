"""Fixtures for tests against the real Docker engine.

Every test works under its own deployment name and container names and
removes only the containers labelled with that deployment, so tests never
see each other's leftovers.
"""

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

from tests import helpers
from tripleo_docker_hook import engine_compat


@pytest.fixture(scope='session')
def docker_api():
    """docker-py's low-level client of the engine under test.

    On podman (``tox -e functional-podman``), inspect documents come in
    Docker's form through the hook's own :func:`engine_compat.docker_view`,
    so a test asserts the same thing on both engines.
    """
    import docker

    class Client(docker.APIClient):
        kind = engine_compat.DOCKER

        def inspect_container(self, container):
            info = super().inspect_container(container)
            if self.kind == engine_compat.PODMAN:
                engine_compat.docker_view(info)
            return info

        def health(self, container):
            """``State.Health.Status`` ('' without a check).  On podman
            the check is run first: without systemd nothing runs it in
            the background, as the engine's timers do on a real node."""
            if self.kind == engine_compat.PODMAN:
                self._get(self.base_url + engine_compat.LIBPOD_PREFIX +
                          f'/containers/{container}/healthcheck')
            state = self.inspect_container(container)['State']
            return (state.get('Health') or {}).get('Status') or ''

    client = Client(
        base_url=os.environ.get('DOCKER_HOST',
                                'unix:///var/run/docker.sock'),
        version='1.41', timeout=120)
    try:
        ping = client._get(client.base_url + '/_ping')
        ping.raise_for_status()
    except Exception as exc:
        if os.environ.get('TDH_REQUIRE_DOCKER'):
            pytest.fail(f'Docker engine unreachable: {exc}')
        pytest.skip(f'Docker engine unreachable: {exc}')
    client.kind = engine_compat.kind_from_headers(ping.headers)
    if client.kind != helpers.ENGINE:
        pytest.fail(f'TDH_ENGINE={helpers.ENGINE} but the engine at '
                    f'{client.base_url} is {client.kind}')
    for image in (helpers.BUSYBOX, helpers.BUSYBOX_OTHER):
        try:
            client.inspect_image(image)
        except Exception:
            pytest.fail(f'test image {image} missing: run '
                        'tools/build-images.sh')
    return client


def remove_deployment(client, name):
    """Remove the deployment's containers, dependents first: podman refuses
    to remove a container others still join ("has dependent containers"),
    so a refused one is retried once the others went (a pass that removes
    nothing re-raises)."""
    import docker
    left = [c['Id'] for c in client.containers(
        all=True, filters={'label': f'deployment={name}'})]
    while left:
        refused = []
        for cid in left:
            try:
                client.remove_container(cid, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                if 'dependent containers' not in str(exc):
                    raise
                refused.append((cid, exc))
        if len(refused) == len(left):
            raise refused[0][1]
        left = [cid for cid, _ in refused]


@pytest.fixture
def deployment(docker_api):
    """A unique deployment name; its containers are removed afterwards."""
    name = helpers.unique()
    yield name
    remove_deployment(docker_api, name)


@pytest.fixture
def hook_env(tmp_path):
    """Environment for the hook process with private state directories."""
    dirs = {key: tmp_path / key for key in
            ('state_dir', 'config_data_dir', 'kolla_config_dir')}
    for path in dirs.values():
        path.mkdir()
    conf = helpers.write_conf(tmp_path / 'hook.conf',
                              **{k: str(v) for k, v in dirs.items()})
    env = dict(os.environ)
    env['TRIPLEO_DOCKER_HOOK_CONFIG'] = str(conf)
    env.update({f'TDH_{k.upper()}': str(v) for k, v in dirs.items()})
    return env


class _Signals(http.server.BaseHTTPRequestHandler):
    received = None  # set per server

    def do_PUT(self):
        body = self.rfile.read(int(self.headers['Content-Length'] or 0))
        self.server.received.append((self.command, self.path,
                                     json.loads(body)))
        self.send_response(200)
        self.end_headers()

    do_POST = do_PUT

    def log_message(self, *args):
        pass


@pytest.fixture
def signal_server():
    server = http.server.HTTPServer(('127.0.0.1', 0), _Signals)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope='session')
def heat_agents():
    """The unpacked heat-agents source distribution (tools/heat-agents.sh).

    ``TDH_HEAT_AGENTS_DIR`` when set (tools/test.sh sets it), else the
    script is run here: it is cached and quick after the first time.
    """
    path = os.environ.get('TDH_HEAT_AGENTS_DIR', '')
    if not path:
        script = os.path.join(os.path.dirname(__file__), '..', '..',
                              'tools', 'heat-agents.sh')
        proc = subprocess.run(['bash', script], capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        path = proc.stdout.strip()
    assert os.path.isfile(os.path.join(
        path, 'heat-config/os-refresh-config/configure.d/55-heat-config')), \
        f'no heat-agents tree at {path!r}'
    return path


@pytest.fixture
def runner_env(tmp_path, hook_env, heat_agents):
    """Environment for heat-config's runner: our hook, the real notify."""
    hooks = tmp_path / 'hooks'
    hooks.mkdir()
    hook = hooks / 'tripleo-docker-hook'
    hook.write_text('#!/bin/sh\nexec {} "$@"\n'.format(
        ' '.join(helpers.hook_command())))
    hook.chmod(0o755)
    notify = tmp_path / 'notify'
    notify.write_text('#!/bin/sh\nexec {} {} "$@"\n'.format(
        sys.executable,
        os.path.join(heat_agents, 'heat-config/bin/heat-config-notify')))
    notify.chmod(0o755)
    return dict(hook_env, HEAT_CONFIG_HOOKS=str(hooks),
                HEAT_SHELL_CONFIG=str(tmp_path / 'heat-config'),
                HEAT_CONFIG_DEPLOYED=str(tmp_path / 'deployed'),
                HEAT_CONFIG_DEPLOYED_OLD=str(tmp_path / 'deployed-old'),
                HEAT_CONFIG_NOTIFY=str(notify))


@pytest.fixture
def runner(tmp_path, runner_env, heat_agents):
    """Runs 55-heat-config over a heat-config list; returns its stderr."""
    env = runner_env
    script = os.path.join(heat_agents, 'heat-config/os-refresh-config/'
                          'configure.d/55-heat-config')

    def run(items):
        (tmp_path / 'heat-config').write_text(json.dumps(items))
        proc = subprocess.run([sys.executable, script], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    run.deployed = tmp_path / 'deployed'
    return run
