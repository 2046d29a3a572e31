"""A config image is untrusted input; rollback restores what ran before.

Real engine, and ``tdh/fake-puppet`` as the config image: its ``puppet``
runs the manifest as a shell script, so each test's "manifest" does what a
broken or hostile config image would do (issue 10).
"""

import json
import os
import signal
import subprocess
import time

import pytest

from tests import helpers
from tripleo_docker_hook import confighash
from tripleo_docker_hook import engine_compat

KOLLA_KEY = '/var/lib/kolla/config_files/{}.json'
KOLLA_MOUNT = '/var/lib/kolla/config_files/config.json'


@pytest.fixture(scope='module')
def fake_puppet(docker_api):
    try:
        docker_api.inspect_image(helpers.FAKE_PUPPET)
    except Exception:
        pytest.fail(f'test image {helpers.FAKE_PUPPET} missing: run '
                    'tools/build-images.sh')
    return helpers.FAKE_PUPPET


def _conf(tmp_path, env, **extra):
    helpers.write_conf(
        tmp_path / 'hook.conf', state_dir=env['TDH_STATE_DIR'],
        config_data_dir=env['TDH_CONFIG_DATA_DIR'],
        kolla_config_dir=env['TDH_KOLLA_CONFIG_DIR'],
        puppet__modules_dir=tmp_path / 'none',
        puppet__hieradata_dir=tmp_path / 'none',
        puppet__hiera_config=tmp_path / 'none', start_timeout=20, **extra)


@pytest.fixture
def env(hook_env, tmp_path, fake_puppet):
    _conf(tmp_path, hook_env)
    return hook_env


def _puppet(volume, script):
    return {'config_volume': volume, 'puppet_tags': '',
            'step_config': script, 'config_image': helpers.FAKE_PUPPET}


def _service(volumes, health=None, **extra):
    svc = {'image': helpers.BUSYBOX, 'net': 'host',
           'command': helpers.SLEEP_FOREVER, 'restart': 'always',
           'volumes': volumes}
    if health:
        svc['healthcheck'] = {'test': health, 'interval': '1s',
                              'timeout': '1s', 'retries': 1}
    svc.update(extra)
    return svc


def _run(name, config, env, timeout=300):
    return helpers.run_hook(helpers.make_doc(name, config), env=env,
                            timeout=timeout)


def _exec(docker_api, name, cmd):
    exec_id = docker_api.exec_create(name, cmd)
    out = docker_api.exec_start(exec_id).decode()
    return docker_api.exec_inspect(exec_id)['ExitCode'], out


def _env_hash(docker_api, name):
    for item in docker_api.inspect_container(name)['Config']['Env']:
        if item.startswith('TRIPLEO_CONFIG_HASH='):
            return item.split('=', 1)[1]
    return None


def _md5(cdd, volume):
    with open(os.path.join(cdd, f'{volume}.md5sum')) as f:
        return f.read().strip()


