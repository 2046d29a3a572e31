"""The render cache against the real engine and real Puppet (issue 14).

Two config volumes, ``a`` and ``b``.  After a first render, each input
kind is changed alone and the test proves from the engine's own event
stream which config containers were created: per-volume inputs (config
image ID behind an unchanged tag, manifest, puppet tags, the content of an
extra volume, a tampered published tree) re-render exactly that volume;
inputs every volume reads (hieradata, hiera.yaml, the modules tree, a
puppet option of the hook, host facts read through ``host_root``)
re-render both; unchanged inputs create no config container at all.  A run
killed with SIGKILL while Puppet runs leaves no record: the next run
renders that volume again.
"""

import json
import os
import signal
import subprocess
import time

import pytest

from tests import helpers

LABEL_KIND = 'tripleo-docker-hook.kind=config'
LABEL_VOLUME = 'tripleo-docker-hook.config-volume'


def _manifest(volume, extra=''):
    return (f"file {{ '/etc/{volume}.conf':\n"
            f"  content => \"v=${{lookup('tdh::value')}} {extra}\\n\" }}\n")


@pytest.fixture
def setup(docker_api, deployment, hook_env, tmp_path):
    # host_root: a "host" whose /etc/hosts the test edits; the rest of its
    # tree is the real one (the engine mounts the extra volume from it).
    host = tmp_path / 'host'
    (host / 'etc').mkdir(parents=True)
    (host / 'etc' / 'hosts').write_text('127.0.0.1 localhost\n')
    top = str(tmp_path).strip('/').split('/')[0]
    os.symlink(f'/{top}', host / top)
    extra = tmp_path / 'extra.txt'
    extra.write_text('one\n')
    opts = dict(host_root=str(host))
    conf = helpers.write_puppet_conf(tmp_path, hook_env,
                                     'tdh::value: first\n', **opts)
    # A private tag for volume a's config image, moved to another image
    # ID later (same tag, new ID).
    image = f'{deployment}-cfg:latest'.lower()
    repo, tag = image.split(':')
    docker_api.tag(helpers.PUPPET, repo, tag)
    created = []
    state = {'tmp': tmp_path, 'conf': conf, 'opts': opts, 'image': image,
             'extra': extra, 'tags': {'a': 'file', 'b': 'file'},
             'manifests': {'a': _manifest('a'), 'b': _manifest('b')},
             'images': created}
    yield state
    for ref in [image] + created:
        try:
            docker_api.remove_image(ref, force=True)
        except Exception:
            pass


def _config(deployment, state):
    return {'puppet_config': [
        {'config_volume': f'{deployment}-a', 'config_image': state['image'],
         'puppet_tags': state['tags']['a'],
         'step_config': state['manifests']['a'],
         'volumes': [f'{state["extra"]}:/etc/tdh-extra.txt:ro']},
        {'config_volume': f'{deployment}-b', 'config_image': helpers.PUPPET,
         'puppet_tags': state['tags']['b'],
         'step_config': state['manifests']['b']}]}


def _created(docker_api, deployment, start, end):
    """Volumes whose config container the engine created in the window
    (``time.time()`` values)."""
    found = []
    for event in docker_api.events(
            since=int(start) - 1, until=int(end) + 2, decode=True,
            filters={'type': 'container', 'event': 'create',
                     'label': LABEL_KIND}):
        if not start * 1e9 <= event.get('timeNano', 0) <= end * 1e9:
            continue
        volume = event.get('Actor', {}).get('Attributes', {}).get(
            LABEL_VOLUME, '')
        if volume.startswith(deployment):
            found.append(volume[len(deployment) + 1:])
    return sorted(found)


def _run(docker_api, deployment, state, hook_env, inputs=()):
    start = time.time()
    doc = helpers.make_doc(deployment, _config(deployment, state),
                           inputs=inputs)
    answer, rc, _ = helpers.run_hook(doc, env=hook_env)
    assert rc == 0, answer
    return answer['deploy_stdout'], _created(docker_api, deployment, start,
                                             time.time())


def _published(hook_env, deployment, volume):
    with open(os.path.join(hook_env['TDH_CONFIG_DATA_DIR'],
                           f'{deployment}-{volume}', 'etc',
                           f'{volume}.conf')) as f:
        return f.read()


