"""The lean GET of engine reads: HTTP/1.0 over a unix socket, stdlib only.

A tiny unix-socket server stands in for the transport only (status line,
headers, body framing); the real engine is exercised by every functional
test, whose runs all list containers this way.
"""

import os
import socket
import threading

import pytest

from tripleo_docker_hook import engine
from tripleo_docker_hook import errors


def serve(path, answer: bytes, seen: list):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        with conn:
            seen.append(conn.recv(4096))
            if answer:
                conn.sendall(answer)
        srv.close()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def sock(tmp_path):
    return str(tmp_path / 'docker.sock')


def get(sock, path='/containers/json', params=None, missing_ok=False):
    eng = engine.Engine(f'unix://{sock}', '1.41', timeout=5)
    return eng._get('list', path, params, missing_ok=missing_ok)


def test_plain_answer(sock):
    seen = []
    serve(sock, b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n'
          b'\r\n[{"Id": "abc"}]', seen)
    assert get(sock, params={'all': 1}) == (200, [{'Id': 'abc'}])
    assert seen[0].startswith(b'GET /v1.41/containers/json?all=1 '
                              b'HTTP/1.0\r\n')


def test_chunked_answer(sock):
    serve(sock, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
          b'5\r\n[{"Id\r\na;x=1\r\n": "abc"}]\r\n0\r\n\r\n', [])
    assert get(sock) == (200, [{'Id': 'abc'}])


def test_missing_ok_and_errors(sock, tmp_path):
    serve(sock, b'HTTP/1.0 404 Not Found\r\n\r\n{"message": "no such"}', [])
    assert get(sock, '/images/x/json', missing_ok=True) == (404, None)
    other = str(tmp_path / 'b.sock')
    serve(other, b'HTTP/1.0 500 Oops\r\n\r\n{"message": "boom"}', [])
    with pytest.raises(errors.EngineError, match='list: boom'):
        get(other)


@pytest.mark.parametrize('answer', [b'', b'garbage', b'HTTP/1.0 abc\r\n\r\n',
                                    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: '
                                    b'chunked\r\n\r\n5\r\nab'])
def test_malformed_answers_are_engine_errors(sock, answer):
    serve(sock, answer, [])
    with pytest.raises(errors.EngineError, match='cannot reach'):
        get(sock)


def test_unreachable_socket_is_an_engine_error(sock):
    assert not os.path.exists(sock)
    with pytest.raises(errors.EngineError, match='cannot reach'):
        get(sock)
