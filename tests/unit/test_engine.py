"""engine: docker-py accepts docker_spec's arguments; list parsing."""

import contextlib

import pytest

from tripleo_docker_hook import docker_spec
from tripleo_docker_hook import engine
from tripleo_docker_hook import errors
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
def test_docker_py_accepts_every_argument(container):
    """docker_spec's arguments are valid docker-py input, and arrive."""
    kwargs, host = docker_spec.create_args(container, container.name,
                                           {'managed_by': 'x'})
    config = _docker_py(kwargs, host)
    assert config['Image'] == 'tdh/busybox:latest'
    assert config['HostConfig']['NetworkMode'] == 'host'
    assert config['Labels'] == {'managed_by': 'x'}
    if container is FULL:
        hc = config['HostConfig']
        assert hc['Binds'] == ['/srv:/data:ro,rslave,z']
        assert hc['Tmpfs'] == {'/run/x': ''}
        assert hc['RestartPolicy'] == {'Name': 'on-failure',
                                       'MaximumRetryCount': 3}
        assert hc['Ulimits'] == [{'Name': 'nofile', 'Soft': 1024,
                                  'Hard': 2048}]
        assert hc['Memory'] == 1 << 28 and hc['CpuShares'] == 512
        assert config['Healthcheck'] == {
            'Test': ['CMD-SHELL', 'true'], 'Interval': 2_000_000_000,
            'Timeout': 1_000_000_000, 'Retries': 3,
            'StartPeriod': 1_500_000_000}
        assert config['Entrypoint'] == ['sh', '-c']
        assert config['Cmd'] == ['sleep 1']
        assert config['Env'] == ['A=1', 'B=x=y']
        assert config['StopTimeout'] == 7


@pytest.mark.parametrize('status, state, code, health', [
    ('Up 3 seconds', 'running', None, ''),
    ('Up 3 seconds (healthy)', 'running', None, 'healthy'),
    ('Up 1 second (health: starting)', 'running', None, 'starting'),
    ('Exited (137) 2 minutes ago', 'exited', 137, ''),
    ('Created', 'created', None, ''),
])
def test_observed_from_list(status, state, code, health):
    observed = engine.observed_from_list({
        'Id': 'abc', 'Names': ['/web'], 'ImageID': 'sha256:1',
        'State': state, 'Status': status,
        'Labels': {'managed_by': 'tripleo-docker-hook'}, 'Created': 5})
    assert (observed.name, observed.state, observed.exit_code,
            observed.health) == ('web', state, code, health)
    assert observed.managed


# -- the engine boundary: typed errors, timeouts, one retry policy ----------

class _Response:
    def __init__(self, status):
        self.status_code = status
        self.reason = 'x'
        self.url = 'http://docker/x'


@pytest.mark.parametrize('status, cls', [
    (404, 'EngineNotFound'), (409, 'EngineConflict'),
    (500, 'EngineFailed'), (400, 'EngineFailed')])
def test_api_errors_are_typed_by_status(status, cls):
    from docker import errors as docker_errors
    eng = engine.Engine('unix:///nonexistent.sock')
    exc = docker_errors.APIError('boom', _Response(status), 'said no')
    typed = eng._typed('start x', exc)
    assert type(typed).__name__ == cls
    assert isinstance(typed, errors.EngineError)
    assert typed.status_code == status
    assert str(typed) == 'start x: said no'


def test_timeouts_and_unreachable_are_typed():
    import requests
    eng = engine.Engine('unix:///nonexistent.sock')
    assert isinstance(eng._typed('stop x', requests.exceptions.ReadTimeout(
        'read timed out')), errors.EngineTimeout)
    # urllib3 reports a timed-out body read as a connection error
    assert isinstance(eng._typed('stop x', requests.exceptions.ConnectionError(
        'Read timed out.')), errors.EngineTimeout)
    assert isinstance(eng._typed('stop x', requests.exceptions.ConnectionError(
        'Connection refused')), errors.EngineUnreachable)


def test_unreachable_socket_through_both_paths(tmp_path):
    """The stdlib read path and docker-py's path agree on the type."""
    url = f'unix://{tmp_path}/no.sock'
    with pytest.raises(errors.EngineUnreachable, match='cannot reach'):
        engine.Engine(url).list_containers()
    with pytest.raises(errors.EngineUnreachable, match='cannot reach'):
        engine.Engine(url).start('x')
    with pytest.raises(errors.EngineUnreachable):
        engine.Engine(url, version='auto').list_containers()


