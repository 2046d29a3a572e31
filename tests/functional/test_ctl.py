"""tripleo-docker-hook-ctl against the real engine: every command, table
and JSON output, its errors (one line, non-zero), check's exit code per
bad state, print-cmd re-run with the real docker CLI, progress on a TTY.

Each test works under its own deployment (the ``deployment`` fixture
removes its containers) and its own state directory (``hook_env``).
"""

import json
import os
import pty
import select
import shlex
import shutil
import subprocess
import time

import pytest
import yaml

from tests import helpers
from tests.functional.test_converge import add_conf, config, containers
from tests.functional.test_converge import spec
from tests.functional.test_docker_semantics import _daemon_log_driver
from tripleo_docker_hook import engine_compat

DOCKER = shutil.which('docker')


def ctl(env, *args, timeout=120):
    return subprocess.run(['tripleo-docker-hook-ctl'] + list(args),
                          env=env, capture_output=True, text=True,
                          timeout=timeout)


def apply(deployment, cfg, env):
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, cfg),
                                     env=env)
    assert rc == 0, answer
    return answer


def one_error_line(proc):
    """Errors are one clear line on stderr and a non-zero status."""
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), proc.stderr
    return lines[0]


def wait_for(func, timeout=30, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = func()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f'timed out waiting for {what}')


def test_list_status_show_table_and_json(docker_api, deployment, hook_env):
    a, t = f'{deployment}-a', f'{deployment}-t'
    cfg = config({a: spec(environment=['OS_PASSWORD=hunter2hunter2',
                                       'LEVEL=1'], start_order=2),
                  t: spec(command=['true'], detach=False)})
    apply(deployment, cfg, hook_env)

    proc = ctl(hook_env, 'list', '--deployment', deployment)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[1]
    for column in ('deployment', 'name', 'image', 'state', 'health', 'step',
                   'start_order', 'kind', 'config_hash', 'started_at'):
        assert f' {column} ' in header
    assert a in proc.stdout and 'running' in proc.stdout

    for command in ('list', 'status'):
        proc = ctl(hook_env, command, '--deployment', deployment, '-f',
                   'json')
        rows = {r['name']: r for r in json.loads(proc.stdout)}
        assert set(rows) == {a, t}
        info = docker_api.inspect_container(a)
        assert rows[a] == {
            'deployment': deployment, 'name': a, 'image': helpers.BUSYBOX,
            'state': 'running', 'health': '', 'step': 1, 'start_order': 2,
            'kind': 'service',
            'config_hash': info['Config']['Labels'][
                'tripleo-docker-hook.hash'][:12],
            'started_at': info['State']['StartedAt'], 'exit_code': None,
            'id': info['Id'][:12]}
        assert rows[t]['kind'] == 'task' and rows[t]['exit_code'] == 0
    proc = ctl(hook_env, 'list', '--deployment', deployment, '-f', 'value',
               '-c', 'name', '-c', 'state')
    assert sorted(proc.stdout.split('\n')[:2]) == sorted(
        [f'{a} running', f'{t} exited'])

    proc = ctl(hook_env, 'show', deployment, '-f', 'json')
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert 'hunter2hunter2' not in proc.stdout
    env = shown['definition']['docker_config']['step_1'][a]['environment']
    assert env == ['OS_PASSWORD=***', 'LEVEL=1']
    assert [g['generation'] for g in shown['generations']] == [1]
    assert shown['generations'][0]['current'] is True
    assert shown['last_apply'] == 'succeeded'
    assert shown['last_result']['ok'] is True
    assert sorted(shown['containers']) == sorted([a, t])
    proc = ctl(hook_env, 'show', deployment)
    assert 'generations' in proc.stdout and 'hunter2' not in proc.stdout

    # errors: one line, non-zero
    for args in (('list', '--deployment', 'no-such-deployment'),
                 ('show', 'no-such-deployment')):
        line = one_error_line(ctl(hook_env, *args))
        assert 'no-such-deployment' in line


def test_engine_unreachable_is_one_line(hook_env, tmp_path):
    add_conf(hook_env, docker_url=f'unix://{tmp_path}/no.sock')
    for args in (('list',), ('logs', 'x'), ('print-cmd', 'x')):
        line = one_error_line(ctl(hook_env, *args))
        assert 'cannot reach the Docker engine' in line
    proc = ctl(hook_env, 'check')
    assert proc.returncode == 3 and proc.stderr.startswith('UNKNOWN: ')


