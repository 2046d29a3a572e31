"""The hook driven by heat-config's real runner, as on a node.

``55-heat-config`` and ``heat-config-notify`` come from the heat-agents
source distribution (``tools/heat-agents.sh``; ``TDH_HEAT_AGENTS_DIR``).
The runner finds our hook through ``HEAT_CONFIG_HOOKS``, reads the
deployments from ``HEAT_SHELL_CONFIG``, writes markers to
``HEAT_CONFIG_DEPLOYED``; the real notify script sends the signal over HTTP
(TEMP_URL_SIGNAL transport) to a server on 127.0.0.1 standing in for
Swift, so the test asserts exactly what Heat would receive.
"""

import json

from tests import helpers


def test_runner_signals_success_and_failure(docker_api, deployment, runner,
                                            signal_server):
    name = f'{deployment}-svc'
    good = helpers.signalled(helpers.make_doc(deployment, {'docker_config': {
        'step_1': {name: {'image': helpers.BUSYBOX, 'net': 'host',
                          'command': helpers.SLEEP_FOREVER,
                          'environment': ['PASSWORD=SENTINEL-env-pw']}}}}),
        signal_server, 'SENTINEL-sig-token')
    bad_name = f'{deployment}-bad'
    bad = helpers.signalled(helpers.make_doc(f'{deployment}-b', {
        'docker_config': {'step_1': {bad_name: {'net': 'host'}}}}),
        signal_server, 'SENTINEL-sig-token-2')
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
    doc = helpers.signalled(helpers.make_doc(deployment, {'configs': [
        {'actions': ['CREATE', 'UPDATE'], 'tool': 'tripleo-docker-hook',
         'config': {'docker_config': {'step_1': {name: container}}}},
        {'actions': ['DELETE'], 'tool': 'script', 'config': 'true'}]},
        group='component'), signal_server, 'tok')
    runner([doc])
    [(verb, _, body)] = signal_server.received
    assert body['deploy_status_code'] == 0, body
    assert docker_api.inspect_container(name)['State']['Running']
