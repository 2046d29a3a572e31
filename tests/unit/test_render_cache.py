"""render_cache: which input changed, the published-tree check, records.

The image lookup is a stand-in (a dict); the real engine and real Puppet
prove the skip and each re-render in tests/functional/test_render_cache.py.
"""

import os
import types

import pytest

from tripleo_docker_hook import model
from tripleo_docker_hook import config_volume
from tripleo_docker_hook import render_cache
from tripleo_docker_hook import confighash


class Images:
    def __init__(self):
        self.ids = {'img:1': 'sha256:aaa'}
        self.calls = 0

    def image_id(self, ref):
        self.calls += 1
        return self.ids.get(ref)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


@pytest.fixture
def setup(tmp_path):
    (tmp_path / 'modules' / 'm' / 'manifests').mkdir(parents=True)
    write(str(tmp_path / 'modules/m/manifests/init.pp'), 'class m {}\n')
    write(str(tmp_path / 'hiera/service_configs.json'), '{"a": 1}\n')
    write(str(tmp_path / 'hiera/other.json'), '{}\n')
    write(str(tmp_path / 'hiera.yaml'), 'version: 5\n')
    write(str(tmp_path / 'certs/ca.pem'), 'CA1\n')
    conf = types.SimpleNamespace(
        config_data_dir=str(tmp_path / 'cdd'), state_dir=str(tmp_path / 's'),
        kolla_config_dir=str(tmp_path / 'kolla'), host_root='/',
        puppet=types.SimpleNamespace(
            modules_dir=str(tmp_path / 'modules'),
            hieradata_dir=str(tmp_path / 'hiera'),
            hiera_config=str(tmp_path / 'hiera.yaml'),
            config_dirs=['/etc'], tags=['file'], hash_exclude=[],
            image_modulepath='/usr/share/puppet/modules', render_cache=True))
    entry = model.PuppetConfig(
        config_volume='keystone', step_config='include m\n',
        config_image='img:1', puppet_tags=('keystone_config',),
        volumes=(model.Mount(target='/etc/pki/ca.pem',
                             source=str(tmp_path / 'certs/ca.pem'),
                             read_only=True),))
    return tmp_path, conf, entry


def publish(conf, volume, files):
    cdd = conf.config_data_dir
    os.makedirs(cdd, exist_ok=True)
    staging = os.path.join(cdd, f'.{volume}.new-0123456789ab')
    for name, text in files.items():
        write(os.path.join(staging, name), text)
    config_volume.commit(cdd, config_volume.Rendered(
        volume=volume, staging=staging, hash=confighash.tree_hash(staging),
        output='', started=0, finished=0))


def rendered(conf, entry, images, files=None):
    """One cache cycle as render_all does it: decide, render, remember."""
    cache = render_cache.RenderCache(conf, images)
    d = cache.decide(entry)
    if d.render:
        cache.forget(entry.config_volume)
        publish(conf, entry.config_volume, files or {'etc/k.conf': 'x\n'})
        cache.remember(d)
    cache.save_trees()
    return d


def test_first_render_then_skip(setup):
    _, conf, entry = setup
    images = Images()
    first = rendered(conf, entry, images)
    assert first.render and first.reason == 'no record of a finished render'
    second = rendered(conf, entry, images)
    assert not second.render
    assert second.reason == 'inputs unchanged, render skipped'
    assert second.hash == config_volume.read_hash(conf.config_data_dir,
                                                  'keystone')


CHANGES = {
    'image': lambda t, c, e, i: (i.ids.update({'img:1': 'sha256:bbb'}), e)[1],
    'manifest': lambda t, c, e, i: model.PuppetConfig(
        **{**e.__dict__, 'step_config': 'include m\ninclude n\n'}),
    'puppet': lambda t, c, e, i: model.PuppetConfig(
        **{**e.__dict__, 'puppet_tags': ('keystone_config', 'x')}),
    'volumes': lambda t, c, e, i: (write(str(t / 'certs/ca.pem'), 'CA2\n'),
                                   e)[1],
    'hieradata': lambda t, c, e, i: (write(
        str(t / 'hiera/service_configs.json'), '{"a": 2}\n'), e)[1],
    'hiera config': lambda t, c, e, i: (write(str(t / 'hiera.yaml'),
                                              'version: 5\n# x\n'), e)[1],
    'modules': lambda t, c, e, i: (write(
        str(t / 'modules/m/manifests/init.pp'), 'class m { }\n'), e)[1],
}


@pytest.mark.parametrize('kind', sorted(CHANGES))
def test_each_input_kind_is_seen(setup, kind):
    tmp, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    entry = CHANGES[kind](tmp, conf, entry, images)
    d = rendered(conf, entry, images)
    assert d.render and d.reason.startswith(f'{kind} changed'), d.reason
    assert not rendered(conf, entry, images).render