def _wait(predicate, timeout=30.0, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')


def _source(docker_api, name, target):
    for m in docker_api.inspect_container(name)['Mounts']:
        if m['Destination'] == target:
            return m['Source']
    raise AssertionError(f'{name} has no mount at {target}')


def _gen_root(cdd, source):
    rel = os.path.relpath(source, os.path.realpath(cdd))
    return os.path.join(os.path.realpath(cdd), rel.split('/')[0])


# -- item 1: rollback restores exactly what ran before ---------------------
def test_failed_replace_runs_the_old_config_and_old_kolla_file(
        docker_api, deployment, env):
    cdd, kcd = env['TDH_CONFIG_DATA_DIR'], env['TDH_KOLLA_CONFIG_DIR']
    vol, svc = f'{deployment}-cfg', f'{deployment}-svc'
    other_dep = f'{deployment}-o'
    other = f'{other_dep}-reader'

    def config(word):
        script = f'mkdir -p /etc/x\necho {word} > /etc/x/conf\n'
        return {
            'puppet_config': [_puppet(vol, script)],
            'kolla_config': {KOLLA_KEY.format(vol): {'command': word}},
            'docker_config': {'step_1': {svc: _service(
                [f'{cdd}/{vol}/etc/x:/cfg:ro',
                 f'{KOLLA_KEY.format(vol)}:{KOLLA_MOUNT}:ro'],
                health='grep -q GOOD /cfg/conf')}}}

    answer, rc, _ = _run(deployment, config('GOOD-v1'), env)
    assert rc == 0, answer
    h1 = _md5(cdd, vol)
    kolla_file = os.path.join(kcd, f'{vol}.json')
    with open(kolla_file) as f:
        kolla_v1 = f.read()
    gen1 = os.readlink(os.path.join(cdd, vol))
    id1 = docker_api.inspect_container(svc)['Id']
    env1 = _env_hash(docker_api, svc)
    # The container binds its immutable generation, not the published name,
    # and the hash it carries is the hash of what it reads.
    cfg_source = _source(docker_api, svc, '/cfg')
    assert cfg_source == os.path.join(os.path.realpath(cdd), gen1, 'etc/x')
    assert confighash.tree_hash(_gen_root(cdd, cfg_source)) == h1
    kolla_source = _source(docker_api, svc, KOLLA_MOUNT)
    with open(kolla_source) as f:
        assert f.read() == kolla_v1
    assert env1 == f'{h1}-{confighash.file_hash(kolla_source)}'

    # Another deployment mounts the same volume without rendering it.
    try:
        answer, rc, _ = _run(other_dep, {'docker_config': {'step_1': {
            other: _service([f'{cdd}/{vol}/etc/x:/cfg:ro'])}}}, env)
        assert rc == 0, answer
        assert _env_hash(docker_api, other) == h1

        # v2 renders a config the service cannot run on.
        answer, rc, _ = _run(deployment, config('BAD-v2'), env)
        assert rc == 1, answer
        err = answer['deploy_stderr']
        assert (f'{svc}: replacement failed (health check failed); rolled '
                f'back, the previous container is running again on its '
                f'previous config (TRIPLEO_CONFIG_HASH={env1})') in err
        assert f'config volume {vol}: previous config (hash {h1}) ' \
            'published again' in err
        assert f'kolla config {kolla_file}: previous content published ' \
            'again' in err
        # The old container, on the old config and the old Kolla file.
        info = docker_api.inspect_container(svc)
        assert info['Id'] == id1 and info['State']['Running']
        assert _env_hash(docker_api, svc) == env1
        assert _exec(docker_api, svc, ['cat', '/cfg/conf']) == \
            (0, 'GOOD-v1\n')
        code, out = _exec(docker_api, svc, ['cat', KOLLA_MOUNT])
        assert code == 0 and json.loads(out)['command'] == 'GOOD-v1'
        _wait(lambda: docker_api.health(svc) == 'healthy', what='healthy')
        # The previous config is what is published.
        assert os.readlink(os.path.join(cdd, vol)) == gen1
        assert _md5(cdd, vol) == h1
        with open(kolla_file) as f:
            assert f.read() == kolla_v1
        # The unproven generation is gone; nothing left behind.
        gens = [n for n in os.listdir(cdd) if n.startswith(f'.{vol}.gen-')]
        assert gens == [gen1]
        assert not [n for n in os.listdir(cdd) if '.new-' in n]
        assert not [n for n in os.listdir(kcd) if '.tdh-' in n]

        # Restarts (docker restart; the restart policy) read the same.
        docker_api.restart(other, timeout=5)
        assert _exec(docker_api, other, ['cat', '/cfg/conf']) == \
            (0, 'GOOD-v1\n')
        count = docker_api.inspect_container(other)['RestartCount']
        # (no exec inspect: podman drops the exec session with the
        # container's exit)
        docker_api.exec_start(docker_api.exec_create(other, ['kill', '1']))
        def restarted():
            info = docker_api.inspect_container(other)
            return info['RestartCount'] > count and \
                info['State']['Running'] and not info['State']['Restarting']
        _wait(restarted, what='restart policy')
        assert _exec(docker_api, other, ['cat', '/cfg/conf']) == \
            (0, 'GOOD-v1\n')
        docker_api.restart(svc, timeout=5)
        assert _exec(docker_api, svc, ['cat', '/cfg/conf']) == \
            (0, 'GOOD-v1\n')

        # v3 succeeds: the service moves to its generation; the old one
        # stays while the other deployment's container binds it.
        answer, rc, _ = _run(deployment, config('GOOD-v3'), env)
        assert rc == 0, answer
        assert _exec(docker_api, svc, ['cat', '/cfg/conf']) == \
            (0, 'GOOD-v3\n')
        assert _exec(docker_api, other, ['cat', '/cfg/conf']) == \
            (0, 'GOOD-v1\n')
        gen3 = os.readlink(os.path.join(cdd, vol))
        assert gen3 != gen1 and os.path.isdir(os.path.join(cdd, gen1))
        # The other deployment's next apply moves it to the new config.
        answer, rc, _ = _run(other_dep, {'docker_config': {'step_1': {
            other: _service([f'{cdd}/{vol}/etc/x:/cfg:ro'])}}}, env)
        assert rc == 0, answer
        assert _exec(docker_api, other, ['cat', '/cfg/conf']) == \
            (0, 'GOOD-v3\n')
        assert _env_hash(docker_api, other) == _md5(cdd, vol)
        # ...after which the first generation is collected at the next
        # render.
        answer, rc, _ = _run(deployment, config('GOOD-v3'), env)
        assert rc == 0, answer
        assert not os.path.exists(os.path.join(cdd, gen1))
    finally:
        from tests.functional.conftest import remove_deployment
        remove_deployment(docker_api, other_dep)


# -- item 2: nothing an image produced leads outside the config dirs ------
def test_symlinks_from_the_config_image_lead_nowhere(docker_api, deployment,
                                                      env, tmp_path):
    cdd, kcd = env['TDH_CONFIG_DATA_DIR'], env['TDH_KOLLA_CONFIG_DIR']
    vol = f'{deployment}-evil'
    secret = tmp_path / 'host-secret'
    secret.mkdir()
    (secret / 'secret').write_text('s3cret')
    script = f'mkdir -p /etc/ok\nrm -rf /etc/x\nln -s {secret} /etc/x\n' \
        f'ln -s {"../" * 12} /etc/up\necho fine > /etc/ok/conf\n'
    answer, rc, _ = _run(deployment, {'puppet_config': [_puppet(vol, script)]},
                         env)
    # Published as data (the links resolve inside containers)...
    assert rc == 0, answer
    assert os.readlink(os.path.join(cdd, vol, 'etc', 'x')) == str(secret)
    svc = f'{deployment}-svc'
    binds = {
        # (a) a bind through the link: the host directory is refused
        'bind': ({'docker_config': {'step_1': {svc: _service(
            [f'{cdd}/{vol}/etc/x:/cfg:ro'])}}}, str(secret)),
        'up': ({'docker_config': {'step_1': {svc: _service(
            [f'{cdd}/puppet-generated/{vol}/etc/up/etc:/cfg:ro'])}}},
            '/etc'),
        # (b) a Pod hostPath FileOrCreate below the link: not created
        'pod': ({'apiVersion': 'v1', 'kind': 'Pod',
                 'metadata': {'name': deployment},
                 'spec': {'volumes': [{'name': 'f', 'hostPath': {
                     'path': f'{cdd}/{vol}/etc/x/planted',
                     'type': 'FileOrCreate'}}],
                     'containers': [{
                         'name': 'c', 'image': helpers.BUSYBOX,
                         'imagePullPolicy': 'IfNotPresent',
                         'command': helpers.SLEEP_FOREVER,
                         'volumeMounts': [{'name': 'f',
                                           'mountPath': '/f'}]}]}},
                str(secret / 'planted')),
    }
    for what, (config, outside) in binds.items():
        answer, rc, _ = _run(f'{deployment}-{what}', config, env)
        assert rc == 1, (what, answer)
        assert f'resolves to {outside}, outside the rendered config ' \
            f'{cdd}/' in answer['deploy_stderr'], (what, answer)
        assert 'nothing was changed' in answer['deploy_stderr']
        assert docker_api.containers(all=True, filters={
            'label': f'deployment={deployment}-{what}'}) == []
    assert sorted(os.listdir(secret)) == ['secret']
    # ... while a mount that stays inside works.
    answer, rc, _ = _run(f'{deployment}-bind', {'docker_config': {'step_1': {
        svc: _service([f'{cdd}/{vol}/etc/ok:/cfg:ro'])}}}, env)
    try:
        assert rc == 0, answer
        assert _exec(docker_api, svc, ['cat', '/cfg/conf']) == (0, 'fine\n')
    finally:
        from tests.functional.conftest import remove_deployment
        remove_deployment(docker_api, f'{deployment}-bind')

    # A symlinked sub-directory of kolla_config_dir is never written
    # through, and nothing is published.
    planted = tmp_path / 'kolla-target'
    planted.mkdir()
    os.symlink(planted, os.path.join(kcd, 'sub'))
    answer, rc, _ = _run(deployment, {
        'puppet_config': [_puppet(vol, 'echo v2 > /etc/v2\n')],
        'kolla_config': {KOLLA_KEY.format('sub/a'): {'command': 'x'}}}, env)
    assert rc == 1, answer
    assert 'refusing to write Kolla files through it' in \
        answer['deploy_stderr']
    assert os.listdir(planted) == []
    assert not os.path.exists(os.path.join(cdd, vol, 'etc', 'v2'))


# -- item 4 (and hard links): modes are deliberate -------------------------
def test_copy_out_strips_setuid_and_world_writable(docker_api, deployment,
                                                   env):
    cdd = env['TDH_CONFIG_DATA_DIR']
    vol = f'{deployment}-modes'
    script = '\n'.join([
        'mkdir -p /etc/t/d', 'cp /bin/busybox /etc/t/suid',
        'chmod 4755 /etc/t/suid', 'cp /bin/busybox /etc/t/sgid',
        'chmod 2755 /etc/t/sgid', 'echo x > /etc/t/ww',
        'chmod 0666 /etc/t/ww', 'chmod 3777 /etc/t/d',
        'echo shared > /etc/t/a', 'ln /etc/t/a /etc/t/b',
        'chmod 0640 /etc/t/a', 'chown 65534:65534 /etc/t/a', ''])
    answer, rc, _ = _run(deployment, {'puppet_config': [_puppet(vol, script)]},
                         env)
    assert rc == 0, answer
    t = os.path.join(cdd, vol, 'etc', 't')

    def mode(name):
        return os.stat(os.path.join(t, name)).st_mode & 0o7777
    assert mode('suid') == 0o755
    assert mode('sgid') == 0o755
    assert mode('ww') == 0o664       # 0666 less o+w
    assert mode('d') == 0o775
    a, b = os.stat(os.path.join(t, 'a')), os.stat(os.path.join(t, 'b'))
    assert a.st_ino == b.st_ino and a.st_nlink == 2
    # podman's archive API gives every entry the config container's user
    # (root), not the owner in the container (podman#10801; podman.rst,
    # limits): Kolla's config.json permissions set service owners at start.
    owner = (0, 0) if docker_api.kind == engine_compat.PODMAN \
        else (65534, 65534)
    assert (a.st_mode & 0o7777, a.st_uid, a.st_gid) == (0o640,) + owner
    assert os.stat(os.path.realpath(os.path.join(cdd, vol))).st_mode \
        & 0o7777 == 0o755


# -- item 3: a subPath that escapes later ----------------------------------
def test_escaping_subpath_container_is_removed_by_next_apply(
        docker_api, deployment, env, tmp_path):
    volume = tmp_path / 'vol'
    (volume / 'data').mkdir(parents=True)
    (volume / 'data' / 'inside').write_text('inside')
    host = tmp_path / 'hostfiles'
    host.mkdir()
    (host / 'secret').write_text('host')
    pod = {'apiVersion': 'v1', 'kind': 'Pod',
           'metadata': {'name': deployment},
           'spec': {'volumes': [{'name': 'v', 'hostPath': {
               'path': str(volume), 'type': 'Directory'}}],
               'containers': [
                   {'name': 'writer', 'image': helpers.BUSYBOX,
                    'imagePullPolicy': 'IfNotPresent',
                    'command': helpers.SLEEP_FOREVER,
                    'volumeMounts': [{'name': 'v', 'mountPath': '/v'}]},
                   {'name': 'reader', 'image': helpers.BUSYBOX,
                    'imagePullPolicy': 'IfNotPresent',
                    'command': helpers.SLEEP_FOREVER,
                    'volumeMounts': [{'name': 'v', 'mountPath': '/d',
                                      'subPath': 'data'}]}]}}
    writer, reader = f'{deployment}-writer', f'{deployment}-reader'
    answer, rc, _ = _run(deployment, pod, env)
    assert rc == 0, answer
    assert _exec(docker_api, reader, ['cat', '/d/inside']) == (0, 'inside')
    # The writer swaps the sub-directory for a link to a host directory.
    code, _ = _exec(docker_api, writer, [
        'sh', '-c', f'rm -rf /v/data && ln -s {host} /v/data'])
    assert code == 0
    # Docker resolves bind sources at every start: that is the threat.
    docker_api.restart(reader, timeout=5)
    assert _exec(docker_api, reader, ['cat', '/d/secret']) == (0, 'host')
    # The next apply refuses the definition and removes the reader, so
    # no restart (policy, reboot) reads host files again; nothing else.
    answer, rc, _ = _run(deployment, pod, env)
    assert rc == 2, answer
    err = answer['deploy_stderr']
    assert 'subPath data resolves outside the volume' in err
    names = {c['Names'][0].lstrip('/') for c in docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'})}
    assert names == {writer}
    assert f'removed {reader} (its subPath resolves outside the volume)' \
        in answer['deploy_stdout']


# -- item 5: deep trees ----------------------------------------------------
def test_deep_tree_is_refused_and_an_old_one_is_removed(docker_api,
                                                        deployment, env):
    cdd = env['TDH_CONFIG_DATA_DIR']
    vol = f'{deployment}-deep'
    deep = 'd=/etc/deep; i=0; while [ $i -lt 1200 ]; do d=$d/a; ' \
        'i=$((i+1)); done; mkdir -p $d\n'
    answer, rc, _ = _run(deployment, {'puppet_config': [_puppet(vol, deep)]},
                         env)
    assert rc == 1, answer
    assert f'config volume {vol}: config archive nests deeper than 64 ' \
        'levels ([puppet] copy_out_max_depth)' in answer['deploy_stderr']
    assert not [n for n in os.listdir(cdd) if '.new-' in n]
    assert not os.path.lexists(os.path.join(cdd, vol))
    # A deep tree an older version published is removed without
    # recursion once it is replaced.
    answer, rc, _ = _run(deployment, {'puppet_config': [
        _puppet(vol, 'echo 1 > /etc/one\n')]}, env)
    assert rc == 0, answer
    gen1 = os.path.realpath(os.path.join(cdd, vol))
    path = gen1
    for _ in range(1200):        # os.makedirs would recurse
        path = os.path.join(path, 'a')
        os.mkdir(path)
    answer, rc, _ = _run(deployment, {'puppet_config': [
        _puppet(vol, 'echo 2 > /etc/two\n')]}, env)
    assert rc == 0, answer
    assert not os.path.exists(gen1)
    assert not [n for n in os.listdir(cdd) if '.new-' in n or '.rm-' in n]


# -- items 6 and 8: a full disk ---------------------------------------------
@pytest.fixture
def small_fs(tmp_path):
    """Mount a small tmpfs (created and removed here); ``mount(name, mib)``."""
    mounted = []

    def mount(name, mib):
        path = tmp_path / name
        path.mkdir()
        subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={mib}m,mode=755',
                        'tdh-test', str(path)], check=True)
        mounted.append(path)
        return str(path)
    yield mount
    for path in reversed(mounted):
        subprocess.run(['umount', '-l', str(path)], check=False)