def test_each_input_kind_renders_exactly_its_readers(
        docker_api, deployment, hook_env, setup):
    state = setup
    run = lambda **kw: _run(docker_api, deployment, state, hook_env, **kw)  # noqa: E731
    out, created = run()
    assert created == ['a', 'b'], out
    assert 'no record of a finished render' in out
    assert _published(hook_env, deployment, 'a') == 'v=first \n'

    # Unchanged: not one config container, both skips reported.
    out, created = run()
    assert created == [], out
    for v in 'ab':
        assert f'{deployment}-{v}: inputs unchanged, render skipped' in out

    def expect(reason_a, created_want, reason_b=None):
        out, created = run()
        assert created == created_want, out
        assert f'render {deployment}-a: {reason_a}' in out, out
        if reason_b:
            assert f'render {deployment}-b: {reason_b}' in out, out
        else:
            assert f'{deployment}-b: inputs unchanged' in out, out
        out, created = run()  # and then it is settled
        assert created == [], out
        return out

    # Per-volume inputs: only a.
    container = docker_api.create_container(helpers.PUPPET, command=['true'],
                                            labels={'tdh-test': deployment})
    new_image = docker_api.commit(container['Id'], changes=[
        f'LABEL tdh.rc={deployment}'])['Id']
    docker_api.remove_container(container['Id'])
    state['images'].append(new_image)
    repo, tag = state['image'].split(':')
    docker_api.tag(new_image, repo, tag, force=True)
    expect('image changed', ['a'])

    state['manifests']['a'] = _manifest('a', 'two')
    expect('manifest changed', ['a'])
    assert _published(hook_env, deployment, 'a') == 'v=first two\n'

    state['tags']['a'] = 'file,notify'
    expect('puppet changed', ['a'])

    state['extra'].write_text('two\n')
    expect('volumes changed', ['a'])

    # Inputs every volume reads: both.
    tmp = state['tmp']
    (tmp / 'hieradata' / 'common.yaml').write_text('tdh::value: second\n')
    expect('hieradata changed: common.yaml', ['a', 'b'],
           'hieradata changed: common.yaml')
    assert _published(hook_env, deployment, 'b') == 'v=second \n'

    hiera = tmp / 'hiera.yaml'
    hiera.write_text(hiera.read_text() + '# edited\n')
    expect('hiera config changed', ['a', 'b'], 'hiera config changed')

    (tmp / 'modules' / 'tdh').mkdir()
    (tmp / 'modules' / 'tdh' / 'README').write_text('x\n')
    expect('modules changed: tdh/README', ['a', 'b'],
           'modules changed: tdh/README')

    # A hook option in its config file.
    conf = state['conf']
    conf.write_text(conf.read_text().replace(
        '[puppet]', '[puppet]\ntags = file,file_line'))
    expect('puppet changed', ['a', 'b'], 'puppet changed')

    hosts = tmp / 'host' / 'etc' / 'hosts'
    hosts.write_text(hosts.read_text() + '10.0.0.5 node-0.example.com\n')
    expect('facts changed', ['a', 'b'], 'facts changed')

    # A tampered published tree: that volume again.
    path = os.path.join(hook_env['TDH_CONFIG_DATA_DIR'], f'{deployment}-b',
                        'etc', 'b.conf')
    os.chmod(path, 0o644)
    with open(path, 'w') as f:
        f.write('tampered\n')
    out, created = run()
    assert created == ['b'], out
    assert f'render {deployment}-b: published config altered' in out
    assert _published(hook_env, deployment, 'b') == 'v=second \n'

    # Forced: both render although nothing changed.
    out, created = run(inputs=[{'name': 'force_render', 'value': 'true'}])
    assert created == ['a', 'b'], out
    assert f'render {deployment}-a: render forced' in out


def test_render_cache_off_always_renders(docker_api, deployment, hook_env,
                                         setup):
    state = setup
    conf = state['conf']
    conf.write_text(conf.read_text().replace(
        '[puppet]', '[puppet]\nrender_cache = false'))
    _run(docker_api, deployment, state, hook_env)
    out, created = _run(docker_api, deployment, state, hook_env)
    assert created == ['a', 'b'], out
    assert 'render cache disabled' in out


def test_kill9_during_a_render_is_never_trusted(docker_api, deployment,
                                                hook_env, setup):
    state = setup
    _run(docker_api, deployment, state, hook_env)
    # A render that takes a while, killed while Puppet runs.
    state['manifests']['a'] = _manifest('a', 'slow') + (
        "exec { 'wait': command => 'sleep 8', path => ['/bin', "
        "'/usr/bin'] }\n")
    state['tags']['a'] = 'file,exec'
    doc = helpers.make_doc(deployment, _config(deployment, state))
    proc = subprocess.Popen(helpers.hook_command(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=hook_env)
    proc.stdin.write(json.dumps(doc).encode())
    proc.stdin.close()
    deadline = time.time() + 60
    while time.time() < deadline:
        running = [c for c in docker_api.containers(
            filters={'label': LABEL_KIND})
            if c['Labels'].get(LABEL_VOLUME) == f'{deployment}-a']
        if running:
            break
        time.sleep(0.2)
    assert running, 'the config container never started'
    time.sleep(1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    # Let the orphaned config run end (its owner is gone: the next render
    # removes it).
    deadline = time.time() + 60
    while time.time() < deadline and docker_api.containers(
            filters={'id': running[0]['Id']}):
        time.sleep(0.5)
    # The same inputs again: a is rendered (the killed run left no record
    # vouching for them), b is still skipped.
    out, created = _run(docker_api, deployment, state, hook_env)
    assert created == ['a'], out
    assert f'render {deployment}-a: no record of a finished render' in out
    assert f'{deployment}-b: inputs unchanged' in out
    assert _published(hook_env, deployment, 'a') == 'v=first slow\n'
    # The killed run's config container is gone too.
    assert not [c for c in docker_api.containers(
        all=True, filters={'label': LABEL_KIND})
        if c['Labels'].get(LABEL_VOLUME, '').startswith(deployment)]
