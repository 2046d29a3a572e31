"""kubelet ``hostPath`` semantics on this host.

:func:`check` only reads the host (run after validation, before any
change: a wrong type fails the deployment with nothing touched);
:func:`prepare` creates ``DirectoryOrCreate``/``FileOrCreate`` paths and
missing ``subPath`` directories right before a container is created.
Messages are the kubelet's (``pkg/volume/hostpath/host_path.go``).

docker_config binds (:attr:`model.Mount.must_exist`) get one more rule:
the source must exist, since Docker would create a missing one as an
empty *directory* (a missing ``foo.conf`` became a directory the service
could not read; paunch refused such volumes).  Only the hook's own output
directories (config rendering, :data:`RENDERED_ROOTS` and their configured
equivalents) may be missing at validation, because rendering creates them
later; once rendering is over (before the first step) every source must
exist, and right before a container is created it is checked again.

``host_root`` is where the host's root file system is visible to the hook:
``/`` on the host; in the agents container the unit mounts the host's ``/``
at ``/host`` (option ``host_root``), like a containerised kubelet's
``/rootfs``.  Messages always name the host path.
"""

import dataclasses
import os
import stat
from typing import Dict, Iterable, List, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model

#: Where the hook itself writes config before creating containers: binds
#: below these may be missing at validation time (defaults of
#: ``config_data_dir`` and ``kolla_config_dir``).
RENDERED_ROOTS = ('/var/lib/config-data', '/var/lib/kolla/config_files')

#: hostPath type → (file type it requires, kubelet description).
_EXPECT = {
    'Directory': ('Directory', 'directory'),
    'DirectoryOrCreate': ('Directory', 'directory'),
    'File': ('File', 'file'),
    'FileOrCreate': ('File', 'file'),
    'Socket': ('Socket', 'socket'),
    'CharDevice': ('CharDevice', 'character device'),
    'BlockDevice': ('BlockDevice', 'block device'),
}


def file_type(path: str) -> Optional[str]:
    """The kubelet's FileType name of ``path`` (symlinks followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode):
        return 'Directory'
    if stat.S_ISSOCK(mode):
        return 'Socket'
    if stat.S_ISCHR(mode):
        return 'CharDevice'
    if stat.S_ISBLK(mode):
        return 'BlockDevice'
    return 'File'


def on_host(path: str, host_root: str = '/') -> str:
    """Where the hook sees the host's ``path``."""
    if host_root in ('', '/'):
        return path
    return os.path.join(host_root, path.lstrip('/'))


def type_error(path: str, host_path_type: str,
               may_create: bool = False, host_root: str = '/') -> str:
    """The kubelet's message for ``path`` not matching, or ``''``."""
    if host_path_type not in _EXPECT:
        return ''
    expected, description = _EXPECT[host_path_type]
    actual = file_type(on_host(path, host_root))
    if actual is None:
        if may_create and host_path_type.endswith('OrCreate'):
            return ''
        return f"hostPath {path} doesn't exist"
    if actual != expected:
        return (f"hostPath type check failed: {path} is not a "
                f"{description}, it's a {actual}")
    return ''


def _mounts(deployment: model.Deployment
            ) -> Iterable[Tuple[model.Container, model.Mount]]:
    for c in deployment.containers:
        for m in c.mounts:
            if m.type == 'bind' and (m.host_path_type or m.sub_path):
                yield c, m


def _where(c: model.Container, m: model.Mount) -> str:
    pod = c.pod or c.name
    if m.pod_volume:
        return f'{pod}.spec.volumes[{m.pod_volume}].hostPath.path'
    return f'{c.name}.volumes[{m.target}]'


def _escapes(root: str, sub_path: str) -> bool:
    """Does ``root/sub_path`` resolve outside ``root`` (via symlinks)?"""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root, sub_path))
    return not (real == real_root or real.startswith(real_root.rstrip('/') +
                                                     '/'))


def _under(path: str, roots: Iterable[str]) -> bool:
    path = os.path.normpath(path)
    return any(path == os.path.normpath(r) or
               path.startswith(os.path.normpath(r).rstrip('/') + '/')
               for r in roots if r)


def missing_sources(deployment: model.Deployment, host_root: str = '/',
                    rendered: Iterable[str] = (),
                    rendering_done: bool = False
                    ) -> List[errors.FieldError]:
    """docker_config binds whose source does not exist on the host.

    Before rendering, sources under :data:`RENDERED_ROOTS` or ``rendered``
    (the configured config directories) are not checked: rendering
    creates them.  With ``rendering_done`` (after it, before the first
    step) every source is: a config volume or Kolla file that nothing
    rendered is refused before any container changes.
    """
    roots = () if rendering_done else RENDERED_ROOTS + tuple(rendered)
    out: List[errors.FieldError] = []
    for c in deployment.containers:
        for m in c.mounts:
            if not m.must_exist or _under(m.source, roots):
                continue
            if not os.path.exists(on_host(m.source, host_root)):
                out.append(errors.FieldError(
                    m.origin or f'{c.name}.volumes[{m.target}]',
                    'Not found', m.source,
                    'the bind source does not exist on the host (Docker '
                    'would create it as an empty directory); create it '
                    'first or fix the path'))
    return out