def test_silent_socket_is_a_timeout(tmp_path):
    """An engine that accepts and never answers: a typed timeout."""
    import socket
    path = str(tmp_path / 'silent.sock')
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    try:
        eng = engine.Engine(f'unix://{path}', timeout=0.3)
        with pytest.raises(errors.EngineTimeout):
            eng.list_containers()
        with pytest.raises(errors.EngineTimeout):
            eng.stop('x', timeout=0)
        with pytest.raises(errors.EngineTimeout, match='still running'):
            eng.wait('x', timeout=0.3)
        with pytest.raises(errors.EngineTimeout):   # docker-py waits forever
            eng.pull('tdh/busybox:latest')
        with pytest.raises(errors.EngineTimeout):   # version negotiation
            engine.Engine(f'unix://{path}', version='auto',
                          timeout=0.3).list_containers()
    finally:
        server.close()


@pytest.mark.parametrize('exc, transient', [
    (errors.EngineTimeout('t'), True),
    (errors.EngineUnreachable('u'), True),
    (errors.EngineFailed('pull x: dial tcp: connection refused', 500), True),
    (errors.EngineFailed('pull x: stream broke'), True),
    (errors.EngineNotFound('pull x: manifest unknown', 404), False),
    (errors.EngineFailed('pull x: denied', 403), False),
    (errors.EngineFailed('pull x: pull access denied', 500), False),
    (errors.EngineConflict('c', 409), False),
])
def test_pull_retry_policy(exc, transient):
    assert engine.pull_is_transient(exc) is transient


def test_pull_retries_transient_then_succeeds(monkeypatch):
    monkeypatch.setattr(engine, 'PULL_BACKOFF', 0.001)
    eng = engine.Engine('unix:///nonexistent.sock')
    calls = []

    def once(ref):
        calls.append(ref)
        if len(calls) < 3:
            raise errors.EngineFailed('pull: registry 502', 502)
        return 'sha256:ok'

    monkeypatch.setattr(eng, '_pull_once', once)
    assert eng.pull('img:1', retries=3) == 'sha256:ok'
    assert len(calls) == 3


@pytest.mark.parametrize('retries, exc, attempts', [
    (2, errors.EngineFailed('pull: registry 502', 502), 3),
    (5, errors.EngineNotFound('pull: manifest unknown', 404), 1),
    (0, errors.EngineTimeout('pull: t'), 1),
])
def test_pull_gives_up_with_the_last_error(monkeypatch, retries, exc,
                                           attempts):
    monkeypatch.setattr(engine, 'PULL_BACKOFF', 0.001)
    eng = engine.Engine('unix:///nonexistent.sock')
    calls = []

    def once(ref):
        calls.append(ref)
        raise exc

    monkeypatch.setattr(eng, '_pull_once', once)
    with pytest.raises(type(exc)):
        eng.pull('img:1', retries=retries)
    assert len(calls) == attempts


def test_config_image_pulls_use_the_same_policy(monkeypatch):
    from tripleo_docker_hook import puppet
    seen = []

    class Eng:
        def pull(self, ref, retries=0):
            seen.append((ref, retries))
            return 'sha256:x'

    puppet._pull(Eng(), 'cfg:1', 4)
    assert seen == [('cfg:1', 4)]


def test_public_methods_document_args_returns_raises():
    import inspect
    for name, func in inspect.getmembers(engine.Engine,
                                         inspect.isfunction):
        if name.startswith('_') or name == 'from_conf':
            continue
        doc = inspect.getdoc(func) or ''
        assert 'Raises:' in doc, name