def test_plan_and_deploy_stdout_say_which_fields_changed(
        docker_api, deployment, hook_env, tmp_path):
    a = f'{deployment}-a'
    first = config({a: spec(environment=['DEBUG=0', 'DB_PASSWORD=old-pw1'],
                            volumes=['/tmp:/t1:ro', '/tmp:/t2:ro'])})
    apply(deployment, first, hook_env)
    second = config({a: spec(image=helpers.BUSYBOX_OTHER,
                             environment=['DEBUG=1', 'DB_PASSWORD=new-pw2'],
                             volumes=['/tmp:/t1:ro', '/tmp:/t2:rw'],
                             healthcheck={'test': 'true'})})
    path = tmp_path / 'doc.json'
    path.write_text(json.dumps(helpers.make_doc(deployment, second)))
    expected = [
        f'image {helpers.BUSYBOX} → {helpers.BUSYBOX_OTHER}',
        'environment.DB_PASSWORD: *** → ***',
        'environment.DEBUG: "0" → "1"',
        'volumes[1]: /tmp:/t2:ro → /tmp:/t2:rw',
        'healthcheck (image default) → ']
    proc = ctl(hook_env, 'plan', str(path))
    assert proc.returncode == 0, proc.stderr
    assert f'replace {a} (definition changed)' in proc.stdout
    for line in expected:
        assert line in proc.stdout, proc.stdout
    assert 'old-pw1' not in proc.stdout and 'new-pw2' not in proc.stdout
    proc = ctl(hook_env, 'plan', str(path), '-f', 'json')
    (row,) = json.loads(proc.stdout)
    assert row['action'] == 'replace' and row['container'] == a
    assert row['changes'].splitlines()[:4] == expected[:4]
    proc = ctl(hook_env, 'plan', str(path), '--json')
    change = json.loads(proc.stdout)['steps'][0]['groups'][0][0]['changes']
    assert change[:4] == expected[:4]
    # the hook's answer carries the same reasons
    answer, rc, _ = helpers.run_hook(
        helpers.make_doc(deployment, second), env=hook_env)
    assert rc == 0, answer
    for line in expected:
        assert line in answer['deploy_stdout']
    assert 'new-pw2' not in json.dumps(answer)
    # an invalid definition: every field on stderr, secrets masked
    bad = config({a: spec(environment=['DB_PASSWORD=leaky-secret-1'],
                          net='leaky-secret-1')})
    path.write_text(json.dumps(helpers.make_doc(deployment, bad)))
    proc = ctl(hook_env, 'plan', str(path))
    assert proc.returncode == 2
    assert proc.stderr.startswith('error: ') and 'net' in proc.stderr
    assert 'leaky-secret-1' not in proc.stderr + proc.stdout


def _flag_config(a, flags, **extra):
    """A service that exits 3 once /flags/die exists and is healthy while
    /flags/healthy exists."""
    return config({a: spec(
        command=['sh', '-c', "trap 'exit 0' TERM; while [ ! -f /flags/die ];"
                 " do sleep 0.1; done; exit 3"],
        volumes=[f'{flags}:/flags'], restart='always', **extra)})


