"""The agents container: the node's whole agent chain inside the image.

``tools/build-agents-image.sh`` builds ``tdh/agents:latest`` (a no-op when
it is current).  The container is started with the ``ExecStart`` of
``etc/systemd/tripleo-docker-agents.service`` itself (privileged, host
network and PID namespace, the Engine's socket, every mount), only with
each host path moved under the test's directory, still at the SAME path on
both sides: the hook hands those paths to the Engine as bind-mount sources.
Inside, the image's own os-refresh-config tree runs: 20-os-apply-config,
our 50-heat-config-tripleo-docker-hook, heat-agents' 55-heat-config, the
hook at /usr/libexec/heat-config/hooks and heat-config-notify, which
reaches the test's 127.0.0.1 signal server over the host network.
"""

import json
import os
import shlex
import subprocess
from urllib import parse

import pytest

from tests import helpers

REPO = os.path.join(os.path.dirname(__file__), '..', '..')
UNIT = os.path.join(REPO, 'etc', 'systemd', 'tripleo-docker-agents.service')
AGENTS = os.environ.get('TDH_AGENTS_IMAGE', 'tdh/agents:latest')
SOCKET = '/var/run/docker.sock'

pytestmark = pytest.mark.skipif(
    helpers.ENGINE == 'podman',
    reason='the agents container is the Docker delivery: its systemd unit '
    'runs it with the docker CLI against the daemon socket '
    '/var/run/docker.sock; on a podman host the hook runs from the host\'s '
    'heat-config against the podman API socket (tox -e functional-podman '
    'covers that path)')


def unit_exec_start():
    """The unit's ``ExecStart`` as words (continuation lines joined)."""
    with open(UNIT) as f:
        text = f.read().replace('\\\n', ' ')
    [line] = [x for x in text.splitlines() if x.startswith('ExecStart=')]
    return shlex.split(line[len('ExecStart='):])


def unit_command(root, name, image, env, args):
    """The unit's ``docker run`` with its host paths moved under ``root``.

    Fails when a mount is not at the same path on both sides, the rule the
    whole container depends on.  Returns ``(command, host paths)``.
    """
    words = unit_exec_start()
    assert words[:2] == ['/usr/bin/docker', 'run'], words
    command, paths, i = ['docker', 'run'], [], 2
    while i < len(words):
        word = words[i]
        if word == '--name':
            command += ['--name', name]
            i += 2
        elif word in ('-v', '--volume') and \
                words[i + 1].split(':')[:2] == ['/', '/host']:
            # The host's root stays the real one: hostPath checks and
            # creation go through it to the paths Docker binds.
            command += [word, words[i + 1]]
            i += 2
        elif word in ('-v', '--volume'):
            source, target, *mode = words[i + 1].split(':')
            assert source == target, words[i + 1]
            if source != SOCKET:
                source = target = f'{root}{source}'
                paths.append(source)
            command += [word, ':'.join([source, target] + mode)]
            i += 2
        elif word == '--mount':
            fields = dict(f.split('=', 1) if '=' in f else (f, '')
                          for f in words[i + 1].split(','))
            assert fields['source'] == fields['target'], words[i + 1]
            fields['source'] = fields['target'] = root + fields['target']
            paths.append(fields['source'])
            command += [word, ','.join(f'{k}={v}' if v else k
                                       for k, v in fields.items())]
            i += 2
        elif word == '${TDH_AGENTS_IMAGE}':
            assert words[i + 1:] == ['os-collect-config'], words[i:]
            for key, value in env.items():
                command += ['-e', f'{key}={value}']
            return command + [image, 'os-collect-config'] + list(args), paths
        else:
            command.append(word)
            i += 1
    raise AssertionError(f'no ${{TDH_AGENTS_IMAGE}} in {words}')


