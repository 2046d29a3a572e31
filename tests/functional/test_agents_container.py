"""The agents container: the node's whole agent chain inside the image.

``tools/build-agents-image.sh`` builds ``tdh/agents:latest`` (a no-op when
it is current).  The container runs as ``etc/systemd/
tripleo-docker-agents.service`` runs it (privileged, host network and PID
namespace, the Engine's socket) with the state directories bind-mounted at
the SAME paths as on the host, because the hook hands those paths to the
Engine as bind-mount sources.  Inside, the image's own os-refresh-config
tree runs: 20-os-apply-config, our 50-heat-config-tripleo-docker-hook,
heat-agents' 55-heat-config, the hook at /usr/libexec/heat-config/hooks and
heat-config-notify, which reaches the test's 127.0.0.1 signal server over
the host network.
"""

import json
import os
import subprocess
from urllib import parse

import pytest

from tests import helpers

REPO = os.path.join(os.path.dirname(__file__), '..', '..')
AGENTS = os.environ.get('TDH_AGENTS_IMAGE', 'tdh/agents:latest')


@pytest.fixture(scope='session')
def agents_image(docker_api):
    """The agents image, built or refreshed (a no-op when current)."""
    proc = subprocess.run(
        ['bash', os.path.join(REPO, 'tools', 'build-agents-image.sh')],
        env=dict(os.environ, TDH_AGENTS_IMAGE=AGENTS),
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return AGENTS


@pytest.fixture
def agents(tmp_path, hook_env, deployment, agents_image, docker_api):
    """``agents(deployments)``: one os-collect-config cycle in the image.

    Each call is a fresh container (as after a restart of the unit): what
    must survive, the hook's state, heat-config's deployed markers and
    os-collect-config's cache, lives in the bind-mounted ``tmp_path``.
    """
    metadata = tmp_path / 'metadata'
    metadata.mkdir()
    name = f'{deployment}-agents'
    env = {
        # os-collect-config's local collector restores getlocale(), which
        # maps C.UTF-8 to an en_US.UTF-8 the image lacks: plain C.
        'LC_ALL': 'C', 'LANG': 'C',
        'TRIPLEO_DOCKER_HOOK_CONFIG': hook_env['TRIPLEO_DOCKER_HOOK_CONFIG'],
        # On a node these are /var/lib/heat-config/deployed (mounted) and
        # /var/run/heat-config/deployed (the container's own tmpfs-like
        # /var/run); here they point into the test's directory.
        'HEAT_CONFIG_DEPLOYED': str(tmp_path / 'deployed'),
        'HEAT_CONFIG_DEPLOYED_OLD': str(tmp_path / 'deployed-old'),
    }
    command = [
        'docker', 'run', '--rm', '--name', name,
        '--privileged', '--net', 'host', '--pid', 'host',
        '-v', '/var/run/docker.sock:/var/run/docker.sock',
        '-v', f'{tmp_path}:{tmp_path}',
    ]
    for key, value in env.items():
        command += ['-e', f'{key}={value}']
    command += [
        agents_image, 'os-collect-config', '--one-time', '--force',
        '--config-file', '/dev/null',
        '--cachedir', str(tmp_path / 'cache'),
        '--backup-cachedir', str(tmp_path / 'cache-backup'),
        '--local-path', str(metadata),
        '--command', 'os-refresh-config', 'local']

    def run(deployments):
        (metadata / 'heat.json').write_text(
            json.dumps({'deployments': deployments}))
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return proc.stderr

    yield run
    subprocess.run(['docker', 'rm', '-f', name], capture_output=True)


def _service_containers(api, deployment):
    return api.containers(all=True,
                          filters={'label': f'deployment={deployment}'})


def _token(path):
    return parse.parse_qs(parse.urlsplit(path).query)['temp_url_sig'][0]


def _service_doc(name, server, token):
    return helpers.signalled(helpers.make_doc(name, {'docker_config': {
        'step_1': {f'{name}-svc': {'image': helpers.BUSYBOX, 'net': 'host',
                                   'command': helpers.SLEEP_FOREVER}}}}),
        server, token)


def test_agents_container_deploys_signals_and_cleans_up(
        docker_api, deployment, agents, signal_server, tmp_path):
    keep = f'{deployment}-keep'
    try:
        doc = _service_doc(deployment, signal_server, 'tok-gone')
        kept = _service_doc(keep, signal_server, 'tok-keep')

        log = agents([doc, kept])
        # The image's hook ran (not the host's), through heat-agents'
        # runner, and heat-config-notify reached 127.0.0.1.
        assert '/usr/libexec/heat-config/hooks/tripleo-docker-hook' in log, \
            log[-4000:]
        signals = {_token(path): body
                   for _, path, body in signal_server.received}
        assert sorted(signals) == ['tok-gone', 'tok-keep'], log[-4000:]
        assert all(b['deploy_status_code'] == 0 for b in signals.values()), \
            signals
        [container] = _service_containers(docker_api, deployment)
        labels = container['Labels']
        assert labels['managed_by'] == 'tripleo-docker-hook'
        assert labels['container_name'] == f'{deployment}-svc'
        assert container['Names'] == [f'/{deployment}-svc']
        assert container['State'] == 'running'
        [kept_container] = _service_containers(docker_api, keep)
        # heat-config's marker landed in the mounted directory: it survives
        # the agents container (the next run is a fresh container).
        assert (tmp_path / 'deployed' / f'{doc["id"]}.json').is_file()

        # A fresh agents container; Heat dropped the first deployment from
        # the metadata: the image's cleanup script (configure.d/50-...)
        # removes its containers, using the state the previous container
        # left; the other one is already deployed and untouched.
        log = agents([kept])
        assert _service_containers(docker_api, deployment) == [], \
            log[-4000:]
        assert [c['Id'] for c in _service_containers(docker_api, keep)] \
            == [kept_container['Id']]
        assert len(signal_server.received) == 2
    finally:
        from tests.functional.conftest import remove_deployment
        remove_deployment(docker_api, keep)


def test_hook_in_image_answers_one_json_object_for_garbage(agents_image):
    proc = subprocess.run(
        ['docker', 'run', '--rm', '-i', agents_image, 'tripleo-docker-hook'],
        input='not json {', capture_output=True, text=True, timeout=120)
    answer = json.loads(proc.stdout)
    assert proc.stdout.count('\n') == 1 and proc.stdout.endswith('\n'), \
        proc.stdout
    assert answer['deploy_status_code'] == proc.returncode != 0, answer
    assert 'JSON' in answer['deploy_stderr'], answer