def test_check_exit_code_per_bad_state(docker_api, deployment, hook_env,
                                       tmp_path):
    a = f'{deployment}-a'
    flags = tmp_path / 'flags'
    flags.mkdir()
    (flags / 'healthy').write_text('')
    cfg = _flag_config(a, flags, healthcheck={
        'test': 'test -f /flags/healthy', 'interval': '300ms',
        'retries': 1})
    apply(deployment, cfg, hook_env)

    def check():
        return ctl(hook_env, 'check', '--deployment', deployment, '-f',
                   'json')

    proc = check()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []
    assert proc.stderr.startswith('OK')

    def problems(proc):
        return [(r['container'], r['severity'], r['problem'])
                for r in json.loads(proc.stdout)]

    # unhealthy (docker_api.health runs the check on podman, as the
    # engine's systemd timer does on a real node)
    (flags / 'healthy').unlink()
    wait_for(lambda: docker_api.health(a) == 'unhealthy', what='unhealthy')
    proc = check()
    assert proc.returncode == 2, proc.stderr
    assert problems(proc) == [(a, 'CRITICAL', 'unhealthy')]
    assert proc.stderr.startswith('CRITICAL: 1 problem(s): ')
    (flags / 'healthy').write_text('')
    # not running: stopped by hand (its TERM trap exits 0), so the engine
    # no longer restarts it
    docker_api.stop(a, timeout=1)
    wait_for(lambda: docker_api.inspect_container(a)['State']['Status'] ==
             'exited', what='exited')
    proc = check()
    assert proc.returncode == 2
    assert problems(proc) == [(a, 'CRITICAL', 'not running')]
    assert 'exit code 0' in json.loads(proc.stdout)[0]['detail']
    # missing
    docker_api.remove_container(a, force=True)
    proc = check()
    assert proc.returncode == 2
    assert problems(proc) == [(a, 'CRITICAL', 'missing')]
    # unknown deployment: the check cannot answer
    proc = ctl(hook_env, 'check', '--deployment', 'no-such-deployment')
    assert proc.returncode == 3 and 'no-such-deployment' in proc.stderr


def test_check_reports_a_restarting_container(docker_api, deployment,
                                              hook_env, tmp_path):
    """A process that keeps exiting: Docker restarts it with a growing
    back-off and reports ``restarting`` in between, which check calls
    CRITICAL."""
    if docker_api.kind == engine_compat.PODMAN:
        pytest.skip('podman 4.3 has no restarting state: it restarts a '
                    'container at once, without back-off, and reports it '
                    'running (podman.rst, limits)')
    a = f'{deployment}-a'
    flags = tmp_path / 'flags'
    flags.mkdir()
    apply(deployment, _flag_config(a, flags), hook_env)
    (flags / 'die').write_text('')
    proc = wait_for(lambda: (lambda p: p if p.returncode == 2 and [
        (r['container'], r['severity'], r['problem'])
        for r in json.loads(p.stdout)] == [(a, 'CRITICAL', 'restarting')]
        else None)(ctl(hook_env, 'check', '--deployment', deployment, '-f',
                       'json')), what='restarting')
    assert 'keeps exiting' in json.loads(proc.stdout)[0]['detail']


def healthy(api, name):
    # docker_api.health runs the check on podman, as its systemd timer
    # does on a real node (nothing else runs it for a container the hook
    # is not waiting for)
    wait_for(lambda: api.health(name) == 'healthy', what=f'{name} healthy')


def caps(value):
    """Newer docker CLIs send capabilities as CAP_X, the API keeps X."""
    if isinstance(value, list):
        return [v[4:] if isinstance(v, str) and v.startswith('CAP_') else v
                for v in value]
    return value


def unordered(key, value):
    """The docker CLI collects ``-v`` options in a Go map (docker/cli
    ``parse.go``: ``for bind := range copts.volumes.GetMap()``), so the
    Binds of a container it creates come in random order; compare them as
    a multiset.  The hook itself keeps the definition's order.  podman
    keeps a container's environment in a Go map too, so ``Env`` comes in
    a different order for each container it creates (podman.rst)."""
    if key in ('Binds', 'Env') and isinstance(value, list):
        return sorted(value)
    return value


