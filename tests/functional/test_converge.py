"""Converging against the real engine: no-op, replace, rollback, tasks,
removal, clashes, pulls, image drift, concurrency and kill -9."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from tests import helpers


def spec(image=helpers.BUSYBOX, **extra):
    data = {'image': image, 'net': 'host', 'command': helpers.SLEEP_FOREVER}
    data.update(extra)
    return data


def config(containers, step=1):
    if step is None:
        return {'docker_config': containers}
    return {'docker_config': {f'step_{step}': containers}}


def containers(api, deployment):
    """name → inspect of every container labelled with the deployment."""
    found = api.containers(all=True,
                           filters={'label': f'deployment={deployment}'})
    return {c['Names'][0].lstrip('/'): api.inspect_container(c['Id'])
            for c in found}


def snapshot(api, deployment):
    return {name: (info['Id'], info['State']['StartedAt'],
                   info['State']['Running'])
            for name, info in containers(api, deployment).items()}


def add_conf(env, **options):
    """Extra [DEFAULT] options in the hook_env's config file."""
    path = env['TRIPLEO_DOCKER_HOOK_CONFIG']
    with open(path, 'a') as f:
        f.write(''.join(f'{k} = {v}\n' for k, v in options.items()))


def apply(deployment, cfg, env, **kw):
    answer, rc, stderr = helpers.run_hook(
        helpers.make_doc(deployment, cfg, **kw), env=env)
    return answer, rc


