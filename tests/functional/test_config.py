"""Puppet-rendered config volumes and Kolla files, through the hook.

Real engine, real Puppet (``tdh/puppet``).  One scenario reuses its renders
across assertions (each hook run renders two volumes in parallel, ~3-5 s):
render → serve and read → unchanged re-render → one setting changed →
broken manifest → a file dropped.
"""

import json
import os
import socket
import stat
import urllib.request

import pytest

from tests import helpers

#: Each run records when it compiled (t0) and, after sleeping 6 s, t1: the
#: test checks the intervals of two volumes overlap (6 s: a slow second start,
#: podman's first run, once missed a 3 s window).  The stamp is volatile
#: by design, so the conf leaves it out of the hash (``hash_exclude``).
STAMP = """$t0 = inline_template('<%= Time.now.to_f %>')
$t1 = generate('/bin/sh', '-c', 'sleep 6; date +%s.%N')
file { '/etc/tdh': ensure => directory }
file { '/etc/tdh/stamp': content => "${t0} ${t1}" }
"""


def _web_manifest(greeting, index=True):
    text = STAMP + (
        "ini_setting { 'greeting': ensure => present, path => "
        f"'/etc/tdh/web.ini', section => 'DEFAULT', setting => 'greeting', "
        f"value => '{greeting}' }}\n")
    if index:
        text += ("file { '/etc/tdh/index.html': "
                 "content => lookup('tdh::greeting') }\n")
    return text


OTHER_MANIFEST = STAMP + "file { '/etc/tdh/other.conf': content => 'x=1' }\n"


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def env(hook_env, tmp_path):
    """hook_env plus hiera and a modules dir on the "host"."""
    helpers.write_puppet_conf(tmp_path, hook_env,
                              'tdh::greeting: hello-hiera\n',
                              puppet__hash_exclude='*/tdh/stamp')
    return hook_env


def _config(deployment, cdd, port, web_manifest):
    sleep = helpers.SLEEP_FOREVER
    serve = ['sh', '-c', "trap 'exit 0' TERM; "
             f"httpd -f -p {port} -h /www & wait"]
    return {
        'puppet_config': [
            {'config_volume': f'{deployment}-web',
             'puppet_tags': 'ini_setting',
             'step_config': web_manifest, 'config_image': helpers.PUPPET},
            {'config_volume': f'{deployment}-other', 'puppet_tags': '',
             'step_config': OTHER_MANIFEST, 'config_image': helpers.PUPPET},
        ],
        'kolla_config': {
            # THT names the host path under the default prefix; the hook
            # writes it under kolla_config_dir and moves the mount along.
            '/var/lib/kolla/config_files/web.json': {
                'command': 'httpd -f',
                'config_files': [{
                    'source': '/var/lib/kolla/config_files/src/*',
                    'dest': '/', 'merge': True,
                    'preserve_properties': True}]}},
        'docker_config': {'step_1': {
            f'{deployment}-web': {
                'image': helpers.BUSYBOX, 'net': 'host', 'command': serve,
                'restart': 'always',
                # a sub-directory of the volume
                'volumes': [f'{cdd}/{deployment}-web/etc/tdh:/www:ro']},
            f'{deployment}-reader': {
                'image': helpers.BUSYBOX, 'net': 'host', 'command': sleep,
                'restart': 'always',
                'volumes': [
                    f'{cdd}/puppet-generated/{deployment}-web:/config:ro',
                    '/var/lib/kolla/config_files/web.json:'
                    '/var/lib/kolla/config_files/config.json:ro']},
            f'{deployment}-bystander': {
                'image': helpers.BUSYBOX, 'net': 'host', 'command': sleep,
                'restart': 'always',
                'volumes': [f'{cdd}/{deployment}-other:/config:ro']},
        }},
    }


def _ids(docker_api, deployment):
    return {c['Names'][0].lstrip('/'): c['Id'] for c in docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'})}


def _exec(docker_api, name, cmd):
    exec_id = docker_api.exec_create(name, cmd)
    out = docker_api.exec_start(exec_id).decode()
    return docker_api.exec_inspect(exec_id)['ExitCode'], out


def _get(port, path):
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/{path}',
                                timeout=10) as r:
        return r.read().decode()


