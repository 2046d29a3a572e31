"""The hook driven by heat-config's real runner, as on a node.

``55-heat-config`` and ``heat-config-notify`` come from the heat-agents
source distribution (``tools/heat-agents.sh``; ``TDH_HEAT_AGENTS_DIR``).
The runner finds our hook through ``HEAT_CONFIG_HOOKS``, reads the
deployments from ``HEAT_SHELL_CONFIG``, writes markers to
``HEAT_CONFIG_DEPLOYED``; the real notify script sends the signal over HTTP
(TEMP_URL_SIGNAL transport) to a server on 127.0.0.1 standing in for
Swift, so the test asserts exactly what Heat would receive.
"""

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

from tests import helpers

HEAT_AGENTS = os.environ.get('TDH_HEAT_AGENTS_DIR', '')


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


@pytest.fixture
def runner(tmp_path, hook_env):
    """Runs 55-heat-config over a heat-config list; returns its stderr."""
    if not HEAT_AGENTS:
        pytest.fail('TDH_HEAT_AGENTS_DIR is not set: run tools/heat-agents.sh'
                    ' (tools/test.sh does)')
    hooks = tmp_path / 'hooks'
    hooks.mkdir()
    hook = hooks / 'tripleo-docker-hook'
    hook.write_text('#!/bin/sh\nexec {} "$@"\n'.format(
        ' '.join(helpers.hook_command())))
    hook.chmod(0o755)
    notify = tmp_path / 'notify'
    notify.write_text('#!/bin/sh\nexec {} {} "$@"\n'.format(
        sys.executable,
        os.path.join(HEAT_AGENTS, 'heat-config/bin/heat-config-notify')))
    notify.chmod(0o755)
    env = dict(hook_env, HEAT_CONFIG_HOOKS=str(hooks),
               HEAT_SHELL_CONFIG=str(tmp_path / 'heat-config'),
               HEAT_CONFIG_DEPLOYED=str(tmp_path / 'deployed'),
               HEAT_CONFIG_DEPLOYED_OLD=str(tmp_path / 'deployed-old'),
               HEAT_CONFIG_NOTIFY=str(notify))
    script = os.path.join(HEAT_AGENTS, 'heat-config/os-refresh-config/'
                          'configure.d/55-heat-config')

    def run(items):
        (tmp_path / 'heat-config').write_text(json.dumps(items))
        proc = subprocess.run([sys.executable, script], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    run.deployed = tmp_path / 'deployed'
    return run


def _signalled(doc, server, token):
    doc['inputs'] += [
        {'name': 'deploy_signal_id', 'value':
         f'http://127.0.0.1:{server.server_port}/v1/AUTH_x/c/{doc["id"]}'
         f'?temp_url_sig={token}&temp_url_expires=2147483647'},
        {'name': 'deploy_signal_verb', 'value': 'PUT'}]
    for item in doc['inputs']:
        if item['name'] == 'deploy_signal_transport':
            item['value'] = 'TEMP_URL_SIGNAL'
    return doc


def test_runner_signals_success_and_failure(docker_api, deployment, runner,
                                            signal_server):
    name = f'{deployment}-svc'
    good = _signalled(helpers.make_doc(deployment, {'docker_config': {
        'step_1': {name: {'image': helpers.BUSYBOX, 'net': 'host',
                          'command': helpers.SLEEP_FOREVER,
                          'environment': ['PASSWORD=SENTINEL-env-pw']}}}}),
        signal_server, 'SENTINEL-sig-token')
    bad_name = f'{deployment}-bad'
    bad = _signalled(helpers.make_doc(f'{deployment}-b', {'docker_config': {
        'step_1': {bad_name: {'net': 'host'}}}}), signal_server,
        'SENTINEL-sig-token-2')
    other = {'id': 'oac', 'name': 'oac', 'group': 'os-apply-config',
             'inputs': [], 'outputs': [], 'options': None, 'config': {}}
    log = runner([other, good, bad])

    signals = {path.rsplit('/', 1)[-1].split('?')[0]: (verb, body)
               for verb, path, body in signal_server.received}
    assert set(signals) == {good['id'], bad['id']}, log
    verb, body = signals[good['id']]
    assert verb == 'PUT'
    assert body['deploy_status_code'] == 0
    assert f'create {name}' in body['deploy_stdout']
    verb, body = signals[bad['id']]
    assert body['deploy_status_code'] != 0
    assert f'step_1.{bad_name}.image: Required value' in body['deploy_stderr']
    # Neither the signal bodies (stack attributes) nor the runner's log
    # (which holds our stdout and stderr) carry a secret.  The signed URL
    # itself is the transport's, logged by heat-config-notify, not by us.
    assert 'SENTINEL' not in json.dumps([b for _, _, b in
                                         signal_server.received])
    assert 'SENTINEL-env-pw' not in log

    info = docker_api.inspect_container(name)
    assert info['State']['Running']
    assert info['Config']['Labels']['config_id'] == good['id']
    assert docker_api.containers(all=True, filters={
        'label': f'deployment={deployment}-b'}) == []
    # The runner's markers: written for both, so a second run skips them.
    assert (runner.deployed / f'{good["id"]}.json').exists()
    log = runner([other, good, bad])
    assert f'Skipping config {good["id"]}, already deployed' in log
    assert len(signal_server.received) == 2


def test_component_group_dispatches_to_the_hook(docker_api, deployment,
                                                runner, signal_server):
    """``group: component`` rewrites to the tool of the matching action."""
    name = f'{deployment}-svc'
    container = {'image': helpers.BUSYBOX, 'net': 'host',
                 'command': helpers.SLEEP_FOREVER}
    doc = _signalled(helpers.make_doc(deployment, {'configs': [
        {'actions': ['CREATE', 'UPDATE'], 'tool': 'tripleo-docker-hook',
         'config': {'docker_config': {'step_1': {name: container}}}},
        {'actions': ['DELETE'], 'tool': 'script', 'config': 'true'}]},
        group='component'), signal_server, 'tok')
    runner([doc])
    [(verb, _, body)] = signal_server.received
    assert body['deploy_status_code'] == 0, body
    assert docker_api.inspect_container(name)['State']['Running']