@contextlib.contextmanager
def _engine_socket(tmp_path, handler):
    """A fake engine: ``handler`` (an HTTP request handler) serving on a
    Unix socket under ``tmp_path``; yields the socket's path."""
    import socketserver
    import threading

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

        def get_request(self):
            conn, _ = super().get_request()
            return conn, ('local', 0)

    path = str(tmp_path / 'engine.sock')
    server = Server(path, handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield path
    finally:
        server.shutdown()
        server.server_close()


def test_pull_error_inside_a_200_stream_is_typed(tmp_path):
    """The daemon reports a failure after the pull started as an "error"
    item of its progress stream, with status 200."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def do_POST(self):
            body = (b'{"status":"Pulling from tdh/busybox"}\r\n'
                    b'{"errorDetail":{"message":"unexpected EOF"},'
                    b'"error":"unexpected EOF"}\r\n')
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            for line in body.splitlines(keepends=True):
                self.wfile.write(b'%x\r\n%s\r\n' % (len(line), line))
            self.wfile.write(b'0\r\n\r\n')

        def log_message(self, *args):
            pass

    with _engine_socket(tmp_path, Handler) as path:
        eng = engine.Engine(f'unix://{path}', timeout=5)
        with pytest.raises(errors.EngineFailed, match='unexpected EOF'):
            eng.pull('tdh/busybox:latest')


def test_exec_output_is_streamed_and_only_its_tail_kept():
    """An exec printing without end: the hook keeps the last MiB, not
    everything (exec_start without a stream buffered it all)."""
    import tracemalloc
    eng = engine.Engine('unix:///nonexistent.sock')

    class Client:
        def exec_create(self, *args, **kwargs):
            return {'Id': 'e1'}

        def exec_start(self, exec_id, stream=False):
            assert stream, 'the output must be streamed'

            def chunks():
                for _ in range(256):            # 256 MiB in all
                    yield b'y\n' * (1 << 19)
                yield b'LAST-LINE\n'
            return chunks()

        def exec_inspect(self, exec_id):
            return {'ExitCode': 0, 'ContainerID': 'c1'}

    eng._client = Client()
    tracemalloc.start()
    try:
        code, out, cid = eng.exec_run('svc', ['yes'], timeout=60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (code, cid) == (0, 'c1')
    assert out.endswith('y\nLAST-LINE\n')
    assert out.startswith('[... ') and 'bytes cut ...]' in out
    assert len(out) <= engine.MAX_EXEC_OUTPUT_BYTES + 100
    assert peak < 16 << 20


def test_exec_stream_through_docker_py(tmp_path):
    """docker-py's own framing (8-byte headers, stdout and stderr frames)
    against an engine socket that speaks the exec protocol: the output is
    read as a stream, both streams kept in order, the tail kept."""
    import http.server
    import json as _json
    import struct
    import time

    big = b'z' * (3 << 20)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def _json(self, data, status=200):
            body = _json.dumps(data).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get('Content-Length') or 0)
            self.rfile.read(length)
            if self.path.endswith('/exec'):
                return self._json({'Id': 'e1'}, 201)
            # As dockerd: 101, then the raw stream on the hijacked socket
            # (after a pause: the client reads the stream from the socket,
            # not from the buffer that read the headers).
            self.send_response(101, 'UPGRADED')
            self.send_header('Content-Type',
                             'application/vnd.docker.raw-stream')
            self.send_header('Connection', 'Upgrade')
            self.send_header('Upgrade', 'tcp')
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.3)
            for stream, data in ((1, b'first\n'), (2, b'err-line\n'),
                                 (1, big), (1, b'\nLAST\n')):
                for i in range(0, len(data), 65536):
                    part = data[i:i + 65536]
                    self.wfile.write(struct.pack('>BxxxL', stream,
                                                 len(part)) + part)
            self.wfile.flush()
            self.close_connection = True

        def do_GET(self):
            self._json({'ExitCode': 7, 'ContainerID': 'c1'})

        def log_message(self, *args):
            pass

    with _engine_socket(tmp_path, Handler) as path:
        eng = engine.Engine(f'unix://{path}', timeout=10)
        code, out, cid = eng.exec_run('svc', ['sh'], timeout=30)
    assert (code, cid) == (7, 'c1')
    assert out.endswith('z\nLAST\n')
    assert out.startswith('[... ') and 'first' not in out
    assert len(out) < engine.MAX_EXEC_OUTPUT_BYTES + 100


class _StopClient:
    """docker-py's stop and inspect, recorded."""

    def __init__(self, stop_timeout=None):
        self.calls = []
        self.stop_timeout = stop_timeout

    def inspect_container(self, name):
        self.calls.append(('inspect', name))
        return {'Config': {'StopTimeout': self.stop_timeout}}

    def stop(self, name, timeout=None):
        self.calls.append(('stop', name, timeout))


@pytest.mark.parametrize('kind,timeout,engine_default,own,calls', [
    # the label's seconds: sent as t, nothing read
    ('docker', 16, False, None, [('stop', 'c', 16)]),
    # labelled "default" on Docker: its 10 s, nothing read
    ('docker', None, True, None, [('stop', 'c', 10)]),
    # podman's default is its containers.conf's: read
    ('podman', None, True, 30, [('inspect', 'c'), ('stop', 'c', 30)]),
    # no label (created before it): read, on both engines
    ('docker', None, False, 45, [('inspect', 'c'), ('stop', 'c', 45)]),
    ('docker', None, False, None, [('inspect', 'c'), ('stop', 'c', 10)]),
])
def test_stop_reads_the_stop_timeout_only_when_unknown(
        kind, timeout, engine_default, own, calls):
    eng = engine.Engine('unix:///nonexistent.sock')
    eng._kind = kind
    eng._client = client = _StopClient(own)
    eng.stop('c', timeout, engine_default=engine_default)
    assert client.calls == calls
