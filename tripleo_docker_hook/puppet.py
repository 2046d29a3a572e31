"""Puppet config runs: one throw-away container per config volume.

Design (see ``docs/source/config.rst``):

* Puppet runs in a container of the entry's ``config_image`` (the
  service's own image in upstream's later design, the agents image in the
  blueprint's), host networking, ``--detailed-exitcodes`` (0 and 2 are
  success), only file-like tags, with the host's modules, hieradata and
  hiera.yaml mounted read-only **at their host paths** (so a host
  hiera.yaml's ``datadir`` holds inside too) and the manifest mounted
  read-only.
* Copy-out goes through the Engine's archive API from the stopped
  container: the ``[puppet] config_dirs`` trees, minus every mount point of
  the container (our ro mounts, the entry's volumes, image volumes, and
  Docker's ``/etc/hosts``, ``/etc/hostname``, ``/etc/resolv.conf``), so
  bind-mounted files are never captured.  The whole tree (not "newer than
  a marker") is taken: it has no clock dependence and files Puppet stops
  producing vanish with the next render.
* Each render lands in a fresh staging directory; only when every volume
  of the deployment rendered does :func:`commit` publish them.  The volume
  path ``<config_data_dir>/<volume>`` is a relative symlink to a
  generation directory ``.<volume>.gen-<id>`` and is switched with one
  ``rename(2)``: atomic, and crash-safe.  Docker resolves bind sources at
  container start, so running containers keep the generation they started
  with (the previous one is kept until the next change), and containers
  whose hash changed are recreated onto the new one.  An unchanged render
  is discarded: nothing moves under anyone.
"""

import dataclasses
import io
import os
import posixpath
import shutil
import tarfile
import time
import uuid
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from tripleo_docker_hook import MANAGED_BY
from tripleo_docker_hook import confighash
from tripleo_docker_hook import errors
from tripleo_docker_hook import model

LABEL_CONFIG_RUN = 'tripleo-docker-hook.config-volume'
LABEL_OWNER_PID = 'tripleo-docker-hook.owner-pid'
KIND_CONFIG = 'config'
MANIFEST_TARGET = '/var/lib/tripleo-docker-hook/manifest.pp'
#: Files Docker bind-mounts into every container with its own network
#: setup; never part of a config volume (LP#1860607, LP#1885619).
DOCKER_NETWORK_FILES = ('/etc/hosts', '/etc/hostname', '/etc/resolv.conf')
ALIAS_DIR = 'puppet-generated'
OK_EXIT_CODES = (0, 2)
LOG_TAIL = 200


class PuppetFailed(errors.DeploymentFailed):
    """A config run failed; ``output`` is Puppet's (tail of) output."""

    def __init__(self, volume: str, message: str, output: str = ''):
        self.volume = volume
        self.output = output
        super().__init__(f'config volume {volume}: {message}')


@dataclasses.dataclass
class Rendered:
    """A successful render waiting in its staging directory."""

    volume: str
    staging: str
    hash: str
    output: str
    started: float
    finished: float


# -- host layout -----------------------------------------------------------
def volume_path(config_data_dir: str, volume: str) -> str:
    return os.path.join(config_data_dir, volume)


def md5_path(config_data_dir: str, volume: str) -> str:
    return os.path.join(config_data_dir, volume + '.md5sum')


def alias_path(config_data_dir: str, volume: str) -> str:
    return os.path.join(config_data_dir, ALIAS_DIR, volume)


def _gen_name(volume: str) -> str:
    return f'.{volume}.gen-{uuid.uuid4().hex[:12]}'


def _is_gen(name: str, volume: str) -> bool:
    prefix = f'.{volume}.gen-'
    rest = name[len(prefix):]
    return name.startswith(prefix) and len(rest) == 12 and all(
        c in '0123456789abcdef' for c in rest)


def _is_leftover(name: str, volume: str) -> bool:
    """Staging dirs and temporary links of interrupted runs."""
    for kind in ('new', 'link'):
        prefix = f'.{volume}.{kind}-'
        rest = name[len(prefix):]
        if name.startswith(prefix) and len(rest) == 12 and all(
                c in '0123456789abcdef' for c in rest):
            return True
    return False


def current_dir(config_data_dir: str, volume: str) -> Optional[str]:
    """The directory now published for ``volume`` (None if none)."""
    path = volume_path(config_data_dir, volume)
    if os.path.isdir(path):
        return os.path.realpath(path)
    return None