def test_check_drift_after_a_hand_made_container_and_print_cmd_rerun(
        docker_api, deployment, hook_env):
    """print-cmd's line, run with the real docker CLI, gives a container
    equal in every inspect field the definition sets, which the hook then
    keeps; run from an older definition, check reports the drift."""
    if DOCKER is None:
        pytest.skip('no docker CLI on PATH')
    a = f'{deployment}-a'
    rich = spec(
        environment=['OS_PASSWORD=s3cret-value', 'LEVEL=1'],
        volumes=['/tmp:/hosttmp:ro', '/etc/hostname:/etc/x-hostname:ro'],
        user='root', working_dir='/tmp', restart='always',
        cap_add=['NET_ADMIN'], cap_drop=['MKNOD'], ulimit=['nofile=1024:2048'],
        mem_limit='64m', stop_signal='SIGINT', stop_grace_period=7,
        security_opt=['no-new-privileges'], log_tag='tdh-{{.Name}}',
        healthcheck={'test': 'test -d /tmp', 'interval': '1500ms',
                     'retries': 2, 'timeout': '2s'},
        labels={'team': 'ops'})
    if docker_api.kind == engine_compat.PODMAN and \
            _daemon_log_driver(docker_api) == 'k8s-file':
        # podman's k8s-file log driver has no tag (conmon refuses to
        # start: test_log_tag_keeps_the_daemons_default_driver)
        del rich['log_tag']
    apply(deployment, config({a: rich}), hook_env)
    original = docker_api.inspect_container(a)

    proc = ctl(hook_env, 'print-cmd', a)
    assert proc.returncode == 0, proc.stderr
    assert 's3cret-value' not in proc.stdout and 'OS_PASSWORD=***' in \
        proc.stdout
    proc = ctl(hook_env, 'print-cmd', a, '--show-secrets')  # root here
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout)
    assert argv[:2] == ['docker', 'run']
    docker_api.remove_container(a, force=True)
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    again = docker_api.inspect_container(a)
    for section, keys in (
            ('Config', ('Image', 'Env', 'Cmd', 'Entrypoint', 'Labels',
                        'WorkingDir', 'User', 'Healthcheck', 'StopSignal',
                        'StopTimeout', 'Tty', 'OpenStdin')),
            ('HostConfig', ('Binds', 'Tmpfs', 'NetworkMode', 'Privileged',
                            'CapAdd', 'CapDrop', 'SecurityOpt',
                            'RestartPolicy', 'Ulimits', 'Memory',
                            'PidMode', 'ReadonlyRootfs', 'LogConfig'))):
        for key in keys:
            assert unordered(key, caps(again[section].get(key))) == \
                unordered(key, caps(original[section].get(key))), (
                    section, key)
    # the hook sees its own container: kept, not replaced
    answer = apply(deployment, config({a: rich}), hook_env)
    assert f'keep {a}' in answer['deploy_stdout']
    assert docker_api.inspect_container(a)['Id'] == again['Id']
    healthy(docker_api, a)
    proc = ctl(hook_env, 'check', '--deployment', deployment)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # drift: deploy a change, then put the old container back by hand
    old_line = ctl(hook_env, 'print-cmd', a, '--show-secrets').stdout
    changed = dict(rich, environment=['OS_PASSWORD=s3cret-value',
                                      'LEVEL=2'])
    apply(deployment, config({a: changed}), hook_env)
    docker_api.remove_container(a, force=True)
    run = subprocess.run(shlex.split(old_line), capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    healthy(docker_api, a)
    proc = ctl(hook_env, 'check', '--deployment', deployment, '-f', 'json')
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (finding,) = json.loads(proc.stdout)
    assert finding['problem'] == 'other definition'
    assert 'environment.LEVEL: "1" → "2"' in finding['detail']
    assert 's3cret' not in proc.stdout


def test_check_and_print_cmd_know_namespace_dependents(
        docker_api, deployment, hook_env):
    """A dependent's hash label folds in the hash of the container whose
    namespaces it joins (issue 9): check and print-cmd must fold it too,
    or every dependent is reported as running another definition and a
    print-cmd copy is replaced by the next apply."""
    if DOCKER is None:
        pytest.skip('no docker CLI on PATH')
    parent, child = f'{deployment}-parent', f'{deployment}-child'
    cfg = config({
        parent: spec(ipc='shareable', start_order=0),
        child: spec(start_order=1, pid=f'container:{parent}',
                    ipc=f'container:{parent}', volumes_from=[parent])})
    apply(deployment, cfg, hook_env)
    proc = ctl(hook_env, 'check', '--deployment', deployment, '-f', 'json')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []

    label = 'tripleo-docker-hook.hash'
    wanted = docker_api.inspect_container(child)['Config']['Labels'][label]
    proc = ctl(hook_env, 'print-cmd', child)
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout)
    assert f'{label}={wanted}' in argv, proc.stdout
    docker_api.remove_container(child, force=True)
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    again = docker_api.inspect_container(child)['Id']
    answer = apply(deployment, cfg, hook_env)
    assert f'keep {child}' in answer['deploy_stdout'], answer
    assert docker_api.inspect_container(child)['Id'] == again