def check(deployment: model.Deployment, host_root: str = '/',
          rendered: Iterable[str] = ()) -> List[errors.FieldError]:
    """Checks that only read the host; one error per volume.

    Pod hostPath types (kubelet rules) and missing docker_config bind
    sources (see :func:`missing_sources`).
    """
    out: List[errors.FieldError] = missing_sources(deployment, host_root,
                                                   rendered)
    seen: Dict[Tuple[str, str], bool] = {}
    # Directories that exist by the time containers are created: those a
    # DirectoryOrCreate makes, and the config directories (rendered after
    # validation).
    created = [m.volume_root for _, m in _mounts(deployment)
               if m.host_path_type == 'DirectoryOrCreate'] + \
        list(RENDERED_ROOTS) + list(rendered)
    for c, m in _mounts(deployment):
        root = m.volume_root
        key = (c.pod or c.name, root)
        if key not in seen:
            seen[key] = True
            message = type_error(root, m.host_path_type, may_create=True,
                                 host_root=host_root) or \
                _parent_error(root, m.host_path_type, created, host_root)
            if message:
                out.append(errors.FieldError(_where(c, m), 'Invalid value',
                                             root, message))
                continue
        local = on_host(root, host_root)
        if m.sub_path and os.path.exists(local) and _escapes(local,
                                                             m.sub_path):
            out.append(SubPathError(
                _where(c, m), 'Invalid value', m.source,
                f'subPath {m.sub_path} resolves outside the volume {root}',
                container=c.name))
    return out


def _parent_error(path: str, host_path_type: str, created: List[str],
                  host_root: str) -> str:
    """``FileOrCreate`` makes the file, not its directory (kubelet): a
    missing parent outside ``created`` (``DirectoryOrCreate`` roots of the
    deployment, the config directories) is refused now, not when the
    container is reached (after earlier steps changed the host)."""
    if host_path_type != 'FileOrCreate' or \
            os.path.lexists(on_host(path, host_root)):
        return ''
    parent = os.path.dirname(path.rstrip('/')) or '/'
    if os.path.isdir(on_host(parent, host_root)) or _under(parent, created):
        return ''
    return (f"hostPath {path}: its directory {parent} doesn't exist "
            f"(FileOrCreate creates the file only)")


@dataclasses.dataclass(frozen=True)
class SubPathError(errors.FieldError):
    """A subPath that resolves outside its volume, now: whatever runs
    with it must not restart (Docker resolves bind sources at every
    start)."""

    container: str = ''


def escaping(problems) -> List[str]:
    """Names of the containers whose subPath escapes, from :func:`check`."""
    return sorted({p.container for p in problems
                   if isinstance(p, SubPathError)})


def prepare(container: model.Container, host_root: str = '/') -> None:
    """Create ``*OrCreate`` paths and sub paths; re-check the types.

    Raises :class:`errors.DeploymentFailed` with the kubelet's message,
    or when a docker_config bind source is missing (rendering did not
    create it either).
    """
    for m in container.mounts:
        if m.must_exist and not os.path.exists(on_host(m.source,
                                                        host_root)):
            raise errors.DeploymentFailed(
                f'{container.name}: bind source {m.source} does not exist '
                f'on the host ({m.origin or m.target}); Docker would create '
                f'it as an empty directory')
        if m.type != 'bind' or not (m.host_path_type or m.sub_path):
            continue
        root = m.volume_root
        local = on_host(root, host_root)
        try:
            if m.host_path_type == 'DirectoryOrCreate' and \
                    not os.path.lexists(local):
                os.makedirs(local, 0o755, exist_ok=True)
            elif m.host_path_type == 'FileOrCreate' and \
                    not os.path.lexists(local):
                # Like the kubelet: the parent must exist.
                fd = os.open(local, os.O_CREAT | os.O_WRONLY | os.O_EXCL,
                             0o644)
                os.close(fd)
        except OSError as exc:
            raise errors.DeploymentFailed(
                f'{container.name}: hostPath {root}: {exc.strerror}'
            ) from exc
        message = type_error(root, m.host_path_type, host_root=host_root)
        if message:
            raise errors.DeploymentFailed(f'{container.name}: {message}')
        if m.sub_path:
            _make_sub_path(container, local, m.sub_path)


def _make_sub_path(container: model.Container, root: str,
                   sub_path: str) -> None:
    """Create missing sub path directories with the root's mode, one level
    at a time, refusing symlinks that lead outside the volume."""
    if _escapes(root, sub_path):
        raise errors.DeploymentFailed(
            f'{container.name}: subPath {sub_path} resolves outside the '
            f'volume {root}')
    if os.path.exists(os.path.join(root, sub_path)):
        return
    try:
        mode = stat.S_IMODE(os.stat(root).st_mode)
        current = root
        for part in sub_path.split('/'):
            if not part:
                continue
            current = os.path.join(current, part)
            if os.path.islink(current):
                if _escapes(root, os.path.relpath(current, root)):
                    raise errors.DeploymentFailed(
                        f'{container.name}: subPath {sub_path} resolves '
                        f'outside the volume {root}')
                continue
            if not os.path.exists(current):
                os.mkdir(current, mode)
                os.chmod(current, mode)
    except OSError as exc:
        raise errors.DeploymentFailed(
            f'{container.name}: subPath {sub_path}: {exc.strerror}') from exc


def checked(deployment: model.Deployment, host_root: str = '/',
            rendered: Iterable[str] = ()) -> model.Deployment:
    """``deployment`` if :func:`check` finds nothing, else raise
    :class:`errors.ValidationError` (nothing on the host changed yet)."""
    problems = check(deployment, host_root, rendered)
    if problems:
        raise errors.ValidationError(problems)
    return deployment
