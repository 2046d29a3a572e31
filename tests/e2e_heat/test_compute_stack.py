"""etc/heat/containerized-compute.yaml on a real Heat, driving a real node.

One stack lives through the whole story, each phase asserted through
Heat's API (Debian's openstack client) and on the host's Docker engine:

1. create: CREATE_COMPLETE; Puppet's render in the node's config-data;
   services on the host network; the served config is the rendered one;
   the one-shot bootstrap ran once; a stack output carries its output;
2. update of one image: only that container replaced; a forced
   re-collection of the same metadata (markers lost) changes nothing;
3. update whose new nova_compute fails its health check: UPDATE_FAILED,
   the hook's error naming the container in deploy_stderr, the previous
   container running; an update back to the good parameters completes;
4. stack delete: nova_virtlogd (DELETE action) removed by the hook's
   DELETE, nova_compute's containers (default actions: the deployment just
   leaves the metadata) by the configure.d cleanup script; a foreign
   container survives everything;
5. no secret in any deployment output Heat stored (checked after every
   phase that produced outputs).
"""

import json
import os
import secrets
import socket
import urllib.request

import pytest

from tests import helpers
from tests.e2e_heat.conftest import TEMPLATES, failure_details

TEMPLATE = os.path.join(TEMPLATES, 'containerized-compute.yaml')
COMPUTE = ('nova_compute_bootstrap', 'nova_libvirt', 'nova_compute')
TIMEOUT_MIN = '10'          # every stack action fails after this (pitfall 2)
WAIT = 420                  # seconds the test waits for one stack action


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def containers(api, deployment):
    """name → inspect document of the deployment's containers."""
    return {c['Labels']['container_name']: api.inspect_container(c['Id'])
            for c in api.containers(all=True, filters={
                'label': f'deployment={deployment}'})}


def ids(api):
    found = {}
    for dep in ('nova_compute', 'nova_virtlogd'):
        found.update({n: c['Id'] for n, c in containers(api, dep).items()})
    return found


def served(port, path):
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/{path}',
                                timeout=10) as resp:
        return resp.read().decode()


