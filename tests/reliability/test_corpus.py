"""Every document of the corpus: one JSON object, the documented status,
an error line starting with the field path, no secret, the host
unchanged, within a time and memory bound checked here.

The hook runs as heat-config runs it (a process, the deployment on
stdin) under ``RLIMIT_AS``/``RLIMIT_CPU`` and a wall-clock timeout; its
own resource use is read with ``wait4``.
"""

import json
import os
import resource
import subprocess
import threading
import time

import pytest

from tests import helpers
from tests.reliability import sentinels

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')
EXPECTED = json.load(open(os.path.join(CORPUS, 'expected.json')))

#: The bounds every bad document is answered within.
WALL_SECONDS = 20
CPU_SECONDS = 15
ADDRESS_SPACE = 1536 * 1024 * 1024
MAX_RSS_KIB = 256 * 1024


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run_bounded(stdin: bytes, env: dict, wall_seconds: int = WALL_SECONDS):
    """``(stdout, stderr, returncode, wall s, cpu s, max RSS KiB)`` of
    one hook run under the limits; fails the test on a timeout."""
    start = time.monotonic()
    proc = subprocess.Popen(helpers.hook_command(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, preexec_fn=_limits)
    result = {}

    def pump(name, stream):
        result[name] = stream.read()

    def feed():
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass

    threads = [threading.Thread(target=feed),
               threading.Thread(target=pump, args=('out', proc.stdout)),
               threading.Thread(target=pump, args=('err', proc.stderr))]
    for t in threads:
        t.start()
    timer = threading.Timer(wall_seconds, proc.kill)
    timer.start()
    try:
        # wait4, not wait: the child's own CPU time and peak RSS.
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    assert wall < wall_seconds, f'no answer within {wall_seconds} s'
    return (result['out'], result['err'], proc.returncode, wall,
            usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def _snapshot_host(docker_api, dirs):
    # Created or removed, renamed: what the hook could do.  (Not the
    # state: a crash-looping container of someone else's flips it.)
    containers = sorted((c['Id'], tuple(c['Names']))
                        for c in docker_api.containers(all=True))
    files = []
    for d in dirs:
        for root, subdirs, names in os.walk(d):
            files += [os.path.join(root, n) for n in names + subdirs]
    return containers, sorted(files)


@pytest.fixture(scope='module')
def placeholders(tmp_path_factory):
    base = tmp_path_factory.mktemp('corpus-files')
    fifo = base / 'fifo'
    os.mkfifo(fifo)
    big = base / 'big.env'
    big.write_bytes(b'A=' + b'x' * (2 * 1024 * 1024) + b'\n')
    binary = base / 'binary.env'
    binary.write_bytes(b'A=\xff\xfe\n')
    directory = base / 'dir'
    directory.mkdir()
    return {b'@FIFO@': fifo, b'@BIG@': big, b'@BINARY@': binary,
            b'@DIR@': directory}


@pytest.mark.parametrize('case', sorted(EXPECTED))
def test_bad_document(case, docker_api, hook_env, placeholders, figures):
    expected = EXPECTED[case]
    with open(os.path.join(CORPUS, f'{case}.in'), 'rb') as f:
        stdin = f.read()
    for key, path in placeholders.items():
        stdin = stdin.replace(key, str(path).encode())
    dirs = [hook_env[f'TDH_{k}'] for k in
            ('STATE_DIR', 'CONFIG_DATA_DIR', 'KOLLA_CONFIG_DIR')]
    before = _snapshot_host(docker_api, dirs)
    out, err, rc, wall, cpu, rss = run_bounded(stdin, hook_env)
    assert rss < MAX_RSS_KIB, f'{rss} KiB'
    # exactly one JSON object, nothing else, rc = status
    text = out.decode('utf-8')
    assert text.count('\n') == 1 and text.endswith('\n'), text
    answer = json.loads(text)
    assert isinstance(answer, dict)
    assert answer['deploy_status_code'] == rc == expected['status'], answer
    lines = answer['deploy_stderr'].splitlines()
    assert lines[0] == 'invalid deployment:', answer
    assert any(line.startswith(expected['path']) for line in lines[1:]), (
        expected['path'], lines)
    if not case.startswith('env-'):
        # the declared error output is present (the envelope was read)
        assert answer['result'], answer
    # no secret, in any encoding, in the answer or the log
    assert sentinels.scan(text) == []
    assert sentinels.scan(err.decode('utf-8', 'replace')) == []
    # the host is unchanged: same containers, nothing written
    assert _snapshot_host(docker_api, dirs) == before
    assert not os.path.exists('/tmp/tdh-pwned')
    part = figures.setdefault('corpus', {
        'cases': 0, 'max_wall_s': 0.0, 'max_cpu_s': 0.0,
        'max_rss_mib': 0.0, 'wall_bound_s': WALL_SECONDS,
        'cpu_bound_s': CPU_SECONDS, 'rss_bound_mib': MAX_RSS_KIB >> 10,
        'address_space_bound_mib': ADDRESS_SPACE >> 20})
    part['cases'] += 1
    if wall > part['max_wall_s']:
        part['slowest_case'] = case
    part['max_wall_s'] = round(max(part['max_wall_s'], wall), 2)
    part['max_cpu_s'] = round(max(part['max_cpu_s'], cpu), 2)
    part['max_rss_mib'] = round(max(part['max_rss_mib'], rss / 1024), 1)


def test_silent_engine_with_api_version_auto(tmp_path):
    """``docker_api_version = auto`` asks the engine at once: an engine
    that accepts and never answers gives a clear engine error (status 1)
    within ``docker_timeout``, not "unexpected DockerException"."""
    import socket
    sock_path = tmp_path / 'silent.sock'
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    server.listen(16)
    accepted = []

    def accept():
        try:
            while True:
                accepted.append(server.accept()[0])
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    state_dir = tmp_path / 'state'
    conf = helpers.write_conf(
        tmp_path / 'hook.conf', docker_url=f'unix://{sock_path}',
        docker_api_version='auto', docker_timeout=2,
        state_dir=state_dir, config_data_dir=tmp_path / 'cdd',
        kolla_config_dir=tmp_path / 'kolla')
    env = dict(os.environ, TRIPLEO_DOCKER_HOOK_CONFIG=str(conf))
    doc = helpers.make_doc('tdh-rel-silent', {'svc': {
        'image': helpers.BUSYBOX, 'net': 'host'}})
    try:
        out, err, rc, wall, _, _ = run_bounded(
            json.dumps(doc).encode(), env)
    finally:
        server.close()
        for conn in accepted:
            conn.close()
    answer = json.loads(out)
    assert rc == answer['deploy_status_code'] == 1, answer
    assert 'cannot reach the Docker engine' in answer['deploy_stderr']
    assert 'docker_api_version=auto' in answer['deploy_stderr']
    assert 'unexpected' not in answer['deploy_stderr']
    assert wall < 15