def test_unit_mounts_at_same_paths():
    """The unit's mounts, each at the same path (no Docker needed)."""
    command, paths = unit_command('/x', 'n', 'img', {}, ())
    assert {p[2:] for p in paths} >= {
        '/var/lib/config-data', '/var/lib/kolla/config_files',
        '/var/lib/tripleo-docker-hook', '/var/lib/heat-config',
        '/var/lib/os-collect-config', '/etc/puppet',
        '/etc/os-collect-config.conf', '/etc/tripleo-docker-hook'}
    assert f'{SOCKET}:{SOCKET}' in command
    for flag in ('--privileged', '--rm'):
        assert flag in command
    assert command[command.index('--net') + 1] == 'host'


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
def agents(tmp_path, deployment, agents_image, docker_api):
    """``agents(deployments)``: one os-collect-config cycle in the image.

    Each call is a fresh container, as after a restart of the unit: what
    must survive (the hook's state, heat-config's deployed markers,
    os-collect-config's cache) lives in the mounted directories.
    """
    root = str(tmp_path / 'host')
    name = f'{deployment}-agents'
    occ_conf = f'{root}/etc/os-collect-config.conf'
    hook_conf = f'{root}/etc/tripleo-docker-hook/tripleo-docker-hook.conf'
    env = {
        # os-collect-config's local collector restores getlocale(), which
        # maps C.UTF-8 to an en_US.UTF-8 the image lacks: plain C.
        'LC_ALL': 'C', 'LANG': 'C',
        # What the defaults (/etc/..., /var/lib/...) are on a node.
        'TRIPLEO_DOCKER_HOOK_CONFIG': hook_conf,
        'HEAT_CONFIG_DEPLOYED': f'{root}/var/lib/heat-config/deployed',
    }
    command, paths = unit_command(
        root, name, agents_image, env,
        ['--one-time', '--force', '--config-file', occ_conf])
    for path in paths:   # the unit's ExecStartPre
        if path != occ_conf:
            os.makedirs(path, exist_ok=True)
    # The local collector stands in for Heat; its default directory is
    # under a mount the unit has.
    local = f'{root}/var/lib/os-collect-config/local-data'
    os.makedirs(local)
    with open(occ_conf, 'w') as f:
        f.write('[DEFAULT]\ncommand = os-refresh-config\n'
                f'cachedir = {root}/var/lib/os-collect-config\n'
                'collectors = local\n'
                f'[local]\npath = {local}\n')
    helpers.write_conf(
        tmp_path / 'hook.conf',
        state_dir=f'{root}/var/lib/tripleo-docker-hook',
        config_data_dir=f'{root}/var/lib/config-data',
        kolla_config_dir=f'{root}/var/lib/kolla/config_files',
        puppet__modules_dir=f'{root}/etc/puppet/modules',
        puppet__hieradata_dir=f'{root}/etc/puppet/hieradata',
        puppet__hiera_config=f'{root}/etc/puppet/hiera.yaml')
    os.replace(tmp_path / 'hook.conf', hook_conf)

    def run(deployments):
        with open(f'{local}/heat.json', 'w') as f:
            json.dump({'deployments': deployments}, f)
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return proc.stderr

    run.root = root
    yield run
    subprocess.run(['docker', 'rm', '-f', name], capture_output=True)


def _service_containers(api, deployment):
    return api.containers(all=True,
                          filters={'label': f'deployment={deployment}'})


def _token(path):
    return parse.parse_qs(parse.urlsplit(path).query)['temp_url_sig'][0]


def _pod_doc(name, host_file, server, token):
    """A Pod with a FileOrCreate hostPath (created through /host).

    FileOrCreate, because dockerd would make a missing bind source a
    directory: a regular file on the host proves the hook created it there.
    """
    return helpers.signalled(helpers.make_doc(name, {
        'apiVersion': 'v1', 'kind': 'Pod',
        'metadata': {'name': name},
        'spec': {'hostNetwork': True,
                 'volumes': [{'name': 'data', 'hostPath': {
                     'path': host_file, 'type': 'FileOrCreate'}}],
                 'containers': [{
                     'name': 'svc', 'image': helpers.BUSYBOX,
                     'imagePullPolicy': 'IfNotPresent',
                     'command': helpers.SLEEP_FOREVER,
                     'volumeMounts': [{'name': 'data',
                                       'mountPath': '/data/f'}]}]}}),
        server, token)