def ctl(env, *args):
    return subprocess.run(['tripleo-docker-hook-ctl'] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def test_reapply_same_and_new_id_is_a_noop(docker_api, deployment,
                                           hook_env, tmp_path):
    a, b = f'{deployment}-a', f'{deployment}-b'
    cfg = config({a: spec(), b: spec(environment=['X=1'])})
    doc = helpers.make_doc(deployment, cfg)
    answer, rc, _ = helpers.run_hook(doc, env=hook_env)
    assert rc == 0, answer
    before = snapshot(docker_api, deployment)
    assert set(before) == {a, b} and all(r for _, _, r in before.values())
    answer, rc, _ = helpers.run_hook(doc, env=hook_env)  # same id
    assert rc == 0, answer
    assert f'start_order 0: keep {a}' in answer['deploy_stdout']
    answer, rc = apply(deployment, cfg, hook_env)  # new derived id
    assert rc == 0, answer
    assert 'create' not in answer['deploy_stdout'].split('\n', 1)[0]
    assert snapshot(docker_api, deployment) == before
    # the dry run shows a change and makes none
    path = tmp_path / 'doc.json'
    cfg['docker_config']['step_1'][b]['environment'] = ['X=2']
    path.write_text(json.dumps(helpers.make_doc(deployment, cfg)))
    proc = ctl(hook_env, 'plan', str(path))
    assert proc.returncode == 0, proc.stderr
    assert f'replace {b} (definition changed)' in proc.stdout
    assert f'keep {a}' in proc.stdout
    proc = ctl(hook_env, 'plan', '--json', str(path))
    data = json.loads(proc.stdout)
    assert data['counts'] == {'keep': 1, 'replace': 1}
    assert snapshot(docker_api, deployment) == before


def test_change_image_or_environment_replaces_only_those(
        docker_api, deployment, hook_env):
    a, b, c = (f'{deployment}-{x}' for x in 'abc')
    cfg = config({a: spec(), b: spec(), c: spec(environment=['X=1'])})
    assert apply(deployment, cfg, hook_env)[1] == 0
    before = snapshot(docker_api, deployment)
    cfg['docker_config']['step_1'][b]['image'] = helpers.BUSYBOX_OTHER
    cfg['docker_config']['step_1'][c]['environment'] = ['X=2']
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    after = containers(docker_api, deployment)
    assert set(after) == {a, b, c}  # no temporary names left
    assert after[a]['Id'] == before[a][0]
    assert after[a]['State']['StartedAt'] == before[a][1]
    assert after[b]['Id'] != before[b][0]
    assert after[b]['Config']['Image'] == helpers.BUSYBOX_OTHER
    assert after[c]['Id'] != before[c][0]
    assert 'X=2' in after[c]['Config']['Env']
    assert all(info['State']['Running'] for info in after.values())
    assert f'replaced {b} (definition changed)' in answer['deploy_stdout']


def _assert_old_one_runs(docker_api, deployment, name, before):
    """After a replace rolled back: ``name`` is the deployment's only
    container, the old one (``before``: a :func:`snapshot`), running
    again; its inspect."""
    after = containers(docker_api, deployment)
    assert set(after) == {name}
    assert after[name]['Id'] == before[name][0]
    assert after[name]['State']['Running'] is True
    return after[name]


def test_failing_replacement_rolls_back(docker_api, deployment, hook_env):
    add_conf(hook_env, start_settle=1)
    a = f'{deployment}-a'
    good = config({a: spec()})
    assert apply(deployment, good, hook_env)[1] == 0
    before = snapshot(docker_api, deployment)
    bad = config({a: spec(command=['sh', '-c', 'echo broken-start; exit 1'])})
    answer, rc = apply(deployment, bad, hook_env)
    assert rc != 0
    assert 'rolled back' in answer['deploy_stderr']
    assert 'broken-start' in answer['deploy_stdout']
    _assert_old_one_runs(docker_api, deployment, a, before)
    # the last good definition is what rollback goes back to: a no-op
    proc = ctl(hook_env, 'rollback', deployment)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f'start_order 0: keep {a}' in proc.stdout
    assert snapshot(docker_api, deployment)[a][0] == before[a][0]


def test_unhealthy_replacement_rolls_back(docker_api, deployment,
                                         hook_env):
    a = f'{deployment}-a'
    assert apply(deployment, config({a: spec()}), hook_env)[1] == 0
    before = snapshot(docker_api, deployment)
    sick = config({a: spec(environment=['V=2'], healthcheck={
        'test': 'exit 1', 'interval': '200ms', 'retries': 1})})
    answer, rc = apply(deployment, sick, hook_env)
    assert rc != 0
    assert 'health check failed' in answer['deploy_stderr']
    assert 'rolled back' in answer['deploy_stderr']
    after = _assert_old_one_runs(docker_api, deployment, a, before)
    assert 'V=2' not in after['Config']['Env']


def test_missing_image_fails_before_any_change(docker_api, deployment,
                                               hook_env):
    add_conf(hook_env, pull_retries=0)
    a, b = f'{deployment}-a', f'{deployment}-b'
    assert apply(deployment, config({a: spec(), b: spec()}),
                 hook_env)[1] == 0
    before = snapshot(docker_api, deployment)
    # A registry on a closed loopback port: the pull fails at once and no
    # traffic leaves the machine.
    missing = '127.0.0.1:9/tdh/does-not-exist:1'
    cfg = config({a: spec(image=missing),
                  b: spec(environment=['CHANGED=1'])})
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc != 0
    assert missing in answer['deploy_stderr']
    assert 'nothing was changed' in answer['deploy_stderr']
    assert snapshot(docker_api, deployment) == before


def test_removed_from_definition_then_delete(docker_api, deployment,
                                             hook_env):
    a, b, c = (f'{deployment}-{x}' for x in 'abc')
    assert apply(deployment, config({a: spec(), b: spec(), c: spec()}),
                 hook_env)[1] == 0
    before = snapshot(docker_api, deployment)
    answer, rc = apply(deployment, config({a: spec()}), hook_env)
    assert rc == 0, answer
    assert set(snapshot(docker_api, deployment)) == {a}
    assert snapshot(docker_api, deployment)[a] == before[a]
    assert f'removed {b} (no longer defined)' in answer['deploy_stdout']
    # a managed service that stopped behind our back is recreated
    docker_api.stop(a, timeout=1)
    answer, rc = apply(deployment, config({a: spec()}), hook_env)
    assert rc == 0, answer
    assert f'replace {a} (container is exited' in answer['deploy_stdout']
    assert docker_api.inspect_container(a)['State']['Running'] is True
    answer, rc = apply(deployment, config({a: spec()}), hook_env,
                       action='DELETE')
    assert rc == 0, answer
    assert containers(docker_api, deployment) == {}
    # rollback after DELETE brings the last definition back
    proc = ctl(hook_env, 'rollback', deployment)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(snapshot(docker_api, deployment)) == {a}


def test_name_clashes_change_nothing(docker_api, deployment, hook_env):
    mine, theirs = f'{deployment}-mine', f'{deployment}-theirs'
    foreign = docker_api.create_container(
        helpers.BUSYBOX, helpers.SLEEP_FOREVER, name=theirs,
        host_config=docker_api.create_host_config(network_mode='host'))
    other = f'{deployment}-other'  # another deployment, same prefix
    try:
        assert apply(other, config({f'{other}-x': spec()}),
                     hook_env)[1] == 0
        held = snapshot(docker_api, other)
        cfg = config({mine: spec(), theirs: spec(), f'{other}-x': spec()})
        answer, rc = apply(deployment, cfg, hook_env)
        assert rc != 0
        err = answer['deploy_stderr']
        assert f'{theirs}: Duplicate value' in err
        assert 'does not manage' in err
        assert f'deployment "{other}"' in err
        assert containers(docker_api, deployment) == {}
        info = docker_api.inspect_container(foreign['Id'])
        assert info['State']['Status'] == 'created'
        assert info['Name'] == f'/{theirs}'
        assert snapshot(docker_api, other) == held
    finally:
        docker_api.remove_container(foreign['Id'], force=True)
        for c in docker_api.containers(
                all=True, filters={'label': f'deployment={other}'}):
            docker_api.remove_container(c['Id'], force=True)


def test_image_drift_recreates(docker_api, deployment, hook_env):
    tag = f'tdh-test-drift-{deployment[-8:]}'
    docker_api.tag(helpers.BUSYBOX, tag, 'v1')
    a = f'{deployment}-a'
    try:
        assert apply(deployment, config({a: spec(image=f'{tag}:v1')}),
                     hook_env)[1] == 0
        before = snapshot(docker_api, deployment)
        docker_api.tag(helpers.BUSYBOX_OTHER, tag, 'v1', force=True)
        answer, rc = apply(deployment, config({a: spec(image=f'{tag}:v1')}),
                           hook_env)
        assert rc == 0, answer
        assert f'replace {a} (image changed)' in answer['deploy_stdout']
        assert snapshot(docker_api, deployment)[a][0] != before[a][0]
    finally:
        for c in docker_api.containers(
                all=True, filters={'label': f'deployment={deployment}'}):
            docker_api.remove_container(c['Id'], force=True)
        docker_api.remove_image(f'{tag}:v1', noprune=True)


def test_failed_task_stops_later_steps_and_is_retried(docker_api, deployment,
                                                     hook_env, tmp_path):
    data = tmp_path / 'data'
    data.mkdir()
    init, svc, ex = (f'{deployment}-{x}' for x in ('init', 'svc', 'ls'))
    cfg = {'docker_config': {
        'step_1': {init: spec(detach=False, volumes=[f'{data}:/data'],
                              command=['sh', '-c', 'echo init-output; '
                                       'test -f /data/ok || exit 3'])},
        'step_2': {svc: spec(volumes=[f'{data}:/data']),
                   ex: {'action': 'exec', 'start_order': 1,
                        'command': [svc, 'sh', '-c',
                                    'echo exec-ran >> /data/log']}}}}
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc != 0
    assert 'exited with code 3' in answer['deploy_stderr']
    assert 'init-output' in answer['deploy_stdout']
    assert set(containers(docker_api, deployment)) == {init}
    # same definition again: the failed task runs again, not "exists = ok"
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc != 0
    (data / 'ok').write_text('')
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    done = snapshot(docker_api, deployment)
    assert set(done) == {init, svc}
    assert (data / 'log').read_text() == 'exec-ran\n'
    # finished task and exec are not re-run
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc == 0, answer
    assert snapshot(docker_api, deployment) == done
    assert (data / 'log').read_text() == 'exec-ran\n'
    assert f'keep {init} (done, code 0)' in answer['deploy_stdout']


def test_task_timeout_fails_and_allowed_codes_pass(docker_api, deployment,
                                                  hook_env):
    slow, odd = f'{deployment}-slow', f'{deployment}-odd'
    cfg = config({odd: spec(detach=False, exit_codes=[0, 3],
                            environment=['DB_PASSWORD=SENTINEL-task-secret'],
                            command=['sh', '-c', 'echo odd-ran '
                                     '$DB_PASSWORD; exit 3']),
                  slow: spec(detach=False, timeout=1, start_order=1,
                             command=['sleep', '30'])})
    answer, rc = apply(deployment, cfg, hook_env)
    assert rc != 0
    assert 'still running after 1 s' in answer['deploy_stderr']
    assert f'ran {odd} (new): exit code 3' in answer['deploy_stdout']
    assert 'odd-ran ***' in answer['deploy_stdout']
    assert 'SENTINEL' not in json.dumps(answer)
    info = docker_api.inspect_container(slow)
    assert info['State']['Running'] is False


def test_concurrent_applies_both_succeed(docker_api, deployment, hook_env):
    other = f'{deployment}-2'
    procs = []
    try:
        for name in (deployment, other):
            doc = helpers.make_doc(name, config(
                {f'{name}-{i}': spec() for i in range(2)}))
            procs.append(subprocess.Popen(
                helpers.hook_command(), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=hook_env))
            procs[-1].stdin.write(json.dumps(doc))
            procs[-1].stdin.close()
        for proc in procs:
            answer = json.loads(proc.stdout.read())
            assert proc.wait(120) == 0, answer
        assert len(containers(docker_api, deployment)) == 2
        assert len(containers(docker_api, other)) == 2
    finally:
        for proc in procs:
            proc.stdout.close()
            proc.stderr.close()
        for c in docker_api.containers(
                all=True, filters={'label': f'deployment={other}'}):
            docker_api.remove_container(c['Id'], force=True)


def _hook_in_background(deployment, cfg, env):
    proc = subprocess.Popen(helpers.hook_command(), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    proc.stdin.write(json.dumps(helpers.make_doc(deployment, cfg)))
    proc.stdin.close()
    return proc


def _wait_for(api, name, state, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Docker matches the name with its leading '/', podman without.
        found = api.containers(all=True,
                               filters={'name': f'^/?{re.escape(name)}$'})
        if found and found[0]['State'] == state:
            return
        time.sleep(0.05)
    raise AssertionError(f'{name} never {state}')


@pytest.mark.parametrize('phase', ['random', 'old-stopping', 'new-starting'])
def test_kill_9_during_replace_then_reapply_converges(
        docker_api, deployment, hook_env, tmp_path, phase):
    """Kill the hook at a chosen instant of a replace; the next run must
    leave exactly the wanted containers, running, data untouched."""
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'keep').write_text('precious')
    names = [f'{deployment}-{i}' for i in range(3)]
    volumes = [f'{data}:/data']
    old = dict(volumes=volumes)
    new = dict(volumes=volumes, image=helpers.BUSYBOX_OTHER)
    if phase == 'old-stopping':
        # plain sleep ignores SIGTERM: stopping the old one takes 3 s
        old.update(command=['sleep', '3600'], stop_grace_period=3)
    elif phase == 'new-starting':
        # the new one stays "health: starting" until /data/healthy exists
        new['healthcheck'] = {'test': 'test -f /data/healthy',
                              'interval': '1s', 'retries': 30}
    first = config({n: spec(**old) for n in names})
    assert apply(deployment, first, hook_env)[1] == 0
    second = config({n: spec(**new) for n in names})
    proc = _hook_in_background(deployment, second, hook_env)
    temp = f'{names[0]}.tdh-new'
    if phase == 'random':
        time.sleep(0.3)
    elif phase == 'old-stopping':
        _wait_for(docker_api, temp, 'created')
    else:
        _wait_for(docker_api, temp, 'running')
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (data / 'healthy').write_text('')
    answer, rc = apply(deployment, second, hook_env)
    assert rc == 0, answer
    after = containers(docker_api, deployment)
    assert sorted(after) == sorted(names)  # no duplicates, no temp names
    for info in after.values():
        assert info['State']['Running'] is True
        assert info['Config']['Image'] == helpers.BUSYBOX_OTHER
    assert (data / 'keep').read_text() == 'precious'
    answer, rc = apply(deployment, second, hook_env)
    assert rc == 0, answer
    assert 'replace' not in answer['deploy_stdout'], answer


def test_task_that_never_ran_is_not_masked_on_reapply(docker_api, deployment,
                                                     hook_env):
    """paunch-failure-scenarios.yaml oneshot-never-ran-is-masked."""
    init = f'{deployment}-init'
    cfg = config({init: spec(detach=False, user='no-such-user',
                             command=['sh', '-c', 'echo bootstrap-done'])})
    for _ in range(2):
        answer, rc = apply(deployment, cfg, hook_env)
        assert rc != 0, answer
        assert init in answer['deploy_stderr']
        assert 'bootstrap-done' not in answer['deploy_stdout']


def test_lock_held_too_long_fails_clearly_and_changes_nothing(
        docker_api, deployment, hook_env):
    from tripleo_docker_hook import state
    add_conf(hook_env, lock_timeout=1)
    with state.host_lock(hook_env['TDH_STATE_DIR'], 5):
        answer, rc = apply(deployment, config({f'{deployment}-a': spec()}),
                           hook_env)
    assert rc == 3, answer
    assert 'holds' in answer['deploy_stderr']
    assert 'lock_timeout' in answer['deploy_stderr']
    assert containers(docker_api, deployment) == {}


def test_exec_output_is_streamed_and_its_tail_reported(docker_api, deployment,
                                                       hook_env):
    """An exec printing 8 MiB: the hook keeps only the tail (streamed), the
    answer shows its last lines, masked, and the declared output of the
    exec holds the tail too."""
    svc, ex = f'{deployment}-svc', f'{deployment}-ex'
    cfg = config({svc: spec(), ex: {
        'action': 'exec', 'start_order': 1,
        'command': [svc, 'sh', '-c', 'yes | head -c 8388608; '
                    'echo; echo LAST-LINE-$((40+2))']}})
    answer, rc = apply(deployment, cfg, hook_env,
                       outputs=[{'name': ex}])
    assert rc == 0, answer
    assert 'LAST-LINE-42' in answer['deploy_stdout']
    assert 'bytes cut' in answer['deploy_stdout']
    assert answer[ex].rstrip().endswith('LAST-LINE-42'), answer[ex][-200:]
    assert len(json.dumps(answer)) < 1 << 20
