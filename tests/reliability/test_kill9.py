"""kill -9 at seeded random instants during apply, then re-apply.

A 20-container deployment (16 services, 3 one-shot tasks, one service
reading a puppet-rendered config volume) flips between two versions that
differ in 4 services' environment (replacements), a task's environment
(re-run) and the puppet manifest (a new render, restarting its reader).
Each iteration starts the hook on the other version, kills it with
SIGKILL after a random delay drawn from a seeded generator over the length
of a whole apply, then applies that version again to completion and
checks that the host converged:

* exactly the deployment's containers, each name once, no temporary
  (``.tdh-new``) names, every service running with the new version, no
  config container left;
* no staging directory, link or ``.tmp-`` file in ``config_data_dir``, no
  manifest in ``state_dir/puppet``, no ``.tmp-`` file in ``state_dir``;
* the rendered config is the new version's;
* the data a task wrote into a named volume on the first apply is intact,
  and so is a host directory the services mount.

``TDH_KILL_ITERATIONS`` (default 50) and ``TDH_KILL_SEED`` run it longer or
differently; the seed and the delays are in the figures.
"""

import json
import os
import random
import re
import signal
import subprocess
import time

import pytest

from tests import helpers
from tests.reliability.conftest import budget

ITERATIONS = budget('kill_iterations', 50)
SEED = budget('kill_seed', 1129)
SERVICES = 16
CHANGED = 4     # services whose environment differs between versions

MANIFEST = """file { '/etc/tdh': ensure => directory }
file { '/etc/tdh/version.conf': content => "version=VERSION\\n" }
"""
def _config(dep, version, hostdata):
    sleep = helpers.SLEEP_FOREVER
    data = f'{dep}-data:/data'
    step1 = {
        f'{dep}-init': {
            'image': helpers.BUSYBOX, 'net': 'host', 'detach': False,
            'volumes': [data], 'command': [
                'sh', '-c', f'[ -f /data/precious ] || echo precious-{dep} '
                '> /data/precious']},
    }
    for i in range(SERVICES):
        env = {'INDEX': str(i)}
        if i < CHANGED:
            env['VERSION'] = version
        step1[f'{dep}-s{i:02d}'] = {
            'image': helpers.BUSYBOX, 'net': 'host', 'command': sleep,
            'restart': 'always', 'stop_grace_period': 2,
            'environment': env,
            'volumes': [data, f'{hostdata}:/hostdata:ro']}
    step2 = {
        f'{dep}-task': {
            'image': helpers.BUSYBOX, 'net': 'host', 'detach': False,
            'environment': {'VERSION': version}, 'volumes': [data],
            'command': ['sh', '-c', 'cat /data/precious; echo "$VERSION" '
                        '> /data/last-task']},
        f'{dep}-check': {
            'image': helpers.BUSYBOX, 'net': 'host', 'detach': False,
            'volumes': [data], 'command': ['test', '-s', '/data/precious']},
        f'{dep}-reader': {
            'image': helpers.BUSYBOX, 'net': 'host', 'command': sleep,
            'restart': 'always', 'stop_grace_period': 2,
            'volumes': [f'/var/lib/config-data/puppet-generated/{dep}-cfg:'
                        f'/config:ro']},
    }
    return {
        'puppet_config': [{
            'config_volume': f'{dep}-cfg', 'config_image': helpers.PUPPET,
            'puppet_tags': '',
            'step_config': MANIFEST.replace('VERSION', version)}],
        'docker_config': {'step_1': step1, 'step_2': step2},
    }


@pytest.fixture
def kill_env(hook_env, tmp_path):
    helpers.write_puppet_conf(tmp_path, hook_env, 'tdh::x: 1\n',
                              start_settle=0)
    hostdata = tmp_path / 'hostdata'
    hostdata.mkdir()
    (hostdata / 'precious').write_text('host data\n')
    return hook_env, hostdata


@pytest.fixture
def dep(docker_api):
    name = helpers.unique('tdh-kill')
    yield name
    for c in docker_api.containers(all=True,
                                   filters={'label': f'deployment={name}'}):
        docker_api.remove_container(c['Id'], force=True)
    for c in docker_api.containers(all=True, filters={
            'label': f'tripleo-docker-hook.config-volume={name}-cfg'}):
        docker_api.remove_container(c['Id'], force=True)
    try:
        docker_api.remove_volume(f'{name}-data', force=True)
    except Exception:  # noqa: BLE001 - not created when setup failed
        pass


