"""Pure parts of issue 10: copy-out of untrusted archives, no-follow
removal, chunked hashing, Kolla key conflicts, publish and undo."""

import io
import os
import random
import stat
import tarfile
import tracemalloc
import types

import pytest

from tripleo_docker_hook import confighash
from tripleo_docker_hook import copyout
from tripleo_docker_hook import errors
from tripleo_docker_hook import kolla
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning
from tripleo_docker_hook import config_volume
from tripleo_docker_hook import puppet
from tripleo_docker_hook import safefs


def _tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        for name, kind, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if kind == 'dir':
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind in ('sym', 'lnk'):
                info.type = tarfile.SYMTYPE if kind == 'sym' else \
                    tarfile.LNKTYPE
                info.linkname = data
                tar.addfile(info)
            else:
                raw = data.encode()
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))
    return [buf.getvalue()]


def test_hard_link_through_a_planted_symlink_cannot_chmod_a_host_file(
        tmp_path):
    victim_dir = tmp_path / 'host'
    victim_dir.mkdir()
    victim = victim_dir / 'shadow'
    victim.write_text('root:secret')
    victim.chmod(0o600)
    staging = tmp_path / 's'
    staging.mkdir()
    with pytest.raises(errors.DeploymentFailed, match='goes through a '
                       'symlink'):
        copyout.extract(_tar([
            ('etc', 'dir', None, 0o755),
            ('etc/l', 'sym', str(victim_dir), 0o777),
            ('etc/h', 'lnk', 'etc/l/shadow', 0o4777)]), '/etc', str(staging),
            [])
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert victim.stat().st_nlink == 1


def test_entries_below_a_planted_symlink_are_refused(tmp_path):
    outside = tmp_path / 'outside'
    outside.mkdir()
    staging = tmp_path / 's'
    staging.mkdir()
    with pytest.raises(copyout.CopyOutError):
        copyout.extract(_tar([
            ('etc', 'dir', None, 0o755),
            ('etc/l', 'sym', '../../outside', 0o777),
            ('etc/l/x', 'file', 'evil', 0o644)]), '/etc', str(staging), [])
    assert os.listdir(outside) == []


def test_modes_are_sanitised_and_hard_links_resolved(tmp_path):
    staging = tmp_path / 's'
    staging.mkdir()
    stats = copyout.extract(_tar([
        ('etc', 'dir', None, 0o3777),
        ('etc/suid', 'file', 'x', 0o4755),
        ('etc/ww', 'file', 'x', 0o666),
        ('etc/same', 'lnk', 'etc/suid', 0o4755)]), '/etc', str(staging), [])
    etc = staging / 'etc'
    assert stat.S_IMODE(etc.stat().st_mode) == 0o775
    assert stat.S_IMODE((etc / 'suid').stat().st_mode) == 0o755
    assert stat.S_IMODE((etc / 'ww').stat().st_mode) == 0o664
    assert (etc / 'same').stat().st_ino == (etc / 'suid').stat().st_ino
    assert stats.stripped == 3


@pytest.mark.parametrize('limits,entries,match', [
    (copyout.Limits(max_depth=3), [('a/b/c/d', 'dir', None, 0o755)],
     'deeper than 3'),
    (copyout.Limits(max_entries=2), [('a', 'dir', None, 0o755),
                                     ('a/b', 'file', 'x', 0o644),
                                     ('a/c', 'file', 'x', 0o644)],
     'more than 2 entries'),
    (copyout.Limits(max_bytes=4), [('a', 'file', 'x' * 5, 0o644)],
     'larger than'),
])
def test_copy_out_limits(tmp_path, limits, entries, match):
    staging = tmp_path / 's'
    staging.mkdir()
    with pytest.raises(copyout.CopyOutError, match=match):
        copyout.extract(_tar(entries), '/x', str(staging), [], limits)