def _service_doc(name, server, token):
    return helpers.signalled(helpers.make_doc(name, {'docker_config': {
        'step_1': {f'{name}-svc': {'image': helpers.BUSYBOX, 'net': 'host',
                                   'command': helpers.SLEEP_FOREVER}}}}),
        server, token)


def test_agents_container_deploys_signals_and_cleans_up(
        docker_api, deployment, agents, signal_server, tmp_path):
    keep = f'{deployment}-keep'
    pod = f'{deployment}-pod'
    (tmp_path / 'pod-data').mkdir()
    host_file = str(tmp_path / 'pod-data' / 'made-by-the-hook')
    try:
        doc = _service_doc(deployment, signal_server, 'tok-gone')
        kept = _service_doc(keep, signal_server, 'tok-keep')
        pod_doc = _pod_doc(pod, host_file, signal_server, 'tok-pod')

        log = agents([doc, kept, pod_doc])
        # The image's hook ran (not the host's), through heat-agents'
        # runner, and heat-config-notify reached 127.0.0.1.
        assert '/usr/libexec/heat-config/hooks/tripleo-docker-hook' in log, \
            log[-4000:]
        signals = {_token(path): body
                   for _, path, body in signal_server.received}
        assert sorted(signals) == ['tok-gone', 'tok-keep', 'tok-pod'], \
            log[-4000:]
        assert all(b['deploy_status_code'] == 0 for b in signals.values()), \
            signals
        [container] = _service_containers(docker_api, deployment)
        labels = container['Labels']
        assert labels['managed_by'] == 'tripleo-docker-hook'
        assert labels['container_name'] == f'{deployment}-svc'
        assert container['Names'] == [f'/{deployment}-svc']
        assert container['State'] == 'running'
        [kept_container] = _service_containers(docker_api, keep)
        # The Pod's FileOrCreate was made on the host (through the unit's
        # /host mount), and is what the container got.
        assert os.path.isfile(host_file)
        [pod_container] = _service_containers(docker_api, pod)
        assert pod_container['State'] == 'running'
        assert {m['Source'] for m in pod_container['Mounts']} == {host_file}
        # heat-config's marker landed in the mounted directory: it survives
        # the agents container (the next run is a fresh container).
        assert os.path.isfile(
            f'{agents.root}/var/lib/heat-config/deployed/{doc["id"]}.json')

        # A fresh agents container; Heat dropped the first deployment from
        # the metadata: the image's cleanup script (configure.d/50-...)
        # removes its containers, using the state the previous container
        # left; the other one is already deployed and untouched.
        log = agents([kept, pod_doc])
        assert _service_containers(docker_api, deployment) == [], \
            log[-4000:]
        assert [c['Id'] for c in _service_containers(docker_api, keep)] \
            == [kept_container['Id']]
        assert len(signal_server.received) == 3
    finally:
        from tests.functional.conftest import remove_deployment
        remove_deployment(docker_api, keep)
        remove_deployment(docker_api, pod)


def test_hook_in_image_answers_one_json_object_for_garbage(agents_image):
    proc = subprocess.run(
        ['docker', 'run', '--rm', '-i', agents_image, 'tripleo-docker-hook'],
        input='not json {', capture_output=True, text=True, timeout=120)
    answer = json.loads(proc.stdout)
    assert proc.stdout.count('\n') == 1 and proc.stdout.endswith('\n'), \
        proc.stdout
    assert answer['deploy_status_code'] == proc.returncode != 0, answer
    assert 'JSON' in answer['deploy_stderr'], answer
