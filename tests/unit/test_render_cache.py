"""render_cache: which input changed, the published-tree check, records.

The image lookup is a stand-in (a dict); the real engine and real Puppet
prove the skip and each re-render in tests/functional/test_render_cache.py.
"""

import dataclasses
import hashlib
import json
import os
import types

import pytest

from tripleo_docker_hook import model
from tripleo_docker_hook import config_volume
from tripleo_docker_hook import lookup_trace
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
    """A new inode each time: a rewrite of the same size within one
    timestamp tick is then still seen by the stat walk (deterministic)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.replace(path + '.tmp', path)


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


# -- per-key hieradata (lookup_trace) ----------------------------------------
# The trace is built here as parse() would return it; the tracer inside
# real Puppet is proven by tests/functional/test_render_keys.py.

SVC = 'service_configs.json'


class Report:
    def __init__(self):
        self.lines = []

    def info(self, line):
        self.lines.append(line)


def traced(files, why=''):
    """What a config run reports: rel → (format, keys)."""
    return types.SimpleNamespace(lookups=lookup_trace.Trace(
        {rel: (fmt, tuple(keys)) for rel, (fmt, keys) in files.items()},
        why))


def cycle(conf, entry, images, lookups=None, between=None):
    """One run as render_all does it (split: decide, refresh a skip;
    render, remember); ``between`` runs after decide, before remember
    (Puppet is running)."""
    cache, render, skipped, decisions = render_cache.split(
        [entry], conf, images, False, Report())
    d = decisions[entry.config_volume]
    if render:
        cache.forget(entry.config_volume)
        if between:
            between()
        publish(conf, entry.config_volume, {'etc/k.conf': 'x\n'})
        cache.remember(d, lookups)
    cache.save_trees()
    return d


def record(conf, volume='keystone'):
    cache = render_cache.RenderCache(conf, Images())
    with open(cache._record_path(volume)) as f:
        rec = json.load(f)
    keys_path = cache._keys_path(volume)
    keys = None
    if os.path.exists(keys_path):
        with open(keys_path) as f:
            keys = render_cache.decode_keys(json.load(f))
        assert keys is not None
    return rec, keys, keys_path


A_ONLY = {SVC: ('json', ['a'])}


@pytest.fixture
def keyed(setup):
    """A volume rendered once, its trace: key 'a' of service_configs.json."""
    tmp, conf, entry = setup
    images = Images()
    first = cycle(conf, entry, images, traced(A_ONLY))
    assert first.render
    return tmp, conf, entry, images


def test_clean_trace_writes_the_keys_beside_the_record(keyed):
    tmp, conf, _, _ = keyed
    rec, keys, keys_path = record(conf)
    with open(keys_path, 'rb') as f:
        assert rec['hiera_keys'] == hashlib.sha256(f.read()).hexdigest()
    assert rec['hieradata_dir'] == str(tmp / 'hiera')
    with open(tmp / 'hiera' / SVC, 'rb') as f:
        content = hashlib.sha256(f.read()).hexdigest()
    fp = lookup_trace.Values().read(str(tmp / 'hiera'), SVC, 'json',
                                    ['a']).keys['a']
    assert keys == {SVC: {'format': 'json', 'content': content,
                          'keys': {'a': fp}}}


def test_unread_key_change_skips_and_refreshes_the_record(keyed,
                                                          monkeypatch):
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera' / SVC), '{"a": 1, "b": 2}\n')
    d = cycle(conf, entry, images)
    assert not d.render
    assert d.reason == ('inputs unchanged, render skipped (hieradata changed '
                        f'({SVC}), not the keys it looks up)')
    assert d.refresh
    assert d.hash == config_volume.read_hash(conf.config_data_dir, 'keystone')
    rec, keys, _ = record(conf)
    assert rec['parts']['hieradata'] == d.parts['hieradata']
    # the next run skips without reading any key (a no-op run parses no
    # hieradata)
    monkeypatch.setattr(lookup_trace.Values, 'read', _no_parsing)
    monkeypatch.setattr(render_cache.RenderCache, '_read_keys', _no_parsing)
    again = cycle(conf, entry, images)
    assert not again.render and not again.refresh
    assert again.reason == 'inputs unchanged, render skipped'


def _no_parsing(*args, **kwargs):
    raise AssertionError('hieradata keys read on an unchanged tree')


def test_refresh_keeps_the_keys_usable(keyed):
    """After a refresh the record still holds the keys: a later change of
    the looked-up key renders, of another key skips."""
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera' / SVC), '{"a": 1, "b": 2}\n')
    assert cycle(conf, entry, images).refresh
    write(str(tmp / 'hiera' / SVC), '{"a": 1, "b": 3}\n')
    d = cycle(conf, entry, images)
    assert not d.render and d.refresh
    write(str(tmp / 'hiera' / SVC), '{"a": 2, "b": 3}\n')
    d = cycle(conf, entry, images, traced(A_ONLY))
    assert d.render and d.reason == f'hieradata changed: {SVC}: a'


def test_other_file_change_skips_and_names_it(keyed):
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    write(str(tmp / 'hiera/new.yaml'), 'x: 1\n')
    d = cycle(conf, entry, images)
    assert not d.render
    assert d.reason == ('inputs unchanged, render skipped (hieradata changed '
                        '(new.yaml, other.json), not the keys it looks up)')


def test_looked_up_key_change_renders_and_names_the_key(keyed):
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera' / SVC), '{"a": 2}\n')
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    d = cycle(conf, entry, images, traced(A_ONLY))
    assert d.render and not d.refresh
    assert d.reason == f'hieradata changed: {SVC}: a'
    # the new record holds the new value: unchanged now
    assert not cycle(conf, entry, images).render


@pytest.mark.parametrize('count, named', [
    (5, f'{SVC}: k1, {SVC}: k2, {SVC}: k3 (+2)'),
    (3, f'{SVC}: k1, {SVC}: k2, {SVC}: k3'),
], ids=['more than three: counted', 'exactly three: no count'])
def test_changed_keys_named_up_to_three(setup, count, named):
    tmp, conf, entry = setup
    images = Images()
    names = [f'k{i}' for i in range(1, count + 1)]
    write(str(tmp / 'hiera' / SVC),
          json.dumps(dict({k: 1 for k in names}, z=1)))
    cycle(conf, entry, images, traced({SVC: ('json', names)}))
    write(str(tmp / 'hiera' / SVC),
          json.dumps(dict({k: 22 for k in names}, z=1)))
    assert cycle(conf, entry, images).reason == f'hieradata changed: {named}'


def test_a_missing_file_that_appears_with_the_key_renders(setup):
    """The node level of the hierarchy did not exist at the render."""
    tmp, conf, entry = setup
    images = Images()
    lookups = traced({'nodes/n1.yaml': ('yaml', ['a']), SVC: ('json', ['a'])})
    cycle(conf, entry, images, lookups)
    write(str(tmp / 'hiera/nodes/n1.yaml'), 'other: 1\n')
    assert not cycle(conf, entry, images).render
    write(str(tmp / 'hiera/nodes/n1.yaml'), 'other: 1\na: 5\n')
    d = cycle(conf, entry, images, lookups)
    assert d.render and d.reason == 'hieradata changed: nodes/n1.yaml: a'
    os.unlink(tmp / 'hiera/nodes/n1.yaml')
    d = cycle(conf, entry, images, lookups)
    assert d.reason == 'hieradata changed: nodes/n1.yaml: a'


def test_symlinked_file_change_behind_the_link_renders(setup):
    """The tree walk does not follow links: a data file that is a link
    keeps its walk content when its target changes."""
    tmp, conf, entry = setup
    images = Images()
    write(str(tmp / 'hiera/real.json'), '{"a": 1, "b": 1}\n')
    os.symlink('real.json', tmp / 'hiera/common.json')
    lookups = traced({'common.json': ('json', ['a'])})
    cycle(conf, entry, images, lookups)
    write(str(tmp / 'hiera/real.json'), '{"a": 2, "b": 1}\n')
    d = cycle(conf, entry, images, lookups)
    assert d.render and d.reason == 'hieradata changed: common.json: a'


def test_file_under_a_symlinked_directory_is_compared_by_key(setup):
    """``nodes -> real-nodes``: the trace names ``nodes/n1.json``, which
    the walk never lists."""
    tmp, conf, entry = setup
    images = Images()
    write(str(tmp / 'hiera/real-nodes/n1.json'), '{"a": 1, "b": 1}\n')
    os.symlink('real-nodes', tmp / 'hiera/nodes')
    lookups = traced({'nodes/n1.json': ('json', ['a'])})
    cycle(conf, entry, images, lookups)
    write(str(tmp / 'hiera/real-nodes/n1.json'), '{"a": 1, "b": 2}\n')
    d = cycle(conf, entry, images)
    assert not d.render and d.refresh  # another key
    write(str(tmp / 'hiera/real-nodes/n1.json'), '{"a": 2, "b": 2}\n')
    d = cycle(conf, entry, images, lookups)
    assert d.render and d.reason == 'hieradata changed: nodes/n1.json: a'


def _drop_keys_file(conf):
    os.unlink(record(conf)[2])


def _tamper_keys_file(conf):
    with open(record(conf)[2], 'a') as f:
        f.write(' ')


def _keys_of_another_tree(conf):
    cache = render_cache.RenderCache(conf, Images())
    rec, _, _ = record(conf)
    rec['hieradata_dir'] = '/etc/puppet/hieradata'
    with open(cache._record_path('keystone'), 'w') as f:
        json.dump(rec, f)


def _no_keys_in_record(conf):
    cache = render_cache.RenderCache(conf, Images())
    rec, _, _ = record(conf)
    del rec['hiera_keys']
    with open(cache._record_path('keystone'), 'w') as f:
        json.dump(rec, f)


@pytest.mark.parametrize('spoil', [_drop_keys_file, _tamper_keys_file,
                                   _keys_of_another_tree, _no_keys_in_record],
                         ids=['missing', 'digest', 'hieradata_dir',
                              'no hiera_keys'])
def test_unusable_keys_fall_back_to_the_whole_tree(keyed, spoil):
    tmp, conf, entry, images = keyed
    spoil(conf)
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    d = cycle(conf, entry, images)
    assert d.render and d.reason == 'hieradata changed: other.json'


def test_another_hieradata_dir_in_conf_renders(keyed):
    tmp, conf, entry, images = keyed
    (tmp / 'hiera2').mkdir()
    for name in (SVC, 'other.json'):
        (tmp / 'hiera2' / name).write_bytes((tmp / 'hiera' / name
                                             ).read_bytes())
    conf.puppet.hieradata_dir = str(tmp / 'hiera2')
    d = cycle(conf, entry, images)
    assert d.render and d.reason == 'puppet changed'  # its mount moved
    # and even if the container spec did not show it, the keys of
    # another tree are not used
    cache = render_cache.RenderCache(conf, images)
    rec, _, _ = record(conf)
    rec['hieradata_dir'] = str(tmp / 'hiera')
    assert cache._changed_keys('keystone', rec) == (None, None)


def test_opaque_trace_writes_no_keys(setup):
    tmp, conf, entry = setup
    images = Images()
    cycle(conf, entry, images, traced(A_ONLY, why='file /etc/x'))
    rec, keys, _ = record(conf)
    assert 'hiera_keys' not in rec and keys is None
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    assert cycle(conf, entry, images).reason == 'hieradata changed: ' \
        'other.json (keys not traced: file /etc/x)'


@pytest.mark.parametrize('lookups', [None, types.SimpleNamespace(),
                                     types.SimpleNamespace(lookups=None)],
                         ids=['no run', 'untraced run', 'no trace'])
def test_no_trace_writes_no_keys(setup, lookups):
    _, conf, entry = setup
    cycle(conf, entry, Images(), lookups)
    rec, keys, _ = record(conf)
    assert 'hiera_keys' not in rec and keys is None


def test_tree_changed_while_puppet_ran_writes_no_keys(setup):
    """Puppet may have read the old or the new value: the record cannot
    vouch for either."""
    tmp, conf, entry = setup
    d = cycle(conf, entry, Images(), traced(A_ONLY), between=lambda: write(
        str(tmp / 'hiera/other.json'), '{"during": 1}\n'))
    assert d.render
    rec, keys, _ = record(conf)
    assert 'hiera_keys' not in rec and keys is None
    # and the next run sees the change against the record's digest (the
    # file is not named: remember's walk already saw it)
    d = cycle(conf, entry, Images())
    assert d.render and d.reason.startswith('hieradata changed'), d.reason


def test_a_stale_keys_file_is_replaced_or_ignored(keyed):
    """A later render with an opaque trace leaves the old keys file, but
    the new record does not name it."""
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera' / SVC), '{"a": 2}\n')
    cycle(conf, entry, images, traced(A_ONLY, why='generate /bin/cat'))
    rec, keys, _ = record(conf)
    assert 'hiera_keys' not in rec
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    assert cycle(conf, entry, images).reason == 'hieradata changed: ' \
        'other.json (keys not traced: generate /bin/cat)'


def test_unread_hieradata_does_not_hide_a_later_kind(keyed):
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    write(str(tmp / 'modules/m/manifests/init.pp'), 'class m { }\n')
    d = cycle(conf, entry, images, traced(A_ONLY))
    assert d.render and d.reason.startswith('modules changed'), d.reason


def test_unread_hieradata_does_not_hide_a_tampered_tree(keyed):
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    current = config_volume.current_dir(conf.config_data_dir, 'keystone')
    write(os.path.join(current, 'etc/k.conf'), 'tampered\n')
    d = cycle(conf, entry, images, traced(A_ONLY))
    assert d.render and d.reason.startswith('published config altered')


def test_forced_render_records_keys(keyed):
    tmp, conf, entry, images = keyed
    cache = render_cache.RenderCache(conf, images)
    d = cache.decide(entry, force=True)
    assert d.render and d.reason == 'render forced'
    cache.forget('keystone')
    publish(conf, 'keystone', {'etc/k.conf': 'y\n'})
    cache.remember(d, traced({SVC: ('json', ['a', 'b'])}))
    _, keys, _ = record(conf)
    assert sorted(keys[SVC]['keys']) == ['a', 'b']
    assert keys[SVC]['keys']['b'] == lookup_trace.NO_KEY


# -- review: races between the tree walk and the read of a file -------------
def _rewrite_while_read(monkeypatch, path, during, after=None):
    """The next read of a data file for its keys sees ``during``; the file
    is ``after`` once the read is done (another writer of hieradata)."""
    real = lookup_trace.Values.read
    done = []

    def read(self, *args, **kwargs):
        if done:
            return real(self, *args, **kwargs)
        done.append(1)
        write(path, during)
        try:
            return real(self, *args, **kwargs)
        finally:
            if after is not None:
                write(path, after)
    monkeypatch.setattr(lookup_trace.Values, 'read', read)


def test_refresh_records_only_bytes_whose_keys_were_compared(keyed,
                                                             monkeypatch):
    """The walk saw ``a`` changed, the read (a moment later) saw it back:
    a skip, but the record must not take the walk's content, whose ``a``
    nobody compared, or that content coming back would be skipped."""
    tmp, conf, entry, images = keyed
    svc = str(tmp / 'hiera' / SVC)
    changed = '{"a": 2, "b": 1}\n'
    write(svc, changed)
    _rewrite_while_read(monkeypatch, svc, '{"a": 1, "b": 22222}\n')
    d = cycle(conf, entry, images)
    assert not d.render and not d.refresh
    monkeypatch.undo()
    write(svc, changed)
    d = cycle(conf, entry, images, traced(A_ONLY))
    assert d.render and d.reason == f'hieradata changed: {SVC}: a'


def test_remember_keeps_no_keys_read_from_other_bytes_than_walked(
        setup, monkeypatch):
    """At remember the file is read, then the tree walked: a file the read
    saw with other bytes than the walk (rewritten and back) records no
    keys, else its content would vouch for values Puppet did not read."""
    tmp, conf, entry = setup
    images = Images()
    svc = str(tmp / 'hiera' / SVC)
    puppet_read = '{"a": 1}\n'
    later = '{"a": 5, "b": 1}\n'
    _rewrite_while_read(monkeypatch, svc, later, after=puppet_read)
    assert cycle(conf, entry, images, traced(A_ONLY)).render
    rec, keys, _ = record(conf)
    assert keys is None and 'hiera_keys' not in rec
    assert rec['hiera_untraced'] == 'hieradata changed while puppet ran'
    monkeypatch.undo()
    write(svc, later)
    assert cycle(conf, entry, images, traced(A_ONLY)).render


def test_a_shared_data_file_is_parsed_once_per_run(setup, monkeypatch):
    """40 volumes read one MB-sized service_configs.json: one parse per
    content per run, not one per volume (decide and remember alike)."""
    tmp, conf, entry = setup
    images = Images()
    entries = [entry, dataclasses.replace(entry, config_volume='nova')]
    parsed = []
    real = lookup_trace._json_values
    monkeypatch.setattr(lookup_trace, '_json_values',
                        lambda data: parsed.append(data) or real(data))

    def run(lookups=None):
        cache, render, _, decisions = render_cache.split(
            entries, conf, images, False, Report())
        for e in render:
            cache.forget(e.config_volume)
            publish(conf, e.config_volume, {'etc/k.conf': 'x\n'})
            cache.remember(decisions[e.config_volume], lookups)
        cache.save_trees()
        return decisions

    run(traced(A_ONLY))
    assert len(parsed) == 1
    parsed.clear()
    write(str(tmp / 'hiera' / SVC), '{"a": 1, "b": 2}\n')
    decisions = run()
    assert [d.refresh for d in decisions.values()] == [True, True]
    assert len(parsed) == 1


def test_a_long_key_from_the_trace_is_bounded_in_the_reason(setup):
    """The trace is the image's: a key of megabytes must not reach
    deploy_stdout whole."""
    tmp, conf, entry = setup
    images = Images()
    key = 'k' * 5000
    write(str(tmp / 'hiera' / SVC), json.dumps({key: 1}))
    cycle(conf, entry, images, traced({SVC: ('json', [key])}))
    write(str(tmp / 'hiera' / SVC), json.dumps({key: 22}))
    d = cycle(conf, entry, images)
    assert d.render
    assert d.reason == (f'hieradata changed: {SVC}: '
                        f'{"k" * render_cache.KEY_NAMED}')


def test_key_changes_is_pure_and_names_changes_in_order():
    values = lookup_trace.FileValues
    recorded = {'b.json': {'format': 'json', 'content': 'c1',
                           'keys': {'x': 'f1', 'y': 'f2'}},
                'a.json': {'format': 'json', 'content': 'c2',
                           'keys': {'z': 'f3'}}}
    walk = {'b.json': 'c9', 'a.json': 'c8'}
    changed, refreshed = render_cache.key_changes(recorded, walk, {
        'b.json': values('c9', {'x': 'f1', 'y': 'new'}),
        'a.json': values('c8', {'z': 'f4'})})
    assert changed == ['a.json: z', 'b.json: y']
    assert refreshed['a.json']['content'] == 'c8'
    # a file read with other bytes than the walk saw: no refresh
    changed, refreshed = render_cache.key_changes(recorded, walk, {
        'b.json': values('other', {'x': 'f1', 'y': 'f2'})})
    assert changed == [] and refreshed is None
    # a link or unlisted path: the walk vouches for nothing, keys kept
    _, refreshed = render_cache.key_changes(
        recorded, {'b.json': 'absent', 'a.json': 'c2'},
        {'b.json': values('c7', {'x': 'f1', 'y': 'f2'})})
    assert refreshed == dict(recorded, **{'b.json': dict(
        recorded['b.json'], content='absent')})


def test_refresh_killed_between_keys_and_record_renders_next(keyed,
                                                             monkeypatch):
    """A refresh writes the keys file, then the record naming its digest:
    killed in between, the old record does not vouch for the new keys
    and the next hieradata change renders (never a skip on keys nobody
    recorded)."""
    tmp, conf, entry, images = keyed
    write(str(tmp / 'hiera' / SVC), '{"a": 1, "b": 2}\n')

    def killed(path, data):
        raise KeyboardInterrupt('kill -9')
    monkeypatch.setattr(render_cache, '_write_json', killed)
    with pytest.raises(KeyboardInterrupt):
        cycle(conf, entry, images)
    monkeypatch.undo()
    rec, _, keys_path = record(conf)
    with open(keys_path, 'rb') as f:
        assert rec['hiera_keys'] != hashlib.sha256(f.read()).hexdigest()
    write(str(tmp / 'hiera' / SVC), '{"a": 1, "b": 333}\n')
    d = cycle(conf, entry, images, traced(A_ONLY))
    assert d.render and d.reason == f'hieradata changed: {SVC}'


# -- the stored key record ---------------------------------------------------
def _controller_keys(levels=20, names=3000, found_every=7):
    """A TripleO-sized key record: every key searched in every level, a
    few levels holding some of them."""
    keys = [f'tripleo::profile::base::service{i}::param' for i in
            range(names)]
    return {f'level{n:02d}.json': {
        'format': 'json', 'content': 'absent' if n % 4 else 'a' * 64,
        'keys': {k: (f'{i:032x}' if not n % 4 and not i % found_every
                     else lookup_trace.NO_KEY)
                 for i, k in enumerate(keys)}} for n in range(levels)}


def test_key_record_round_trips_and_names_each_key_once():
    keys = _controller_keys()
    stored = render_cache.encode_keys(keys)
    raw = json.dumps(stored, sort_keys=True, separators=(',', ':'))
    assert render_cache.decode_keys(json.loads(raw)) == keys
    plain = json.dumps(keys, sort_keys=True, separators=(',', ':'))
    # each name once: several times smaller than names repeated per level
    assert len(plain) > 6 * len(raw), (len(plain), len(raw))
    assert stored['names'] == sorted(stored['names'])


@pytest.mark.parametrize('bad', [
    None, [], 'x', {}, {'v': 1, 'names': [], 'files': {}},
    {'v': 2, 'names': 'a', 'files': {}},
    {'v': 2, 'names': [1], 'files': {}},
    {'v': 2, 'names': ['a'], 'files': []},
    {'v': 2, 'names': ['a'], 'files': {'f': []}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c'}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 1, 'content': 'c',
                                             'keys': []}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': None,
                                             'keys': []}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [[1, 'x']]}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [[-1, 'x']]}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [[True, 'x']]}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [[0, 1]]}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [[0, False]]}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [1]}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': ['a']}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [0.0]}}},
    {'v': 2, 'names': ['a'], 'files': {'f': {'format': 'json',
                                             'content': 'c',
                                             'keys': [[0, 'x', 1]]}}},
])
def test_a_key_record_not_exactly_as_written_is_not_used(bad):
    assert render_cache.decode_keys(bad) is None


def test_an_edited_keys_file_falls_back_to_the_whole_tree(keyed):
    """Even with a matching digest in the record, a keys file of another
    layout (the one before names were indexed) is not used."""
    tmp, conf, entry, images = keyed
    cache = render_cache.RenderCache(conf, images)
    rec, keys, keys_path = record(conf)
    raw = json.dumps(keys, sort_keys=True, separators=(',', ':')).encode()
    with open(keys_path, 'wb') as f:
        f.write(raw)
    rec['hiera_keys'] = hashlib.sha256(raw).hexdigest()
    with open(cache._record_path('keystone'), 'w') as f:
        json.dump(rec, f)
    write(str(tmp / 'hiera/other.json'), '{"x": 1}\n')
    assert cycle(conf, entry, images).reason == 'hieradata changed: ' \
        'other.json'