def test_logs_exec_run_debug(docker_api, deployment, hook_env):
    a, t = f'{deployment}-a', f'{deployment}-t'
    cfg = config({a: spec(
        command=['sh', '-c', "trap 'exit 0' TERM; for i in 1 2 3; do echo "
                 "line-$i; done; echo to-stderr >&2; sleep 3600 & wait"],
        environment=['GREETING=hello']),
        t: spec(command=['true'], detach=False)})
    apply(deployment, cfg, hook_env)
    wait_for(lambda: b'to-stderr' in docker_api.logs(a), what='logs')

    proc = ctl(hook_env, 'logs', a)
    assert proc.returncode == 0, proc.stderr
    assert 'line-1' in proc.stdout and 'to-stderr' in proc.stdout
    # what the engine answers (its tail over two streams is its own)
    proc = ctl(hook_env, 'logs', a, '--tail', '2')
    assert proc.stdout == docker_api.logs(a, tail=2).decode()
    assert len(proc.stdout.splitlines()) == 2
    follow = subprocess.Popen(['tripleo-docker-hook-ctl', 'logs', a,
                               '--follow'], env=hook_env,
                              stdout=subprocess.PIPE, text=True)
    try:
        # stdout and stderr arrive in the engine's order
        first = [follow.stdout.readline().strip() for _ in range(4)]
        assert sorted(first) == ['line-1', 'line-2', 'line-3', 'to-stderr']
        time.sleep(0.3)
        assert follow.poll() is None  # still following
    finally:
        follow.kill()
        follow.wait()

    proc = ctl(hook_env, 'exec', a, '--', 'sh', '-c',
               'echo "$GREETING out"; echo err >&2; exit 7')
    assert proc.returncode == 7
    assert proc.stdout == 'hello out\n' and proc.stderr == 'err\n'
    one_error_line(ctl(hook_env, 'exec', t, '--', 'true'))  # not running
    one_error_line(ctl(hook_env, 'exec', a))                # no command

    proc = ctl(hook_env, 'run-debug', a, '--override', 'environment.X=42',
               '--', 'sh', '-c', 'echo "X=$X G=$GREETING"; exit 4')
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == 'X=42 G=hello\n'
    left = docker_api.containers(all=True, filters={
        'label': f'tripleo-docker-hook.debug-of={a}'})
    assert left == []
    one_error_line(ctl(hook_env, 'run-debug', a, '--override', 'nope=1'))

    # names this tool does not manage are refused, never touched
    foreign = f'{deployment}-foreign'
    docker_api.create_container(helpers.BUSYBOX, ['true'], name=foreign,
                                labels={'deployment': deployment})
    for args in (('logs', foreign), ('exec', foreign, '--', 'true'),
                 ('print-cmd', foreign), ('run-debug', foreign)):
        line = one_error_line(ctl(hook_env, *args))
        assert 'not managed' in line
    line = one_error_line(ctl(hook_env, 'logs', 'no-such-container'))
    assert 'no-such-container' in line


def test_rollback_to_generation_and_missing_image(docker_api, deployment,
                                                 hook_env):
    add_conf(hook_env, pull_retries=0)
    a = f'{deployment}-a'
    # an image only this test has, under a registry nobody listens on
    gone = f'127.0.0.1:9/tdh/{deployment}:1'
    docker_api.tag(helpers.BUSYBOX, f'127.0.0.1:9/tdh/{deployment}', '1')
    try:
        apply(deployment, config({a: spec(image=gone)}), hook_env)
        apply(deployment, config({a: spec(environment=['V=2'])}), hook_env)
        apply(deployment, config({a: spec(environment=['V=3'])}), hook_env)
    finally:
        docker_api.remove_image(gone, force=True)
    shown = json.loads(ctl(hook_env, 'show', deployment, '-f',
                           'json').stdout)
    assert [(g['generation'], g['current']) for g in shown['generations']] \
        == [(1, False), (2, False), (3, True)]
    assert shown['rollback_target'] == 'generation 2'

    proc = ctl(hook_env, 'rollback', deployment, '--to', '2')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'to generation 2' in proc.stdout
    assert 'environment.V: "3" → "2"' in proc.stdout
    assert 'V=2' in docker_api.inspect_container(a)['Config']['Env']

    before = docker_api.inspect_container(a)['Id']
    proc = ctl(hook_env, 'rollback', deployment, '--to', '1')
    assert proc.returncode != 0
    assert f'no longer present on this host: {gone}' in proc.stdout
    assert 'nothing was changed' in proc.stderr
    assert docker_api.inspect_container(a)['Id'] == before

    line = one_error_line(ctl(hook_env, 'rollback', deployment, '--to',
                              '99'))
    assert 'no generation 99 (kept: 1, 2, 3' in line
    one_error_line(ctl(hook_env, 'rollback', 'no-such-deployment'))