def test_rmtree_deep_and_long_paths_without_recursion(tmp_path):
    root = tmp_path / 'deep'
    path = str(root)
    for _ in range(1500):    # deeper than the recursion limit, > PATH_MAX
        path = os.path.join(path, 'abcdefgh')
        if len(path) > 3500:
            os.makedirs(path)
            os.chdir(path)
            path = '.'
    os.makedirs(path, exist_ok=True)
    os.chdir(tmp_path)
    outside = tmp_path / 'keep'
    outside.mkdir()
    (outside / 'f').write_text('x')
    os.symlink(outside, root / 'link')
    safefs.rmtree(str(root))
    assert not root.exists()
    assert (outside / 'f').read_text() == 'x'


def test_stream_digest_equals_whole_file_normalisation():
    rnd = random.Random(7)
    parts = [b'# HEADER: x\n', b'a=1\n', b'; 2020-01-01 10:00:00 z\n',
             b'  # 2021-02-03T04:05:06\n', b'x # 2021-02-03 04:05:06\n',
             b'\n', b'# c\n', b'#HEADER:', b'abc']
    for _ in range(2000):
        data = b''.join(rnd.choice(parts) for _ in range(rnd.randint(0, 9)))
        size = rnd.choice((1, 2, 7, 4096))
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert confighash.stream_digest(chunks) == \
            confighash._digest_of(confighash.normalise(data))


