"""engine_compat: podman's answers in Docker's form (pure functions).

The podman documents below were recorded from podman 4.3.1's
Docker-compatible API (docker-py 7, API 1.41) for a container created with
the same arguments as the Docker one they are compared with.
"""

import pytest

from tripleo_docker_hook import engine
from tripleo_docker_hook import engine_compat


def podman_inspect():
    return {
        'Config': {
            'Image': 'localhost/tdh/busybox:latest',
            'Env': ['TERM=xterm', 'container=podman', 'A=1', 'B=x=y',
                    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:'
                    '/usr/bin:/sbin:/bin'],
            'StopSignal': '2', 'Entrypoint': [],
            'Healthcheck': {'Test': ['CMD-SHELL', 'true'],
                            'Interval': 2000000000, 'Timeout': 1000000000,
                            'Retries': 3},
            'Labels': {'a': 'b'}},
        'HostConfig': {
            'Binds': ['/etc:/cfg:ro,rslave,rbind',
                      '/tmp:/data:rw,rprivate,rbind'],
            'Ulimits': [{'Name': 'RLIMIT_NOFILE', 'Hard': 2048,
                         'Soft': 1024},
                        {'Name': 'RLIMIT_NPROC', 'Hard': 512, 'Soft': 512}],
            'CapAdd': [], 'LogConfig': {'Type': 'json-file',
                                        'Config': None},
            'NetworkMode': 'host'},
        'Mounts': [{'Type': 'bind', 'Source': '/tmp', 'Destination': '/data',
                    'Mode': '', 'RW': True, 'Propagation': 'rprivate'},
                   {'Type': 'bind', 'Source': '/etc', 'Destination': '/cfg',
                    'Mode': '', 'RW': False, 'Propagation': 'rslave'}],
        'State': {'Status': 'created',
                  'Health': {'Status': '', 'FailingStreak': 0, 'Log': None}},
    }


def test_docker_view_gives_dockers_form():
    info = engine_compat.docker_view(podman_inspect())
    config, host = info['Config'], info['HostConfig']
    assert config['Image'] == 'tdh/busybox:latest'
    assert 'container=podman' not in config['Env']
    assert {'A=1', 'B=x=y'} <= set(config['Env'])
    assert config['StopSignal'] == 'SIGINT'
    assert config['Entrypoint'] is None
    assert sorted(host['Binds']) == ['/etc:/cfg:ro,rslave', '/tmp:/data:rw']
    assert [u['Name'] for u in host['Ulimits']] == ['nofile', 'nproc']
    assert host['CapAdd'] is None
    assert host['LogConfig'] == {'Type': 'json-file', 'Config': {}}
    assert [m['Mode'] for m in info['Mounts']] == ['rw', 'ro,rslave']
    assert info['State']['Health'] is None


def test_docker_view_disabled_health_check():
    info = podman_inspect()
    info['Config']['Healthcheck'] = {'Test': ['NONE'], 'Interval': 30 * 10**9,
                                     'Timeout': 30 * 10**9, 'Retries': 3}
    info = engine_compat.docker_view(info)
    assert info['Config']['Healthcheck'] == {'Test': ['NONE']}


def test_docker_view_keeps_a_docker_document():
    docker = {'Config': {'Image': 'tdh/busybox:latest', 'Env': ['A=1'],
                         'StopSignal': 'SIGINT', 'Entrypoint': None},
              'HostConfig': {'Binds': ['/tmp:/data:rw'], 'Ulimits': None,
                             'CapAdd': None,
                             'LogConfig': {'Type': 'json-file',
                                           'Config': {}}},
              'Mounts': [{'Type': 'bind', 'Mode': 'rw', 'RW': True}],
              'State': {'Health': {'Status': 'healthy'}}}
    import copy
    assert engine_compat.docker_view(copy.deepcopy(docker)) == docker


@pytest.mark.parametrize('value,want', [
    ('2', 'SIGINT'), ('15', None), ('SIGINT', 'SIGINT'), (None, None),
    ('', None), ('34', 'SIGRTMIN'), ('999', '999')])
def test_stop_signal(value, want):
    assert engine_compat.stop_signal(value) == want