_LEFTOVER = re.compile(r'(^\..+\.(new|link)-[0-9a-f]{12}$|\.tmp-)')


def _converged(docker_api, dep, env, version, hostdata):
    cdd = env['TDH_CONFIG_DATA_DIR']
    containers = docker_api.containers(
        all=True, filters={'label': f'deployment={dep}'})
    names = [c['Names'][0].lstrip('/') for c in containers]
    assert len(names) == len(set(names)), names
    assert not [n for n in names if '.tdh-new' in n], names
    services = {f'{dep}-s{i:02d}' for i in range(SERVICES)} | {
        f'{dep}-reader'}
    tasks = {f'{dep}-init', f'{dep}-task', f'{dep}-check'}
    assert set(names) <= services | tasks, sorted(set(names) - services -
                                                  tasks)
    running = {c['Names'][0].lstrip('/') for c in containers
               if c['State'] == 'running'}
    assert services <= running, sorted(services - running)
    assert len(services | tasks) == 20
    for i in range(CHANGED):
        info = docker_api.inspect_container(f'{dep}-s{i:02d}')
        assert f'VERSION={version}' in info['Config']['Env']
    config_runs = docker_api.containers(all=True, filters={
        'label': f'tripleo-docker-hook.config-volume={dep}-cfg'})
    assert config_runs == [], [c['Names'] for c in config_runs]
    leftovers = [n for n in os.listdir(cdd) if _LEFTOVER.search(n)]
    assert leftovers == []
    for root, _, files in os.walk(env['TDH_STATE_DIR']):
        assert not [f for f in files if '.tmp-' in f or f.endswith('.pp')
                    ], (root, files)
    rendered = os.path.join(cdd, f'{dep}-cfg', 'etc', 'tdh', 'version.conf')
    with open(rendered) as f:
        assert f.read() == f'version={version}\n'
    exec_id = docker_api.exec_create(f'{dep}-s00', ['cat', '/data/precious',
                                                    '/hostdata/precious'])
    out = docker_api.exec_start(exec_id).decode()
    assert out == f'precious-{dep}\nhost data\n', out


def _apply(doc, env):
    answer, rc, stderr = helpers.run_hook(doc, env, timeout=300)
    assert rc == 0, (answer, stderr[-3000:])
    return answer


def test_kill9_during_apply_converges(docker_api, dep, kill_env, figures):
    env, hostdata = kill_env
    rng = random.Random(SEED)
    versions = ('a', 'b')
    docs = {v: helpers.make_doc(dep, _config(dep, v, hostdata))
            for v in versions}
    start = time.monotonic()
    _apply(docs['a'], env)
    first = time.monotonic() - start
    _converged(docker_api, dep, env, 'a', hostdata)
    start = time.monotonic()
    _apply(docs['b'], env)
    flip = time.monotonic() - start
    _converged(docker_api, dep, env, 'b', hostdata)
    window = flip * 1.1
    killed = completed = 0
    delays = []
    started = time.monotonic()
    for i in range(ITERATIONS):
        version = versions[i % 2]
        delay = rng.uniform(0.05, window)
        delays.append(round(delay, 2))
        proc = subprocess.Popen(helpers.hook_command(), env=env,
                                stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        proc.stdin.write(json.dumps(docs[version]).encode())
        proc.stdin.close()
        try:
            proc.wait(delay)
            completed += 1
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed += 1
        _apply(docs[version], env)
        _converged(docker_api, dep, env, version, hostdata)
    loop = time.monotonic() - started
    assert killed >= ITERATIONS // 2, (killed, completed)
    figures['kill9'] = {
        'iterations': ITERATIONS, 'seed': SEED, 'killed_mid_apply': killed,
        'finished_before_kill': completed, 'containers': 20,
        'first_apply_s': round(first, 1), 'flip_apply_s': round(flip, 1),
        'kill_window_s': round(window, 1), 'loop_s': round(loop, 1),
        'min_delay_s': min(delays), 'max_delay_s': max(delays)}