def _fill(path):
    with open(os.path.join(path, 'filler'), 'wb') as f:
        try:
            while True:
                f.write(b'\0' * 65536)
                f.flush()
        except OSError:
            pass


def test_full_disk_during_copy_out(docker_api, deployment, hook_env,
                                   tmp_path, fake_puppet, small_fs):
    cdd = small_fs('cdd', 4)
    env = dict(hook_env, TDH_CONFIG_DATA_DIR=cdd)
    _conf(tmp_path, env)
    vol = f'{deployment}-full'
    answer, rc, _ = _run(deployment, {'puppet_config': [
        _puppet(vol, 'echo v1 > /etc/conf\n')]}, env)
    assert rc == 0, answer
    h1 = _md5(cdd, vol)
    started = time.monotonic()
    answer, rc, _ = _run(deployment, {'puppet_config': [_puppet(
        vol, 'echo v2 > /etc/conf\n'
        'dd if=/dev/zero of=/etc/big bs=1M count=16\n')]}, env, timeout=60)
    took = time.monotonic() - started
    assert rc == 1, answer
    assert f'config volume {vol}: copy-out into {cdd}: No space left on ' \
        'device' in answer['deploy_stderr'], answer
    print(f'full disk reported in {took:.1f} s')
    with open(os.path.join(cdd, vol, 'etc', 'conf')) as f:
        assert f.read() == 'v1\n'
    assert _md5(cdd, vol) == h1
    assert not [n for n in os.listdir(cdd) if '.new-' in n]
    assert docker_api.containers(all=True, filters={
        'label': f'tripleo-docker-hook.config-volume={vol}'}) == []


