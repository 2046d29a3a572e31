"""hostPath type checks (kubelet wording) and *OrCreate / subPath creation."""

import os
import socket
import stat

import pytest

from tripleo_docker_hook import definitions
from tripleo_docker_hook import errors
from tripleo_docker_hook import hostpath
from tests.unit.test_definitions_pod import pod


def deployment(path, type_, sub_path=None):
    mount = {'name': 'v', 'mountPath': '/v'}
    if sub_path:
        mount['subPath'] = sub_path
    return definitions.parse(pod(
        spec={'volumes': [{'name': 'v', 'hostPath': {'path': str(path),
                                                     'type': type_}}]},
        container={'volumeMounts': [mount]}))


@pytest.fixture
def things(tmp_path):
    (tmp_path / 'dir').mkdir()
    (tmp_path / 'file').write_text('x')
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / 'sock'))
    yield tmp_path
    sock.close()


def block_device():
    for name in sorted(os.listdir('/dev')):
        path = os.path.join('/dev', name)
        try:
            if stat.S_ISBLK(os.stat(path).st_mode):
                return path
        except OSError:
            continue
    return None


@pytest.mark.parametrize('type_,name,kind', [
    ('Directory', 'dir', None), ('Directory', 'file', 'File'),
    ('File', 'file', None), ('File', 'dir', 'Directory'),
    ('Socket', 'sock', None), ('Socket', 'file', 'File'),
    ('CharDevice', 'file', 'File'), ('BlockDevice', 'dir', 'Directory'),
    ('DirectoryOrCreate', 'file', 'File'), ('FileOrCreate', 'dir',
                                            'Directory'),
    ('', 'missing', None),
])
def test_type_checks(things, type_, name, kind):
    path = things / name
    found = [str(e) for e in hostpath.check(deployment(path, type_))]
    if kind is None:
        assert found == []
    else:
        expected = {'Directory': 'directory', 'File': 'file',
                    'Socket': 'socket', 'CharDevice': 'character device',
                    'BlockDevice': 'block device',
                    'DirectoryOrCreate': 'directory',
                    'FileOrCreate': 'file'}[type_]
        assert found == [
            f'web.spec.volumes[v].hostPath.path: Invalid value: "{path}": '
            f'hostPath type check failed: {path} is not a {expected}, '
            f"it's a {kind}"]


def test_devices():
    assert hostpath.type_error('/dev/null', 'CharDevice') == ''
    dev = block_device()
    if dev:
        assert hostpath.type_error(dev, 'BlockDevice') == ''
        assert 'is not a character device' in hostpath.type_error(
            dev, 'CharDevice')


@pytest.mark.parametrize('type_', ['Directory', 'File', 'Socket',
                                   'CharDevice', 'BlockDevice'])
def test_missing(tmp_path, type_):
    path = tmp_path / 'missing'
    (err,) = hostpath.check(deployment(path, type_))
    assert err.detail == f"hostPath {path} doesn't exist"


def test_or_create_is_not_an_error_and_prepare_creates(tmp_path):
    d = tmp_path / 'a' / 'b'
    dep = deployment(d, 'DirectoryOrCreate')
    assert hostpath.check(dep) == []
    hostpath.prepare(dep.containers[0])
    assert d.is_dir() and stat.S_IMODE(d.stat().st_mode) & 0o755 == 0o755
    f = tmp_path / 'f'
    dep = deployment(f, 'FileOrCreate')
    hostpath.prepare(dep.containers[0])
    assert f.is_file() and f.read_text() == ''
    # FileOrCreate does not create parents, like the kubelet: refused at
    # the check, before any container of the deployment changes
    dep = deployment(tmp_path / 'no' / 'f', 'FileOrCreate')
    problems = hostpath.check(dep)
    assert len(problems) == 1 and problems[0].detail == (
        f"hostPath {tmp_path}/no/f: its directory {tmp_path}/no doesn't "
        "exist (FileOrCreate creates the file only)")
    with pytest.raises(errors.DeploymentFailed):
        hostpath.prepare(dep.containers[0])


def test_file_or_create_below_a_directory_or_create_of_the_deployment(
        tmp_path):
    """The directory another volume of the deployment creates counts."""
    d = tmp_path / 'made'
    dep = definitions.parse(pod(
        spec={'volumes': [
            {'name': 'd', 'hostPath': {'path': str(d),
                                       'type': 'DirectoryOrCreate'}},
            {'name': 'f', 'hostPath': {'path': str(d / 'f'),
                                       'type': 'FileOrCreate'}}]},
        container={'volumeMounts': [{'name': 'd', 'mountPath': '/d'},
                                    {'name': 'f', 'mountPath': '/f'}]}))
    assert hostpath.check(dep) == []
    hostpath.prepare(dep.containers[0])
    assert (d / 'f').is_file()
    # so does a config directory, rendered after the check
    dep = deployment(tmp_path / 'cdd' / 'vol' / 'f', 'FileOrCreate')
    assert hostpath.check(dep, rendered=[str(tmp_path / 'cdd')]) == []