def read_hash(config_data_dir: str, volume: str,
              exclude: Sequence[str] = ()) -> Optional[str]:
    """The published hash: the ``.md5sum`` file, else computed."""
    try:
        with open(md5_path(config_data_dir, volume)) as f:
            value = f.read().split()
        if value:
            return value[0]
    except FileNotFoundError:
        pass
    current = current_dir(config_data_dir, volume)
    return confighash.tree_hash(current, exclude) if current else None


def _write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    tmp = f'{path}.tmp-{uuid.uuid4().hex[:8]}'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def discard(rendered: Rendered) -> None:
    _rmtree(rendered.staging)


def commit(config_data_dir: str, rendered: Rendered,
           exclude: Sequence[str] = (), stale_after: float = 7200
           ) -> Tuple[bool, List[str]]:
    """Publish a render; ``(changed, warnings)``.

    An identical tree (by hash) is kept and the render discarded, so
    containers using it see no change at all.
    """
    volume = rendered.volume
    warnings: List[str] = []
    path = volume_path(config_data_dir, volume)
    current = current_dir(config_data_dir, volume)
    changed = not (current and confighash.tree_hash(current, exclude) ==
                   rendered.hash)
    previous = os.path.basename(current) if current else ''
    if changed:
        gen = os.path.join(config_data_dir, _gen_name(volume))
        os.rename(rendered.staging, gen)
        if os.path.lexists(path) and not os.path.islink(path):
            # A real directory (first run, or left by docker-puppet):
            # moved aside once, kept as the previous generation.
            legacy = _gen_name(volume)
            os.rename(path, os.path.join(config_data_dir, legacy))
            previous = legacy
        link = os.path.join(config_data_dir,
                            f'.{volume}.link-{uuid.uuid4().hex[:12]}')
        os.symlink(os.path.basename(gen), link)
        os.replace(link, path)
        _fsync_dir(config_data_dir)
        current = gen
    else:
        discard(rendered)
    md5 = md5_path(config_data_dir, volume)
    try:
        with open(md5) as f:
            recorded = f.read().strip()
    except FileNotFoundError:
        recorded = None
    if recorded != rendered.hash:
        _write_atomic(md5, rendered.hash + '\n')
    warnings.extend(_ensure_alias(config_data_dir, volume))
    # Generations are collected only when one was replaced: the previous
    # one may still be mounted by containers of other deployments.
    _collect(config_data_dir, volume,
             keep=(os.path.basename(current), previous) if changed else None,
             stale_after=stale_after)
    return changed, warnings


def _ensure_alias(config_data_dir: str, volume: str) -> List[str]:
    """``puppet-generated/<volume>`` → ``../<volume>`` for templates of the
    paunch era, which mount that path."""
    alias = alias_path(config_data_dir, volume)
    target = os.path.join('..', volume)
    if os.path.islink(alias) and os.readlink(alias) == target:
        return []
    if os.path.lexists(alias):
        return [f'{alias} exists and is not ours: left alone (containers '
                f'mounting it do not see the rendered config)']
    os.makedirs(os.path.dirname(alias), mode=0o755, exist_ok=True)
    tmp = f'{alias}.tmp-{uuid.uuid4().hex[:8]}'
    os.symlink(target, tmp)
    os.replace(tmp, alias)
    return []


def _collect(config_data_dir: str, volume: str,
             keep: Optional[Iterable[str]], stale_after: float) -> None:
    """Remove generations but ``keep`` (all when None), and leftovers of
    interrupted runs old enough not to belong to a running one."""
    keep_set = None if keep is None else set(k for k in keep if k)
    now = time.time()
    for name in os.listdir(config_data_dir):
        full = os.path.join(config_data_dir, name)
        if keep_set is not None and _is_gen(name, volume) and \
                name not in keep_set:
            _rmtree(full)
        elif _is_leftover(name, volume):
            try:
                age = now - os.lstat(full).st_mtime
            except FileNotFoundError:
                continue
            if age > stale_after:
                if os.path.islink(full) or not os.path.isdir(full):
                    os.unlink(full)
                else:
                    _rmtree(full)


# -- the config container --------------------------------------------------
def command(entry: model.PuppetConfig, tags: Sequence[str],
            modulepath: str, hiera_config: Optional[str]) -> List[str]:
    """``puppet apply`` arguments (argv: no shell, no quoting)."""
    all_tags = list(dict.fromkeys(list(tags) + list(entry.puppet_tags)))
    args = ['apply', '--detailed-exitcodes', '--color=false',
            '--logdest', 'console', '--modulepath', modulepath]
    if all_tags:
        args += ['--tags', ','.join(all_tags)]
    if hiera_config:
        args += ['--hiera_config', hiera_config]
    args.append(MANIFEST_TARGET)
    return args