class Outputs:
    """Every deployment output Heat stores, and the secrets to look for."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.texts = {}
        self.secrets = set()

    def collect(self, ident, resources):
        for res in resources:
            dep_id = self.cloud.deployment_id(ident, res)
            if not dep_id:
                continue
            dep = self.cloud.cli_json('software', 'deployment', 'show',
                                      '--long', dep_id)
            self.texts[f'{res} {dep_id}'] = json.dumps(
                dep.get('output_values'))
            # The derived config holds the signal credentials Heat gave
            # this deployment (deploy_password of its own Keystone user).
            config = self.cloud.cli_json('software', 'config', 'show',
                                         dep['config_id'])
            for item in config.get('inputs') or ():
                if item.get('name') in ('deploy_password',
                                        'deploy_signal_id') \
                        and item.get('value'):
                    self.secrets.add(item['value'])
        for key in ('bootstrap_output', 'compute_stdout'):
            self.texts[f'stack output {key}'] = self.cloud.cli_value(
                'stack', 'output', 'show', ident, key, '-c', 'output_value')

    def assert_clean(self):
        assert self.secrets, 'no deploy_password found to look for'
        for where, text in self.texts.items():
            for secret in self.secrets:
                assert secret not in text, f'a secret leaked into {where}'


@pytest.fixture
def foreign(docker_api):
    """A container the hook does not manage, on the same engine."""
    name = helpers.unique('tdh-e2e-foreign')
    container = docker_api.create_container(
        helpers.BUSYBOX, helpers.SLEEP_FOREVER, name=name,
        host_config=docker_api.create_host_config(network_mode='host'))
    docker_api.start(container['Id'])
    yield container['Id']
    docker_api.remove_container(container['Id'], force=True)


def test_compute_stack_lifecycle(cloud, docker_api, make_node, stacks,
                                 phases, foreign, tmp_path):
    for name in COMPUTE + ('nova_virtlogd',):
        assert not docker_api.containers(all=True, filters={
            'name': f'^/{name}$'}), f'a container {name} already exists'
    node = make_node('compute')
    port = free_port()
    password = 'nova-' + secrets.token_hex(10)
    bootstrap_dir = tmp_path / 'bootstrap'
    bootstrap_dir.mkdir()
    runs = bootstrap_dir / 'runs'
    config_dir = f'{node.root}/var/lib/config-data'
    rendered = f'{config_dir}/puppet-generated/nova/etc/nova/nova.conf'
    kolla_file = f'{node.root}/var/lib/kolla/config_files/nova_compute.json'
    stack_name = helpers.unique('tdh-e2e-compute')
    outputs = Outputs(cloud)
    outputs.secrets.add(password)

    # -- 1. create -----------------------------------------------------------
    with phases('1 create: stack create -> DeployedServer COMPLETE'):
        stack_id = cloud.cli_value(
            'stack', 'create', '-t', TEMPLATE, '--timeout', TIMEOUT_MIN,
            '--parameter', f'compute_port={port}',
            '--parameter', f'bootstrap_dir={bootstrap_dir}',
            '--parameter', f'nova_password={password}',
            stack_name, '-c', 'id')
        ident = f'{stack_name}/{stack_id}'
        stacks.append(ident)
        cloud.wait_resource(ident, 'server', 'CREATE_COMPLETE', 120)
    with phases('1 create: node start -> CREATE_COMPLETE'):
        creds = cloud.node_credentials(ident)
        outputs.secrets.add(creds['password'])
        node.configure(creds)
        node.start()
        stack = cloud.wait_stack(ident, 'CREATE', WAIT)
    assert stack['stack_status'] == 'CREATE_COMPLETE', \
        failure_details(cloud, ident, node)

    found = containers(docker_api, 'nova_compute')
    assert sorted(found) == sorted(COMPUTE), found.keys()
    virtlogd = containers(docker_api, 'nova_virtlogd')
    assert sorted(virtlogd) == ['nova_virtlogd']
    for name, c in {**found, **virtlogd}.items():
        assert c['HostConfig']['NetworkMode'] == 'host', name
        assert c['Config']['Labels']['managed_by'] == 'tripleo-docker-hook'
    for name in ('nova_libvirt', 'nova_compute', 'nova_virtlogd'):
        state = {**found, **virtlogd}[name]['State']
        assert state['Running'], (name, state)
    assert found['nova_compute']['State']['Health']['Status'] == 'healthy'
    libvirt = found['nova_libvirt']['HostConfig']
    assert libvirt['Privileged'] is True and libvirt['PidMode'] == 'host'
    boot = found['nova_compute_bootstrap']['State']
    assert not boot['Running'] and boot['ExitCode'] == 0, boot
    # Puppet rendered into the node's config-data; the service serves
    # exactly that file, and the Kolla file the hook wrote.
    with open(rendered) as f:
        conf = f.read()
    assert 'rendered_by = puppet' in conf and 'debug = False' in conf, conf
    assert served(port, 'nova/nova.conf') == conf
    with open(kolla_file) as f:
        assert json.loads(served(port, 'config.json')) == json.load(f)
    assert len(runs.read_text().splitlines()) == 1
    # The stack output fed by the deployment's output (the one-shot task's
    # output, secret masked).
    boot_out = cloud.cli_value('stack', 'output', 'show', ident,
                               'bootstrap_output', '-c', 'output_value')
    assert 'bootstrap done, password ***' in boot_out, boot_out
    assert cloud.cli_value('stack', 'output', 'show', ident,
                           'compute_status_code', '-c', 'output_value') == '0'
    outputs.collect(ident, ['compute_deployment', 'virtlogd_deployment'])
    outputs.assert_clean()
    before = ids(docker_api)

    # -- 2. update one image; re-collection changes nothing ------------------
    with phases('2 update: one image -> UPDATE_COMPLETE'):
        since = cloud.stack(ident).get('updated_time')
        cloud.cli('stack', 'update', '--existing', '--timeout', TIMEOUT_MIN,
                  '--parameter', f'libvirt_image={helpers.BUSYBOX_OTHER}',
                  ident)
        stack = cloud.wait_stack(ident, 'UPDATE', WAIT, since)
    assert stack['stack_status'] == 'UPDATE_COMPLETE', \
        failure_details(cloud, ident, node)
    after = ids(docker_api)
    assert after['nova_libvirt'] != before['nova_libvirt']
    assert {k: v for k, v in after.items() if k != 'nova_libvirt'} == \
        {k: v for k, v in before.items() if k != 'nova_libvirt'}
    libvirt = containers(docker_api, 'nova_compute')['nova_libvirt']
    assert libvirt['Config']['Image'] == helpers.BUSYBOX_OTHER
    assert libvirt['State']['Running']
    assert len(runs.read_text().splitlines()) == 1
    link = os.readlink(f'{config_dir}/nova')

    with phases('2 re-collect: same metadata, markers lost, forced run'):
        # As after a lost /var/lib/heat-config: every deployment in the
        # metadata goes to the hook again.
        node.stop()
        markers = f'{node.root}/var/lib/heat-config/deployed'
        assert node.deployed_markers()
        for marker in node.deployed_markers():
            os.unlink(os.path.join(markers, marker))
        log = node.run_once()
    assert 'tripleo-docker-hook' in log, log[-3000:]
    assert len(node.deployed_markers()) >= 2, log[-3000:]
    assert ids(docker_api) == after, log[-3000:]
    assert len(runs.read_text().splitlines()) == 1
    assert os.readlink(f'{config_dir}/nova') == link
    node.start()

    # -- 3. an update whose new container fails its health check ------------
    with phases('3 failing update -> UPDATE_FAILED'):
        since = cloud.stack(ident).get('updated_time')
        # A new health check (that fails) and a new config: nova_compute
        # is replaced; the bootstrap task (same image, no config) is not.
        cloud.cli('stack', 'update', '--existing', '--timeout', TIMEOUT_MIN,
                  '--parameter', 'compute_health_path=nova/missing.conf',
                  '--parameter', 'compute_debug=true',
                  ident)
        stack = cloud.wait_stack(ident, 'UPDATE', WAIT, since)
    assert stack['stack_status'] == 'UPDATE_FAILED', \
        failure_details(cloud, ident, node)
    assert 'compute_deployment' in stack['stack_status_reason'], stack
    failed_id = cloud.deployment_id(ident, 'compute_deployment')
    stderr = cloud.cli('software', 'deployment', 'output', 'show',
                       failed_id, 'deploy_stderr')
    assert 'nova_compute' in stderr, stderr
    dep = cloud.cli_json('software', 'deployment', 'show', failed_id)
    assert dep['status'] == 'FAILED', dep
    outputs.collect(ident, ['compute_deployment'])
    outputs.assert_clean()
    # The previous container is back and running (same id, healthy).
    now = containers(docker_api, 'nova_compute')
    assert now['nova_compute']['Id'] == after['nova_compute']
    assert now['nova_compute']['State']['Running']
    assert 'missing' not in json.dumps(now['nova_compute']['Config'].get(
        'Healthcheck'))
    assert {n: c['Id'] for n, c in now.items()} == \
        {n: i for n, i in after.items() if n in COMPUTE}
    # ... and its config: it serves the config it ran with, not the
    # failed update's (issue 10: a failed apply publishes the previous
    # config again and containers bind their own generation).
    rolled_back_conf = served(port, 'nova/nova.conf')
    assert 'debug = False' in rolled_back_conf, rolled_back_conf

    with phases('3 update back to the good parameters -> UPDATE_COMPLETE'):
        since = cloud.stack(ident).get('updated_time')
        cloud.cli('stack', 'update', '--existing', '--timeout', TIMEOUT_MIN,
                  '--parameter', 'compute_health_path=nova/nova.conf',
                  '--parameter', 'compute_debug=false',
                  ident)
        stack = cloud.wait_stack(ident, 'UPDATE', WAIT, since)
    assert stack['stack_status'] == 'UPDATE_COMPLETE', \
        failure_details(cloud, ident, node)
    # Heat replaced the failed deployment (a new one, same name).
    assert cloud.deployment_id(ident, 'compute_deployment') != failed_id
    now = containers(docker_api, 'nova_compute')
    assert now['nova_compute']['State']['Running']
    assert now['nova_compute']['Config']['Image'] == helpers.BUSYBOX
    with open(rendered) as f:
        conf = f.read()
    assert 'debug = False' in conf
    # Before issue 10 the restored container ran on the failed update's
    # config and the recovery (same definition and config hash as the
    # container's labels) kept it there.
    assert served(port, 'nova/nova.conf') == conf
    assert len(runs.read_text().splitlines()) == 1
    outputs.collect(ident, ['compute_deployment', 'virtlogd_deployment'])
    outputs.assert_clean()

    # -- 4. delete -----------------------------------------------------------
    with phases('4 delete -> DELETE_COMPLETE'):
        cloud.cli('stack', 'delete', '--yes', ident)
        stack = cloud.wait_stack(ident, 'DELETE', WAIT)
    assert stack['stack_status'] == 'DELETE_COMPLETE', \
        failure_details(cloud, ident, node)
    log = node.log()
    # Heat asked "Nova" whether the server still exists before finishing
    # nova_virtlogd's DELETE (real-heat.md pitfall 1): that path ran.
    with open(os.path.join(cloud.state_dir, 'log', 'fake-nova.log')) as f:
        assert '/servers/' in f.read()
    # nova_virtlogd: its DELETE item reached the hook, which removed it.
    assert containers(docker_api, 'nova_virtlogd') == {}, log[-4000:]
    # nova_compute: no DELETE item (default actions); the deployment left
    # the metadata and the cleanup script removed its containers.
    assert containers(docker_api, 'nova_compute') == {}, log[-4000:]
    assert 'nova_compute' in log and 'no longer in' in log, log[-4000:]
    assert docker_api.inspect_container(foreign)['State']['Running']
    assert os.path.isfile(rendered)   # host data is never removed


def test_templates_validate(cloud):
    """Every template under etc/heat passes Heat's own validation."""
    for name in sorted(os.listdir(TEMPLATES)):
        if name.endswith('.yaml'):
            cloud.cli('orchestration', 'template', 'validate', '-t',
                      os.path.join(TEMPLATES, name))