def test_full_kolla_dir_publishes_nothing(docker_api, deployment, hook_env,
                                          tmp_path, fake_puppet, small_fs):
    kcd = small_fs('kcd', 1)
    env = dict(hook_env, TDH_KOLLA_CONFIG_DIR=kcd)
    _conf(tmp_path, env)
    cdd = env['TDH_CONFIG_DATA_DIR']
    vol = f'{deployment}-k'

    def config(word):
        return {'puppet_config': [_puppet(vol, f'echo {word} > /etc/conf\n')],
                'kolla_config': {KOLLA_KEY.format(vol): {'command': word}}}
    answer, rc, _ = _run(deployment, config('v1'), env)
    assert rc == 0, answer
    gen1, h1 = os.readlink(os.path.join(cdd, vol)), _md5(cdd, vol)
    kolla_file = os.path.join(kcd, f'{vol}.json')
    with open(kolla_file) as f:
        kolla_v1 = f.read()
    _fill(kcd)
    answer, rc, _ = _run(deployment, config('v2'), env)
    assert rc == 1, answer
    assert 'No space left on device' in answer['deploy_stderr']
    assert os.readlink(os.path.join(cdd, vol)) == gen1
    assert _md5(cdd, vol) == h1
    with open(kolla_file) as f:
        assert f.read() == kolla_v1
    assert [n for n in os.listdir(cdd) if n.startswith(f'.{vol}.')] == [gen1]
    # Conflicting keys: a validation error, nothing written.
    os.unlink(os.path.join(kcd, 'filler'))
    answer, rc, _ = _run(deployment, {'kolla_config': {
        KOLLA_KEY.format('c'): {'command': 'x'},
        KOLLA_KEY.format('c.json/d'): {'command': 'y'}}}, env)
    assert rc == 2, answer
    assert (f'kolla_config[{KOLLA_KEY.format("c.json/d")}]: Invalid value'
            in answer['deploy_stderr'])
    assert not os.path.exists(os.path.join(kcd, 'c.json'))