@pytest.mark.parametrize('headers,kind', [
    ({'Api-Version': '1.41', 'Libpod-Api-Version': '4.3.1',
      'Server': 'Libpod/4.3.1 (linux)'}, 'podman'),
    ({'libpod-api-version': '4.3.1'}, 'podman'),
    ({'Server': 'Libpod/5.0.0 (linux)'}, 'podman'),
    ({'Api-Version': '1.41', 'Server': 'Docker/20.10.24 (linux)',
      'Docker-Experimental': 'false'}, 'docker'),
    ({}, 'docker')])
def test_kind_from_headers(headers, kind):
    assert engine_compat.kind_from_headers(headers) == kind


@pytest.mark.parametrize('status,message,want', [
    (500, 'container create: creating container storage: the container '
          'name "x" is already in use by 6dcb. You have to remove that '
          'container to be able to reuse that name: that name is already '
          'in use', 409),
    (500, 'cannot remove container 6dcb as it is running - running or '
          'paused containers cannot be removed without force: container '
          'state improper', 409),
    (500, 'container 6dcb has dependent containers which must be removed '
          'before it: 9f1e: container already exists', 409),
    (500, 'runc create failed', 500),
    (409, 'Conflict. The container name "/x" is already in use', 409),
    (404, 'no such container', 404)])
def test_podman_conflicts_are_409(status, message, want):
    assert engine_compat.status_code(status, message) == want


LIBPOD_ENTRY = {
    'AutoRemove': False, 'Command': ['sleep', '100'],
    'Created': '2026-11-29T13:19:42.086038833Z', 'Exited': False,
    'ExitedAt': -62135596800, 'ExitCode': 0,
    'Id': '01cd65784df9c0f2e45c88de1c7718d606e1d1fccd13fffc3dcda28380a2e2a3',
    'Image': 'localhost/tdh/busybox:latest',
    'ImageID': 'b82c23158de6859470aa14c1e37de143836508acee126e1185e4656eb4'
               '72832b',
    'Labels': {'a': 'b'}, 'Names': ['probe-x2h'], 'StartedAt': 1795958382,
    'State': 'running', 'Status': 'healthy'}


def test_libpod_list_entry_as_docker_would_report_it():
    o = engine_compat.observed_from_libpod(LIBPOD_ENTRY)
    docker = engine.observed_from_list({
        'Id': LIBPOD_ENTRY['Id'], 'Names': ['/probe-x2h'],
        'ImageID': 'sha256:' + LIBPOD_ENTRY['ImageID'], 'State': 'running',
        'Status': 'Up 2 seconds (healthy)', 'Labels': {'a': 'b'},
        'Created': 1795958382, 'Image': 'tdh/busybox:latest'})
    assert o == docker
    assert o.image == 'tdh/busybox:latest'  # ctl list's image column


@pytest.mark.parametrize('state,exited,code,want_state,want_code', [
    ('exited', True, 3, 'exited', 3),
    ('stopped', True, 137, 'exited', 137),
    ('configured', False, 0, 'created', None),
    ('created', False, 0, 'created', None),
    ('stopping', False, 0, 'running', None),
    ('paused', False, 0, 'paused', None)])
def test_libpod_states(state, exited, code, want_state, want_code):
    o = engine_compat.observed_from_libpod(dict(
        LIBPOD_ENTRY, State=state, Exited=exited, ExitCode=code, Status=''))
    assert (o.state, o.exit_code, o.health) == (want_state, want_code, '')


def test_image_ids_and_times():
    assert engine_compat.image_id('abc') == 'sha256:abc'
    assert engine_compat.image_id('sha256:abc') == 'sha256:abc'
    assert engine_compat.image_id(None) == ''
    assert engine_compat.epoch('2026-11-29T13:19:42.086038833Z') == \
        1795958382
    assert engine_compat.epoch('2026-11-29T13:19:42Z') == 1795958382
    assert engine_compat.epoch(12) == 12
    assert engine_compat.epoch('') == 0
    assert engine_compat.epoch('garbage') == 0


def test_health_schedule_follows_dockers():
    """First check one interval after the start (never early, though
    libpod rounds the start down), then every interval; 0 is 30 s."""
    s = engine_compat.HealthSchedule()
    assert not s.due('c', 2.0, started=100, now=102.5)
    assert s.due('c', 2.0, started=100, now=103.0)
    s.ran('c', 2.0, now=103.1)
    assert not s.due('c', 2.0, started=100, now=105.0)
    assert s.due('c', 2.0, started=100, now=105.1)
    assert not s.due('d', 0, started=100, now=130.9)
    assert s.due('d', 0, started=100, now=131)