def test_tree_hash_memory_is_bounded(tmp_path):
    big = tmp_path / 'big'
    with open(big, 'wb') as f:
        for _ in range(64):
            f.write(b'x' * (1 << 20))        # 64 MiB, one line
    tracemalloc.start()
    try:
        confighash.tree_hash(str(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_kolla_key_that_is_a_directory_of_another_key():
    cfgs = [types.SimpleNamespace(path='/var/lib/kolla/config_files/a.json'),
            types.SimpleNamespace(
                path='/var/lib/kolla/config_files/a.json/b.json'),
            types.SimpleNamespace(
                path='/var/lib/kolla/config_files/.generations/x.json')]
    with pytest.raises(errors.ValidationError) as exc:
        kolla.check_paths(cfgs, '/k')
    text = str(exc.value)
    assert ('kolla_config[/var/lib/kolla/config_files/a.json/b.json]: '
            'Invalid value') in text
    assert '.generations' in text


def test_kolla_publish_undo_and_generations(tmp_path):
    kcd = str(tmp_path)
    path = os.path.join(kcd, 'sub', 'k.json')
    first = kolla.stage(kcd, path, b'old')
    kolla.publish(kcd, first)
    kolla.finish(kcd, first)
    second = kolla.stage(kcd, path, b'new')
    with open(second.generation, 'rb') as f:
        assert f.read() == b'new'
    kolla.publish(kcd, second)
    with open(path, 'rb') as f:
        assert f.read() == b'new'
    assert kolla.unpublish(kcd, second)
    with open(path, 'rb') as f:
        assert f.read() == b'old'
    assert sorted(os.listdir(os.path.join(kcd, 'sub'))) == ['k.json']
    # Generations no container binds are collected, bound ones kept.
    removed = kolla.collect(kcd, [first.generation])
    assert removed == [os.path.basename(second.generation)]
    assert os.path.exists(first.generation)


def test_publish_and_unpublish_a_volume(tmp_path):
    cdd = str(tmp_path)

    def rendered(text):
        staging = tmp_path / f'.v.new-{os.urandom(6).hex()}'
        (staging / 'etc').mkdir(parents=True)
        (staging / 'etc' / 'f').write_text(text)
        return config_volume.Rendered(
            'v', str(staging), confighash.tree_hash(str(staging)), '', 0, 0)
    config_volume.commit(cdd, rendered('1'))
    gen1 = os.readlink(tmp_path / 'v')
    staged = config_volume.stage(cdd, rendered('2'))
    assert os.readlink(tmp_path / 'v') == gen1   # staged, not published
    config_volume.publish(cdd, staged)
    assert os.readlink(tmp_path / 'v') == staged.gen
    assert config_volume.unpublish(cdd, staged)
    assert os.readlink(tmp_path / 'v') == gen1
    assert (tmp_path / 'v.md5sum').read_text().strip() == \
        confighash.tree_hash(str(tmp_path / gen1))
    # Leftovers of dead runs go at once (the caller holds the host lock).
    (tmp_path / '.v.new-0123456789ab').mkdir()
    state = tmp_path / 'state'
    (state / 'puppet').mkdir(parents=True)
    (state / 'puppet' / 'v-0123456789ab.pp').write_text('x')
    assert sorted(puppet.remove_leftovers(cdd, str(state))) == [
        '.v.new-0123456789ab', 'v-0123456789ab.pp']


def test_quarantine_removes_only_the_named_containers_of_the_deployment():
    def obs(name, deployment):
        return model.Observed(
            id=name, name=name, image_id='i', state='running',
            labels={model.LABEL_MANAGED_BY: 'tripleo-docker-hook',
                    model.LABEL_DEPLOYMENT: deployment,
                    model.LABEL_CONTAINER_NAME: name.split('.')[0]})
    observed = [obs('r', 'd'), obs('r.tdh-new', 'd'), obs('w', 'd'),
                obs('r', 'other')]
    plan = planning.quarantine('d', 'id', ['r'], observed)
    assert [(a.verb, a.name, a.observed.labels[model.LABEL_DEPLOYMENT])
            for a in plan.removals] == [('remove', 'r', 'd'),
                                        ('remove', 'r.tdh-new', 'd')]


class _Engine:
    """Config runs only: serves ``tree`` (name → (kind, data)) for /etc."""

    def __init__(self, tree):
        self.tree = tree
        self.sources = []

    def image_id(self, ref):
        return 'sha256:x'

    def create(self, container, name, labels):
        pass

    def start(self, name):
        pass

    def wait(self, name, timeout):
        return 0

    def logs(self, name, tail):
        return ''

    def inspect(self, name):
        return {'Mounts': []}

    def archive(self, name, path):
        if path != '/etc':
            return None
        return _tar([('etc', 'dir', None, 0o755)] + [
            (n, k, d, 0o644) for n, (k, d) in sorted(self.tree.items())])

    def remove(self, name, force=True, volumes=False):
        pass

    def list_containers(self, deployment=None):
        return []

    def bind_sources(self):
        return self.sources


class _Report:
    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(text)

    error = info


def _render_conf(tmp_path):
    return types.SimpleNamespace(
        config_data_dir=str(tmp_path / 'cdd'),
        kolla_config_dir=str(tmp_path / 'kolla'),
        state_dir=str(tmp_path / 'state'), pull_retries=0,
        puppet=types.SimpleNamespace(
            workers=2, modules_dir='', hieradata_dir='', hiera_config='',
            config_dirs=['/etc'], tags=[], timeout=60, image_modulepath='',
            hash_exclude=[]))


def _desired(cdd, word, mounts):
    from tripleo_docker_hook import definitions
    return definitions.parse({
        'puppet_config': [{'config_volume': 'v', 'step_config': word,
                           'config_image': 'img'}],
        'kolla_config': {'/var/lib/kolla/config_files/v.json': {
            'command': word}},
        'docker_config': {'step_1': {'svc': {
            'image': 'i', 'volumes': mounts}}}})


def test_render_pins_publishes_and_undoes(tmp_path):
    from tripleo_docker_hook import render
    conf = _render_conf(tmp_path)
    cdd, kcd = conf.config_data_dir, conf.kolla_config_dir
    os.makedirs(kcd)
    mounts = [f'{cdd}/v/etc/x:/cfg:ro',
              '/var/lib/kolla/config_files/v.json:/k.json:ro']
    masker = types.SimpleNamespace(mask=lambda t: t)

    def render_word(word, tree):
        desired = _desired(cdd, word, mounts)
        return desired, render.render_all(desired, conf, _Engine(tree),
                                          _Report(), masker)
    desired, h1 = render_word('one', {'etc/x': ('dir', None),
                                      'etc/x/conf': ('file', 'one')})
    (svc,) = render.with_config_hashes(desired, h1).containers
    gen1 = os.readlink(os.path.join(cdd, 'v'))
    assert svc.mounts[0].source == os.path.join(
        os.path.realpath(cdd), gen1, 'etc/x')
    assert svc.mounts[1].source.startswith(
        os.path.join(os.path.realpath(kcd), '.generations/'))
    render.finish(h1, conf, _Engine({}))
    # v2, then the apply fails: the previous config is published again.
    _, h2 = render_word('two', {'etc/x': ('dir', None),
                                'etc/x/conf': ('file', 'two')})
    assert os.readlink(os.path.join(cdd, 'v')) != gen1
    report = _Report()
    render.undo(h2, report)
    assert os.readlink(os.path.join(cdd, 'v')) == gen1
    with open(os.path.join(kcd, 'v.json')) as f:
        assert '"one"' in f.read()
    assert any('previous config' in line for line in report.lines)
    engine = _Engine({})
    engine.sources = [svc.mounts[0].source, svc.mounts[1].source]
    render.finish(h2, conf, engine)
    assert [n for n in os.listdir(cdd) if '.gen-' in n] == [gen1]
    # A symlink leading out: refused before anything is published.
    with pytest.raises(errors.DeploymentFailed, match='outside the '
                       'rendered config'):
        render_word('three', {'etc/x': ('sym', str(tmp_path))})
    assert os.readlink(os.path.join(cdd, 'v')) == gen1
    assert [n for n in os.listdir(cdd) if n.startswith('.v.')] == [gen1]
    with open(os.path.join(kcd, 'v.json')) as f:
        assert '"one"' in f.read()
    assert not [n for n in os.listdir(kcd) if '.tdh-' in n]


@pytest.mark.parametrize('kind', ['fifo', 'directory', 'symlink'])
def test_kolla_file_that_is_not_a_regular_file(tmp_path, kind):
    """Something else at a Kolla file's path (planted by a container that
    mounts the directory rw): refused at once; a FIFO used to block the
    hook forever in open(), holding the host lock."""
    import threading
    kcd = tmp_path / 'kolla'
    kcd.mkdir()
    target = kcd / 'svc.json'
    if kind == 'fifo':
        os.mkfifo(target)
    elif kind == 'directory':
        target.mkdir()
    else:
        target.symlink_to(tmp_path / 'elsewhere.json')
    result = {}

    def run():
        for call in (lambda: kolla.read(str(kcd), str(target)),
                     lambda: kolla.stage(str(kcd), str(target), b'{}')):
            try:
                call()
            except errors.DeploymentFailed as exc:
                result.setdefault('errors', []).append(str(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), 'blocked on the Kolla file'
    assert len(result['errors']) == 2, result
    assert all('refusing to replace it' in e for e in result['errors'])
    assert not (tmp_path / 'elsewhere.json').exists()


def test_planted_volume_link_and_md5_file_are_not_followed(tmp_path):
    """``config_data_dir/<volume>`` planted as a link out of the directory
    (``-> /``: the hook hashed the whole host, /proc/kcore included) and a
    ``.md5sum`` that is a link to /dev/zero (memory grew without end) or
    a FIFO (blocked forever): neither is read."""
    import threading
    cdd = tmp_path / 'cdd'
    cdd.mkdir()
    outside = tmp_path / 'outside'
    (outside / 'etc').mkdir(parents=True)
    (outside / 'etc' / 'secret').write_text('host data')
    (cdd / 'evil').symlink_to(outside)
    os.mkfifo(outside / 'pipe')   # like /dev/zero, without the memory
    (cdd / 'evil.md5sum').symlink_to(outside / 'pipe')
    os.mkfifo(cdd / 'fifo.md5sum')
    (cdd / 'fifo').mkdir()
    result = {}

    def run():
        result['evil'] = config_volume.read_hash(str(cdd), 'evil')
        result['current'] = config_volume.current_dir(str(cdd), 'evil')
        result['fifo'] = config_volume.read_hash(str(cdd), 'fifo')

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), 'blocked reading a planted file'
    assert result['evil'] is None and result['current'] is None
    # the real (empty) directory inside config_data_dir is still hashed
    assert result['fifo'] == confighash.tree_hash(str(cdd / 'fifo'))
    # a regular .md5sum inside is read as before
    (cdd / 'fifo.md5sum').unlink()
    (cdd / 'fifo.md5sum').write_text('abc123\n')
    assert config_volume.read_hash(str(cdd), 'fifo') == 'abc123'