def container_spec(entry: model.PuppetConfig, conf, manifest: str
                   ) -> model.Container:
    """The config container: host paths that are missing are not mounted."""
    p = conf.puppet
    mounts = [model.Mount(target=MANIFEST_TARGET, source=manifest,
                          read_only=True)]
    modulepath = [p.image_modulepath] if p.image_modulepath else []
    if p.modules_dir and os.path.isdir(p.modules_dir):
        mounts.append(model.Mount(target=p.modules_dir, source=p.modules_dir,
                                  read_only=True))
        modulepath.insert(0, p.modules_dir)
    if p.hieradata_dir and os.path.isdir(p.hieradata_dir):
        mounts.append(model.Mount(target=p.hieradata_dir,
                                  source=p.hieradata_dir, read_only=True))
    hiera = None
    if p.hiera_config and os.path.isfile(p.hiera_config):
        mounts.append(model.Mount(target=p.hiera_config,
                                  source=p.hiera_config, read_only=True))
        hiera = p.hiera_config
    mounts.extend(entry.volumes)
    return model.Container(
        name=f'config-{entry.config_volume}', image=entry.config_image,
        kind=model.Kind.TASK, entrypoint=('puppet',),
        command=tuple(command(entry, p.tags, ':'.join(modulepath), hiera)),
        user='root', mounts=tuple(mounts), privileged=entry.privileged,
        environment=(('NAME', entry.config_volume),),
        # An image HEALTHCHECK has no business in a config run (LP#1713185).
        healthcheck=model.HealthCheck(test=('NONE',)))


def labels(volume: str) -> dict:
    return {model.LABEL_MANAGED_BY: MANAGED_BY,
            model.LABEL_KIND: KIND_CONFIG,
            LABEL_CONFIG_RUN: volume,
            LABEL_OWNER_PID: str(os.getpid())}


def _pid_alive(value: str) -> bool:
    try:
        os.kill(int(value), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def remove_stale(engine, timeout: float) -> List[str]:
    """Remove config containers of runs that were killed: owner process
    gone, and exited (or running for longer than a run may take, in case
    the owner lived in another pid namespace); never any other container."""
    removed = []
    now = time.time()
    for obs in engine.list_containers():
        if not obs.managed or obs.labels.get(model.LABEL_KIND) != \
                KIND_CONFIG:
            continue
        if _pid_alive(obs.labels.get(LABEL_OWNER_PID, '')):
            continue
        if obs.state == 'running' and now - obs.created < timeout:
            continue
        engine.remove(obs.id, force=True, volumes=True)
        removed.append(obs.name)
    return removed


class _IterReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (the archive stream)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = iter(chunks)
        self._buf = b''

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _excluded(path: str, excluded: Sequence[str]) -> bool:
    return any(path == e or path.startswith(e.rstrip('/') + '/')
               for e in excluded)


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + '/')


def extract(chunks: Iterable[bytes], source_dir: str, staging: str,
            excluded: Sequence[str]) -> int:
    """Unpack the archive of ``source_dir`` into ``staging``; entry count.

    The archive comes from an image we do not trust blindly: names with
    ``..`` or absolute names are refused, nothing is written through a
    symlink (an existing entry is unlinked first, as GNU tar does, and a
    parent must resolve inside the staging root), hard links must point
    inside, devices and fifos are skipped.  Owners are kept numerically
    (Kolla's ``preserve_properties`` copies them into the service).
    """
    root = os.path.realpath(staging)
    parent = posixpath.dirname(source_dir.rstrip('/')) or '/'
    dest = os.path.join(root, parent.lstrip('/'))
    os.makedirs(dest, mode=0o755, exist_ok=True)
    kwargs = {'numeric_owner': True}
    if hasattr(tarfile, 'fully_trusted_filter'):
        kwargs['filter'] = 'fully_trusted'  # our checks are below
    count = 0
    with tarfile.open(fileobj=io.BufferedReader(_IterReader(chunks)),
                      mode='r|') as tar:
        for member in tar:
            name = posixpath.normpath(member.name)
            if name.startswith('/') or name == '..' or \
                    name.startswith('../') or '/../' in name:
                raise errors.DeploymentFailed(
                    f'unsafe path in config archive: {member.name!r}')
            if _excluded(posixpath.join(parent, name), excluded):
                continue
            if member.ischr() or member.isblk() or member.isfifo():
                continue
            target = os.path.join(dest, name)
            if not _inside(root, os.path.realpath(os.path.dirname(target))):
                raise errors.DeploymentFailed(
                    f'config archive entry {member.name!r} escapes the '
                    'staging directory')
            if os.path.lexists(target) and not (
                    member.isdir() and os.path.isdir(target) and
                    not os.path.islink(target)):
                if os.path.isdir(target) and not os.path.islink(target):
                    shutil.rmtree(target)
                else:
                    os.unlink(target)
            if member.islnk():
                link = posixpath.normpath(member.linkname)
                if link.startswith(('/', '../')) or link == '..':
                    raise errors.DeploymentFailed(
                        f'unsafe hard link in config archive: {link!r}')
                src = os.path.join(dest, link)
                if not os.path.isfile(src) or os.path.islink(src):
                    continue  # its target was excluded
                member.linkname = link
            member.name = name
            tar.extract(member, dest, set_attrs=True, **kwargs)
            count += 1
    return count