# -- item 7: huge files ----------------------------------------------------
def test_huge_files_bounded_memory_and_size_cap(docker_api, deployment,
                                                env, tmp_path):
    cdd = env['TDH_CONFIG_DATA_DIR']
    vol = f'{deployment}-huge'
    big = {'puppet_config': [_puppet(
        vol, 'dd if=/dev/zero of=/etc/big bs=1M count=300 2>/dev/null\n')]}
    # The hook's peak RSS, measured by a parent of its own.
    probe = ('import json, resource, subprocess, sys\n'
             'p = subprocess.run(sys.argv[1:], stdin=sys.stdin)\n'
             'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,'
             ' file=sys.stderr)\n'
             'sys.exit(p.returncode)\n')
    proc = subprocess.run(
        [os.sys.executable, '-c', probe] + helpers.hook_command(),
        input=json.dumps(helpers.make_doc(deployment, big)),
        capture_output=True, text=True, env=env, timeout=300)
    answer = json.loads(proc.stdout)
    assert proc.returncode == 0, answer
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    print(f'hook peak RSS with a 300 MiB rendered file: {peak_kib} KiB')
    assert peak_kib < 150 * 1024
    assert os.path.getsize(os.path.join(cdd, vol, 'etc', 'big')) == 300 << 20
    # Over the cap: a clear error, the previous config kept.
    _conf(tmp_path, env, puppet__copy_out_max_mib=8)
    answer, rc, _ = _run(deployment, {'puppet_config': [_puppet(
        vol, 'dd if=/dev/zero of=/etc/big2 bs=1M count=20 2>/dev/null\n')]},
        env)
    assert rc == 1, answer
    assert f'config volume {vol}: config archive is larger than 8 MiB ' \
        '([puppet] copy_out_max_mib)' in answer['deploy_stderr']
    assert os.path.exists(os.path.join(cdd, vol, 'etc', 'big'))


