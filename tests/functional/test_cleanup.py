"""The os-refresh-config cleanup script against the real engine."""

import json
import os
import subprocess

import pytest

from tests import helpers

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                      'os-refresh-config', 'configure.d',
                      '50-heat-config-tripleo-docker-hook')


def spec():
    return {'image': helpers.BUSYBOX, 'net': 'host',
            'command': helpers.SLEEP_FOREVER}


def names_of(api, deployment):
    return sorted(c['Names'][0].lstrip('/') for c in api.containers(
        all=True, filters={'label': f'deployment={deployment}'}))


def run_script(env, heat_config):
    env = dict(env, HEAT_SHELL_CONFIG=str(heat_config))
    return subprocess.run([SCRIPT], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def two_deployments(docker_api, deployment, hook_env):
    other = f'{deployment}-gone'
    docs = {}
    for name in (deployment, other):
        docs[name] = helpers.make_doc(name, {'docker_config': {'step_1': {
            f'{name}-svc': spec()}}})
        answer, rc, _ = helpers.run_hook(docs[name], env=hook_env)
        assert rc == 0, answer
    yield deployment, other, docs
    for c in docker_api.containers(
            all=True, filters={'label': f'deployment={other}'}):
        docker_api.remove_container(c['Id'], force=True)


def test_bad_heat_config_removes_nothing(docker_api, hook_env, tmp_path,
                                         two_deployments):
    mine, other, _ = two_deployments
    before = names_of(docker_api, mine) + names_of(docker_api, other)
    path = tmp_path / 'heat-config'
    only_others = json.dumps([{'name': 'x', 'group': 'script', 'id': '1',
                               'inputs': []}])
    by_case = json.dumps([{'name': mine, 'group': 'tripleo-docker-hook',
                           'id': '1', 'inputs': []},
                          {'name': other, 'group': 'Tripleo-Docker-Hook',
                           'id': '2', 'inputs': []}])
    twice = json.dumps([{'name': mine, 'group': 'tripleo-docker-hook',
                         'id': '1', 'inputs': []}]).replace(
        '"name"', '"name": "x", "name"', 1)
    for content in (None, '', '[]', '[{"name": "x", "group": "tripleo-do',
                    'garbage', '{"deployments": []}', only_others, by_case,
                    twice):
        if content is None:
            if path.exists():
                path.unlink()
        else:
            path.write_text(content)
        proc = run_script(hook_env, path)
        assert proc.returncode == 0, (content, proc.stderr)
        assert 'nothing removed' in proc.stdout, (content, proc.stdout)
        assert names_of(docker_api, mine) + \
            names_of(docker_api, other) == before, content
    path.write_bytes(b'\xff\xfe\x00')
    assert run_script(hook_env, path).returncode == 0
    path.write_text('[]')
    path.chmod(0)
    assert run_script(dict(hook_env), path).returncode == 0
    assert names_of(docker_api, mine) + names_of(docker_api, other) == before


def test_vanished_deployment_is_removed_by_name(docker_api, hook_env,
                                                tmp_path, two_deployments):
    mine, other, docs = two_deployments
    kept = names_of(docker_api, mine)
    # Heat re-derived ids: identity is the name, not the id
    item = dict(docs[mine], id='a-brand-new-derived-id')
    unrelated = {'name': other, 'group': 'script', 'id': 'x', 'inputs': [],
                 'config': ''}
    path = tmp_path / 'heat-config'
    path.write_text(json.dumps([item, unrelated]))
    proc = run_script(hook_env, path)
    assert proc.returncode == 0, proc.stderr
    assert f'deployment {other} is no longer in' in proc.stdout
    assert names_of(docker_api, mine) == kept
    assert names_of(docker_api, other) == []
    # the next run has nothing to do
    proc = run_script(hook_env, path)
    assert 'no vanished deployments' in proc.stdout
    # status shows what is left
    proc = subprocess.run(['tripleo-docker-hook-ctl', 'status', '--json'],
                          env=hook_env, capture_output=True, text=True,
                          timeout=60)
    rows = json.loads(proc.stdout)
    assert [r['name'] for r in rows if r['deployment'] == mine] == kept
    assert not [r for r in rows if r['deployment'] == other]
    assert [r['state'] for r in rows if r['deployment'] == mine][0] == \
        'running'