@pytest.mark.parametrize('change, name', [
    (lambda tmp: write(str(tmp / 'hiera/service_configs.json'),
                       '{"a": 3}\n'), 'service_configs.json'),
    (lambda tmp: os.unlink(str(tmp / 'hiera/other.json')), 'other.json'),
], ids=['changed', 'removed'])
def test_reason_names_the_changed_hieradata_file(setup, change, name):
    tmp, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    change(tmp)
    d = rendered(conf, entry, images)
    assert d.reason == f'hieradata changed: {name}'


def test_puppet_option_change_is_seen(setup):
    _, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    conf.puppet.tags = ['file', 'concat']
    assert rendered(conf, entry, images).reason == 'puppet changed'
    conf.puppet.config_dirs = ['/etc', '/var/www']
    assert rendered(conf, entry, images).reason == 'puppet changed'


def test_touch_without_change_does_not_render(setup):
    tmp, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    path = str(tmp / 'hiera/service_configs.json')
    os.utime(path, (1, 1))
    write(path, '{"a": 1}\n')  # same bytes, new inode data / ctime
    assert not rendered(conf, entry, images).render


def test_tampered_published_tree_renders_again(setup):
    _, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    current = config_volume.current_dir(conf.config_data_dir, 'keystone')
    write(os.path.join(current, 'etc/k.conf'), 'tampered\n')
    d = rendered(conf, entry, images)
    assert d.render and d.reason.startswith('published config altered')
    assert not rendered(conf, entry, images).render


def test_unfinished_render_leaves_no_record(setup):
    _, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    cache = render_cache.RenderCache(conf, images)
    cache.forget('keystone')  # a render started ... and was killed
    assert cache.decide(entry).reason == 'no record of a finished render'


def test_force_and_disabled(setup):
    _, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    cache = render_cache.RenderCache(conf, images)
    assert cache.decide(entry, force=True).reason == 'render forced'
    assert render_cache.force_requested({'force_render': 'true'})
    assert not render_cache.force_requested({'force_render': 'false'})
    assert not render_cache.force_requested({})


def test_facts_ignore_veth_and_see_hostname(monkeypatch):
    facts = render_cache.host_facts('/')
    assert facts['hostname']
    assert not any(n.startswith('veth') for n in facts['interfaces'])
    assert facts['cpus'] == os.cpu_count()
    assert facts['memory']
    monkeypatch.setattr('socket.gethostname', lambda: 'other')
    assert render_cache.host_facts('/')['hostname'] == 'other'


def test_facts_read_files_through_host_root(tmp_path):
    write(str(tmp_path / 'etc/hosts'), '10.0.0.5 node-0.example.com node-0\n')
    facts = render_cache.host_facts(str(tmp_path))
    assert 'node-0.example.com' in facts['hosts']


def test_ctl_apply_force_render_sets_the_input(tmp_path, monkeypatch):
    """``ctl apply --force-render`` = the deployment input force_render."""
    import json
    from tripleo_docker_hook import cli, deploy
    seen = []
    monkeypatch.setattr(deploy, 'run',
                        lambda doc, conf, report, masker: seen.append(doc))
    monkeypatch.setattr(cli, '_conf', lambda: None)
    item = tmp_path / 'doc.json'
    item.write_text(json.dumps({'id': 'x', 'name': 'd', 'config': {}}))
    assert cli.main(['apply', str(item), '--force-render']) == 0
    assert render_cache.force_requested(seen[-1].inputs)
    assert cli.main(['apply', str(item)]) == 0
    assert not render_cache.force_requested(seen[-1].inputs)


def test_extra_volume_spec_change_is_a_puppet_change(setup):
    """The mounts are part of the config container the hook creates."""
    tmp, conf, entry = setup
    images = Images()
    rendered(conf, entry, images)
    moved = model.PuppetConfig(**{**entry.__dict__, 'volumes': (
        model.Mount(target='/etc/pki/other.pem',
                    source=str(tmp / 'certs/ca.pem'), read_only=True),)})
    assert rendered(conf, moved, images).reason == 'puppet changed'


def test_records_live_in_private_directories(tmp_path):
    """state_dir is 0700 all the way down: a record's missing parents
    (``render-cache/``, ``render-cache/trees``) are created 0700 too."""
    from tripleo_docker_hook import render_cache
    path = tmp_path / 'state' / render_cache.CACHE_DIR / 'trees' / 'x.json'
    render_cache._write_json(str(path), {'a': 1})
    for directory in (path.parent, path.parent.parent):
        assert (directory.stat().st_mode & 0o777) == 0o700, directory