def _config_containers(docker_api, deployment):
    """Config containers of this test's volumes (others may be rendering
    concurrently)."""
    return [c['Names'] for c in docker_api.containers(
        all=True, filters={'label': 'tripleo-docker-hook.kind=config'})
        if c['Labels'].get('tripleo-docker-hook.config-volume', '')
        .startswith(deployment)]


def test_render_serve_restart_fail_and_drop(docker_api, deployment, env):
    cdd = env['TDH_CONFIG_DATA_DIR']
    kcd = env['TDH_KOLLA_CONFIG_DIR']
    port = _free_port()
    web, reader, bystander = (f'{deployment}-{n}' for n in
                              ('web', 'reader', 'bystander'))

    def run(manifest, inputs=()):
        doc = helpers.make_doc(deployment, _config(deployment, cdd, port,
                                                   manifest), inputs=inputs)
        return helpers.run_hook(doc, env=env)

    # 1. render: ini_setting + file resources, hiera through the ro mounts.
    answer, rc, _ = run(_web_manifest('one'))
    assert rc == 0, answer
    vweb, vother = f'{deployment}-web', f'{deployment}-other'
    tdh = os.path.join(cdd, vweb, 'etc', 'tdh')
    with open(os.path.join(tdh, 'web.ini')) as f:
        assert 'greeting = one' in f.read()
    with open(os.path.join(tdh, 'index.html')) as f:
        assert f.read() == 'hello-hiera'
    # Bind-mounted files of the config container are never captured.
    for name in ('hosts', 'hostname', 'resolv.conf'):
        assert not os.path.lexists(os.path.join(cdd, vweb, 'etc', name))
    with open(os.path.join(cdd, f'{vweb}.md5sum')) as f:
        web_hash = f.read().strip()
    assert len(web_hash) == 32
    assert _config_containers(docker_api, deployment) == []
    # The two volumes rendered in parallel: their runs overlap in time.
    intervals = []
    for volume in (vweb, vother):
        with open(os.path.join(cdd, volume, 'etc', 'tdh', 'stamp')) as f:
            intervals.append([float(x) for x in f.read().split()])
    assert max(i[0] for i in intervals) < min(i[1] for i in intervals), \
        intervals
    # Served and read by the service containers.
    assert _get(port, 'web.ini').count('greeting = one') == 1
    code, out = _exec(docker_api, reader, ['cat', '/config/etc/tdh/web.ini'])
    assert code == 0 and 'greeting = one' in out
    # Read-only inside.
    assert _exec(docker_api, reader, ['touch', '/config/x'])[0] != 0
    # Kolla: written under kolla_config_dir, 0600, mounted by the reader.
    kolla_file = os.path.join(kcd, 'web.json')
    assert stat.S_IMODE(os.stat(kolla_file).st_mode) == 0o600
    code, out = _exec(docker_api, reader,
                      ['cat', '/var/lib/kolla/config_files/config.json'])
    assert code == 0 and json.loads(out)['command'] == 'httpd -f'
    # Bound from its immutable copy (same content), not the published
    # name: a restart reads what the container was created with.
    (bound,) = [b.split(':')[0] for b in docker_api.inspect_container(
        reader)['HostConfig']['Binds'] if ':/var/lib/kolla/' in b]
    assert bound.startswith(os.path.join(os.path.realpath(kcd),
                                         '.generations/'))
    with open(bound) as a, open(kolla_file) as b:
        assert a.read() == b.read()
    env_of = {n: docker_api.inspect_container(n)['Config']['Env']
              for n in (web, reader, bystander)}
    assert f'TRIPLEO_CONFIG_HASH={web_hash}' in env_of[web]
    reader_hash = [e for e in env_of[reader]
                   if e.startswith('TRIPLEO_CONFIG_HASH=')]
    assert reader_hash and reader_hash[0].startswith(
        f'TRIPLEO_CONFIG_HASH={web_hash}-')
    ids1 = _ids(docker_api, deployment)
    assert set(ids1) == {web, reader, bystander}

    # 2. unchanged inputs: the render is skipped (render_cache); forced,
    # an identical re-render: nothing restarts either way.
    answer, rc, _ = run(_web_manifest('one'))
    assert rc == 0, answer
    assert f'{vweb}: inputs unchanged, render skipped' in \
        answer['deploy_stdout']
    assert _ids(docker_api, deployment) == ids1
    answer, rc, _ = run(_web_manifest('one'),
                        [{'name': 'force_render', 'value': True}])
    assert rc == 0, answer
    assert f'render {vweb}: render forced' in answer['deploy_stdout']
    assert f'config volume {vweb}: unchanged' in answer['deploy_stdout']
    assert _ids(docker_api, deployment) == ids1

    # 3. one setting changes: only the containers mounting "web" restart.
    answer, rc, _ = run(_web_manifest('two'))
    assert rc == 0, answer
    ids3 = _ids(docker_api, deployment)
    assert ids3[web] != ids1[web]
    assert ids3[reader] != ids1[reader]
    assert ids3[bystander] == ids1[bystander]
    assert _get(port, 'web.ini').count('greeting = two') == 1
    code, out = _exec(docker_api, reader, ['cat', '/config/etc/tdh/web.ini'])
    assert 'greeting = two' in out
    with open(os.path.join(cdd, f'{vweb}.md5sum')) as f:
        assert f.read().strip() != web_hash

    # 4. a broken manifest: the deployment fails before any container is
    # touched, with Puppet's error; the previous config stays complete.
    answer, rc, _ = run(_web_manifest('three') + 'this is { not puppet\n')
    assert rc != 0
    assert answer['deploy_status_code'] != 0
    assert f'puppet[{vweb}]: Error:' in answer['deploy_stderr']
    assert f'config rendering failed for {vweb}' in answer['deploy_stderr']
    assert _ids(docker_api, deployment) == ids3
    for name in (web, reader, bystander):
        assert docker_api.inspect_container(name)['State']['Running']
    with open(os.path.join(tdh, 'web.ini')) as f:
        assert 'greeting = two' in f.read()
    assert os.path.exists(os.path.join(tdh, 'index.html'))
    assert _get(port, 'web.ini').count('greeting = two') == 1
    assert _config_containers(docker_api, deployment) == []
    assert not [n for n in os.listdir(cdd) if '.new-' in n]

    # 5. a file dropped from the manifest disappears from the host dir.
    answer, rc, _ = run(_web_manifest('two', index=False))
    assert rc == 0, answer
    assert not os.path.exists(os.path.join(tdh, 'index.html'))
    assert os.path.exists(os.path.join(tdh, 'web.ini'))
    assert _exec(docker_api, reader,
                 ['test', '-e', '/config/etc/tdh/index.html'])[0] != 0
    assert _ids(docker_api, deployment)[bystander] == ids1[bystander]