def test_export_deployment_kubernetes_and_quadlet(docker_api, deployment,
                                                  hook_env, tmp_path):
    a = f'{deployment}-a'
    apply(deployment, config({a: spec(environment=[
        'OS_PASSWORD=hunter2hunter2', 'LEVEL=1'])}), hook_env)
    proc = ctl(hook_env, 'export', deployment)
    assert proc.returncode == 0, proc.stderr
    (pod,) = yaml.safe_load_all(proc.stdout)
    env = {e['name']: e['value'] for e in pod['spec']['containers'][0]['env']}
    assert env == {'OS_PASSWORD': '***', 'LEVEL': '1'}
    proc = ctl(hook_env, 'export', deployment, '--format', 'quadlet',
               '--output-dir', str(tmp_path / 'units'))
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / 'units' / f'{a}.container').read_text()
    assert f'ContainerName={a}' in text and 'Network=host' in text
    assert 'hunter2' not in text
    proc = ctl(hook_env, 'export', deployment, '--format', 'quadlet',
               '--show-secrets')
    assert 'Environment=OS_PASSWORD=hunter2hunter2' in proc.stdout
    line = one_error_line(ctl(hook_env, 'export', 'no-such-deployment'))
    assert 'no such file' in line


def _read_pty(master, proc, timeout, reply=None):
    """Everything ``proc`` writes to the terminal ``master`` until it
    closes it or exits (at most ``timeout`` seconds); then waits for it and
    closes ``master``.  ``reply(out)``, called after each read with all
    output so far, may answer on ``master`` (a prompt)."""
    out = b''
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
            if reply is not None:
                reply(out)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(master)
    return out


def _pty_run(env, args, timeout=120):
    """Run with stdout on a pseudo-terminal; everything it printed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(['tripleo-docker-hook-ctl'] + args, env=env,
                            stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = _read_pty(master, proc, timeout)
    return proc.returncode, out.decode('utf-8', 'replace')


@pytest.mark.parametrize('command', ['exec', 'run-debug'])
def test_exec_and_run_debug_on_a_terminal_are_interactive(
        docker_api, deployment, hook_env, command):
    """stdin and stdout on a terminal: ``exec`` and ``run-debug`` run the
    command on a pseudo-terminal with stdin attached (``docker exec -it``,
    ``docker run -it``)."""
    a = f'{deployment}-a'
    apply(deployment, config({a: spec()}), hook_env)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        ['tripleo-docker-hook-ctl', command, a, '--', 'sh'], env=hook_env,
        stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    sent = []

    def reply(out):
        if not sent and b'#' in out:   # the shell's prompt: it reads a tty
            os.write(master, b'tty; echo answer-$((6*7)); exit 3\r')
            sent.append(True)

    out = _read_pty(master, proc, 60, reply)
    text = out.decode('utf-8', 'replace')
    assert proc.returncode == 3, (text, proc.stderr.read())
    assert 'answer-42' in text, text
    assert '/dev/pts/' in text and 'not a tty' not in text, text
    # run-debug's copy is gone
    assert [c['Names'] for c in docker_api.containers(all=True) if any(
        n.startswith(f'/{a}-debug-') for n in c['Names'])] == []


def test_progress_on_a_terminal_only(docker_api, deployment, hook_env,
                                     tmp_path):
    a = f'{deployment}-a'
    path = tmp_path / 'doc.json'
    path.write_text(json.dumps(helpers.make_doc(deployment, config({
        a: spec()}))))
    rc, out = _pty_run(hook_env, ['apply', str(path)])
    assert rc == 0, out
    assert '] created ' + a in out          # each line as it happens
    assert out.count(f'created {a}') == 1   # and not again at the end
    proc = ctl(hook_env, 'delete', deployment)  # piped: the account only
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith('plan for deployment')
    assert '[' not in proc.stdout.splitlines()[0]
    assert 'working' not in proc.stdout
    assert containers(docker_api, deployment) == {}
    line = one_error_line(ctl(hook_env, 'delete', 'no-such-deployment'))
    assert 'unknown deployment' in line
