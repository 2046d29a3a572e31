"""The stdlib create body matches docker-py's own translation."""

import pytest

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import engine
from tripleo_docker_hook import model


def _clean(data):
    return {k: v for k, v in data.items()
            if v not in (None, False, [], {}, '')}


def _docker_py(kwargs, host):
    import docker
    client = docker.APIClient(version='1.41')
    hc = client.create_host_config(**host)
    args = {k: v for k, v in kwargs.items() if k != 'name'}
    args.setdefault('command', None)
    config = dict(client.create_container_config(host_config=hc, **args))
    config['HostConfig'] = _clean(dict(config['HostConfig']))
    if config.get('Healthcheck'):
        config['Healthcheck'] = dict(config['Healthcheck'])
    return _clean(config)


FULL = model.Container(
    name='full', image='tdh/busybox:latest', entrypoint=('sh', '-c'),
    command=('sleep 1',), environment=(('A', '1'), ('B', 'x=y')),
    working_dir='/tmp', user='root', privileged=True, pid_mode='host',
    ipc_mode='host', uts_mode='host', cap_add=('NET_ADMIN',),
    cap_drop=('MKNOD',), security_opt=('label=disable',), read_only=True,
    group_add=('wheel',), restart_policy='on-failure',
    restart_max_retries=3, stop_timeout=7, stop_signal='SIGINT',
    healthcheck=model.HealthCheck(test=('CMD-SHELL', 'true'), interval=2,
                                  timeout=1, retries=3, start_period=1.5),
    resources=model.Resources(cpu_shares=512, cpu_quota=50000,
                              cpu_period=100000, cpuset_cpus='0',
                              mem_limit=1 << 28, memswap_limit=1 << 29,
                              mem_reservation=1 << 27, shm_size=1 << 26,
                              oom_score_adj=-100),
    ulimits=(model.Ulimit('nofile', 1024, 2048),), tty=True,
    stdin_open=True, extra_hosts=('h:127.0.0.1',), log_tag='t',
    mounts=(model.Mount('/data', '/srv', read_only=True,
                        propagation='rslave', selinux_relabel='z'),
            model.Mount('/run/x', type='tmpfs')))


@pytest.mark.parametrize('container', [
    model.Container(name='min', image='tdh/busybox:latest'), FULL])
def test_body_matches_docker_py(container):
    kwargs, host = docker_spec.create_args(container, container.name,
                                           {'managed_by': 'x'})
    body = engine.api_body(kwargs, host)
    assert body is not None
    mine = _clean(dict(body, HostConfig=_clean(body['HostConfig'])))
    assert mine == _docker_py(kwargs, host)


def test_unknown_argument_falls_back_to_docker_py():
    kwargs, host = docker_spec.create_args(FULL, 'full', {})
    assert engine.api_body(dict(kwargs, ports=[80]), host) is None
    assert engine.api_body(kwargs, dict(host, devices=['/dev/x'])) is None


def test_demux_log_frames():
    frames = (b'\x01\x00\x00\x00\x00\x00\x00\x03hi\n'
              b'\x02\x00\x00\x00\x00\x00\x00\x04err\n')
    assert engine.demux(frames) == b'hi\nerr\n'
    assert engine.demux(b'plain tty output\n') == b'plain tty output\n'
    assert engine.demux(b'') == b''