def render(entry: model.PuppetConfig, conf, engine) -> Rendered:
    """Run puppet for one config volume into a staging directory.

    Raises :class:`PuppetFailed` (staging removed) on any failure.  The
    config container is always removed: its output is kept in the report,
    and a unique name means nothing blocks the next run.
    """
    cdd = conf.config_data_dir
    volume = entry.config_volume
    run_id = uuid.uuid4().hex[:12]
    os.makedirs(cdd, mode=0o755, exist_ok=True)
    staging = os.path.join(cdd, f'.{volume}.new-{run_id}')
    os.mkdir(staging, 0o755)
    manifest_dir = os.path.join(conf.state_dir, 'puppet')
    os.makedirs(manifest_dir, mode=0o700, exist_ok=True)
    manifest = os.path.join(manifest_dir, f'{volume}-{run_id}.pp')
    fd = os.open(manifest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(entry.step_config)
        if not entry.step_config.endswith('\n'):
            f.write('\n')
    spec = container_spec(entry, conf, manifest)
    name = f'tripleo-config-{run_id}-{volume}'[:128]  # id survives the cut
    output = ''
    started = time.time()
    try:
        if engine.image_id(entry.config_image) is None:
            _pull(engine, entry.config_image, conf.pull_retries)
        engine.create(spec, name, labels(volume))
        engine.start(name)
        try:
            code = engine.wait(name, conf.puppet.timeout)
        except errors.DeploymentFailed as exc:
            output = _logs(engine, name)
            raise PuppetFailed(volume, str(exc), output) from exc
        output = _logs(engine, name)
        if code not in OK_EXIT_CODES:
            raise PuppetFailed(volume, f'puppet apply exited with {code} '
                               '(4 or 6: resources failed; 1: the '
                               'catalog did not compile)', output)
        info = engine.inspect(name)
        excluded = list(DOCKER_NETWORK_FILES) + [
            m.get('Destination', '') for m in info.get('Mounts') or ()
            if m.get('Destination')] + [m.target for m in spec.mounts]
        for directory in conf.puppet.config_dirs:
            directory = posixpath.normpath('/' + directory.strip('/'))
            stream = engine.archive(name, directory)
            if stream is not None:
                extract(stream, directory, staging, excluded)
        finished = time.time()
        digest = confighash.tree_hash(staging, conf.puppet.hash_exclude)
        return Rendered(volume=volume, staging=staging, hash=digest,
                        output=output, started=started, finished=finished)
    except BaseException as exc:
        _rmtree(staging)
        if isinstance(exc, (PuppetFailed, KeyboardInterrupt, SystemExit)):
            raise
        raise PuppetFailed(volume, errors.first_line(exc), output) from exc
    finally:
        try:
            engine.remove(name, force=True, volumes=True)
        finally:
            try:
                os.unlink(manifest)
            except FileNotFoundError:
                pass


def _logs(engine, name: str) -> str:
    try:
        return engine.logs(name, tail=LOG_TAIL)
    except errors.HookError as exc:
        return f'(no output: {errors.first_line(exc)})'


def _pull(engine, ref: str, retries: int) -> None:
    """Pull a missing config image; retried (LP#1715136)."""
    for attempt in range(retries + 1):
        try:
            engine.pull(ref)
            return
        except errors.EngineError:
            if attempt == retries:
                raise
            time.sleep(min(3 * (attempt + 1), 10))