def test_bad_sections_change_nothing(docker_api, deployment, env):
    cdd = env['TDH_CONFIG_DATA_DIR']
    kcd = env['TDH_KOLLA_CONFIG_DIR']
    name = f'{deployment}-svc'
    containers = {'step_1': {name: {
        'image': helpers.BUSYBOX, 'net': 'host',
        'command': helpers.SLEEP_FOREVER}}}
    bad_volume = {'puppet_config': [{
        'config_volume': '../etc', 'step_config': '',
        'config_image': helpers.PUPPET}], 'docker_config': containers}
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, bad_volume),
                                     env=env)
    assert rc != 0
    assert 'puppet_config[0].config_volume: Invalid value: "../etc"' in \
        answer['deploy_stderr']
    outside = {'kolla_config': {'/etc/tdh-evil.json': {'command': 'x'}},
               'docker_config': containers}
    answer, rc, _ = helpers.run_hook(helpers.make_doc(deployment, outside),
                                     env=env)
    assert rc != 0
    assert 'kolla_config[/etc/tdh-evil.json]: Forbidden' in \
        answer['deploy_stderr']
    assert not os.path.exists('/etc/tdh-evil.json')
    assert os.listdir(cdd) == [] and os.listdir(kcd) == []
    assert docker_api.containers(
        all=True, filters={'label': f'deployment={deployment}'}) == []