# -- item 9: kill -9 during a render ---------------------------------------
def test_next_run_cleans_what_a_killed_render_left(docker_api, deployment,
                                                   env):
    cdd, state = env['TDH_CONFIG_DATA_DIR'], env['TDH_STATE_DIR']
    vol = f'{deployment}-killed'
    doc = helpers.make_doc(deployment, {'puppet_config': [
        _puppet(vol, 'echo started > /etc/started\nsleep 120\n')]})
    proc = subprocess.Popen(helpers.hook_command(), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    proc.stdin.write(json.dumps(doc))
    proc.stdin.close()
    label = {'label': f'tripleo-docker-hook.config-volume={vol}'}
    manifests = os.path.join(state, 'puppet')
    try:
        _wait(lambda: docker_api.containers(filters=label) and
              os.path.isdir(manifests) and os.listdir(manifests) and
              [n for n in os.listdir(cdd) if '.new-' in n],
              what='the render to start')
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert docker_api.containers(filters=label)
    answer, rc, _ = _run(deployment, {'puppet_config': [
        _puppet(vol, 'echo ok > /etc/ok\n')]}, env)
    assert rc == 0, answer
    assert os.listdir(manifests) == []
    assert not [n for n in os.listdir(cdd) if '.new-' in n]
    assert docker_api.containers(all=True, filters=label) == []
    assert os.path.exists(os.path.join(cdd, vol, 'etc', 'ok'))