def test_sub_path_created_with_root_mode_and_not_escaping(tmp_path):
    root = tmp_path / 'root'
    root.mkdir()
    os.chmod(root, 0o750)
    dep = deployment(root, 'Directory', 'x/y')
    hostpath.prepare(dep.containers[0])
    assert stat.S_IMODE((root / 'x' / 'y').stat().st_mode) == 0o750
    outside = tmp_path / 'outside'
    outside.mkdir()
    os.symlink(str(outside), str(root / 'link'))
    dep = deployment(root, 'Directory', 'link/z')
    assert 'resolves outside the volume' in str(hostpath.check(dep)[0])
    with pytest.raises(errors.DeploymentFailed):
        hostpath.prepare(dep.containers[0])
    assert not (outside / 'z').exists()


def test_checked_raises_validation_error(tmp_path):
    dep = deployment(tmp_path / 'missing', 'Directory')
    with pytest.raises(errors.ValidationError):
        hostpath.checked(dep)
    ok = deployment(tmp_path, 'Directory')
    assert hostpath.checked(ok) is ok


def test_host_root_checks_and_creates_under_it_but_names_host_paths(
        tmp_path):
    """In the agents container the host's / is seen at ``host_root``."""
    root = tmp_path / 'host'
    (root / 'srv').mkdir(parents=True)
    missing = deployment('/srv/missing', 'Directory')
    [err] = hostpath.check(missing, str(root))
    assert str(err).endswith("hostPath /srv/missing doesn't exist")
    (root / 'srv' / 'missing').mkdir()
    assert hostpath.check(missing, str(root)) == []
    # Without host_root the same path is looked up in our own file system.
    assert hostpath.check(missing) != []

    created = deployment('/srv/new/dir', 'DirectoryOrCreate')
    assert hostpath.check(created, str(root)) == []
    hostpath.prepare(created.containers[0], str(root))
    assert (root / 'srv' / 'new' / 'dir').is_dir()
    assert not os.path.exists('/srv/new/dir')


# -- issue 9: a missing docker_config bind source is an error ----------------

def _binds(*volumes):
    return definitions.parse({'docker_config': {'step_2': {'app': {
        'image': 'img', 'volumes': list(volumes)}}}})


def test_missing_docker_config_bind_source(tmp_path):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'here.conf').write_text('x')
    dep = _binds(f'{tmp_path}/etc/here.conf:/etc/here.conf:ro',
                 f'{tmp_path}/etc/app/missing.conf:/etc/app.conf:ro',
                 'named:/data')
    assert [str(e) for e in hostpath.check(dep)] == [
        f'step_2.app.volumes[1]: Not found: "{tmp_path}/etc/app/missing.conf"'
        ': the bind source does not exist on the host (Docker would create '
        'it as an empty directory); create it first or fix the path']
    with pytest.raises(errors.DeploymentFailed, match='missing.conf does '
                       'not exist on the host'):
        hostpath.prepare(dep.containers[0])
    assert not (tmp_path / 'etc' / 'app').exists()


def test_bind_sources_are_looked_up_through_host_root(tmp_path):
    root = tmp_path / 'host'
    (root / 'srv').mkdir(parents=True)
    (root / 'srv' / 'x.conf').write_text('x')
    dep = _binds('/srv/x.conf:/x.conf')
    assert hostpath.check(dep, str(root)) == []
    assert len(hostpath.check(_binds('/srv/y.conf:/y.conf'),
                              str(root))) == 1
    hostpath.prepare(dep.containers[0], str(root))


def test_rendered_config_may_be_missing_at_validation_only(tmp_path):
    """Config rendering creates these after validation; right before a
    container is created they must exist."""
    dep = _binds('/var/lib/config-data/puppet-generated/x-tdh-test:/c:ro',
                 '/var/lib/kolla/config_files/x-tdh-test.json:/k.json',
                 f'{tmp_path}/cdd/x:/y')
    assert hostpath.check(dep, rendered=[str(tmp_path / 'cdd')]) == []
    with pytest.raises(errors.DeploymentFailed):
        hostpath.prepare(dep.containers[0])


def test_pod_host_paths_keep_kubernetes_rules(tmp_path):
    """hostPath type "" leaves a missing path to the engine."""
    dep = deployment(tmp_path / 'nothing-here', '')
    assert hostpath.check(dep) == []
    hostpath.prepare(dep.containers[0])
