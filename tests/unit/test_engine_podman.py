"""engine.Engine's podman path over a unix socket serving recorded answers.

Pure of any engine: a tiny HTTP server on a unix socket answers as podman
4.3.1 does (headers and bodies recorded from it), so the branches that
decide which endpoint to read and when to run a health check are tested
here; the functional suite (tox -e functional-podman) proves them against
the real podman.
"""

import http.server
import json
import socketserver
import threading
import time

import pytest

from tripleo_docker_hook import engine as engine_mod

ID = 'c' * 64
PODMAN_HEADERS = {'Api-Version': '1.41', 'Libpod-Api-Version': '4.3.1',
                  'Server': 'Libpod/4.3.1 (linux)'}
DOCKER_HEADERS = {'Api-Version': '1.41',
                  'Server': 'Docker/20.10.24 (linux)'}


class Handler(http.server.BaseHTTPRequestHandler):
    def address_string(self):
        return 'unix'

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append(self.path)
        path = self.path.split('?')[0]
        health = srv.health
        if path == '/_ping':
            body = b'OK'
        elif path == '/v1.41/containers/json':
            body = json.dumps([{
                'Id': ID, 'Names': ['/svc'], 'ImageID': 'sha256:' + 'i' * 64,
                'State': 'running', 'Status': 'Up 2 seconds',
                'Labels': {'managed_by': 'x'}, 'Created': 1}]).encode()
        elif path == '/v4.0.0/libpod/containers/json':
            body = json.dumps([{
                'Id': ID, 'Names': ['svc'], 'ImageID': 'i' * 64,
                'State': 'running', 'Status': health, 'Exited': False,
                'ExitCode': 0, 'Labels': {'managed_by': 'x'},
                'Created': '2026-11-29T13:19:42.086038833Z'}]).encode()
        elif path == f'/v4.0.0/libpod/containers/{ID}/healthcheck':
            srv.health = 'healthy'
            body = b'{"Status":"healthy","FailingStreak":0,"Log":null}'
        elif path == f'/v1.41/containers/{ID}/json':
            body = json.dumps({
                'Id': ID, 'Config': {'Healthcheck': {
                    'Test': ['CMD-SHELL', 'true'], 'Interval': srv.interval}},
                'State': {'StartedAt': srv.started}}).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        for key, value in srv.headers.items():
            self.send_header(key, value)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def fake(tmp_path):
    def start(headers, health='starting', interval=100_000_000,
              started='2026-11-29T13:19:42.1Z'):
        srv = Server(str(tmp_path / 'engine.sock'), Handler)
        srv.headers, srv.health, srv.requests = headers, health, []
        srv.interval, srv.started = interval, started
        threading.Thread(target=srv.serve_forever, args=(0.02,),
                         daemon=True).start()
        servers.append(srv)
        return srv, engine_mod.Engine(f'unix://{tmp_path}/engine.sock')
    servers = []
    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def paths(srv):
    return [r.split('?')[0] for r in srv.requests]


def test_docker_pays_no_extra_request(fake):
    srv, engine = fake(DOCKER_HEADERS)
    (o,) = engine.list_containers()
    assert (o.name, o.health, engine.kind) == ('svc', '', 'docker')
    engine.list_containers('dep')
    assert paths(srv) == ['/v1.41/containers/json'] * 2


def test_podman_is_told_by_the_first_answer_then_libpod_list(fake):
    srv, engine = fake(PODMAN_HEADERS, health='healthy')
    (o,) = engine.list_containers()
    assert engine.kind == 'podman'
    assert (o.name, o.state, o.health) == ('svc', 'running', 'healthy')
    assert o.image_id == 'sha256:' + 'i' * 64
    engine.list_containers()
    assert paths(srv) == ['/v1.41/containers/json',
                          '/v4.0.0/libpod/containers/json',
                          '/v4.0.0/libpod/containers/json']


def test_kind_asked_with_one_ping_before_anything_else(fake):
    srv, engine = fake(PODMAN_HEADERS)
    assert engine.kind == 'podman'
    assert paths(srv) == ['/_ping']


def test_start_poll_runs_due_health_checks_only(fake):
    """The plan's list never runs a check; the start poll (a deployment
    filter) runs one once the interval passed since the start, and the
    container then reads healthy."""
    srv, engine = fake(PODMAN_HEADERS, interval=100_000_000)
    (o,) = engine.list_containers()
    assert o.health == 'starting'
    assert not any('healthcheck' in p for p in paths(srv))
    (o,) = engine.list_containers('dep')  # started long ago: due now
    assert o.health == 'healthy'
    assert paths(srv).count(
        f'/v4.0.0/libpod/containers/{ID}/healthcheck') == 1


def test_health_check_not_run_before_its_interval(fake):
    now = time.strftime('%Y-%m-%dT%H:%M:%S.5Z', time.gmtime())
    srv, engine = fake(PODMAN_HEADERS, interval=3600 * 10**9, started=now)
    (o,) = engine.list_containers('dep')
    assert o.health == 'starting'
    assert not any('healthcheck' in p for p in paths(srv))
