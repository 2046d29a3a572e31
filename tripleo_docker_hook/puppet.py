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
* Each render lands in a fresh staging directory (copy-out rules: the
  config image is untrusted, see :mod:`copyout`).  :func:`stage` turns it
  into a generation directory ``.<volume>.gen-<id>``; :func:`publish`
  points ``<config_data_dir>/<volume>`` (a relative symlink) at it with
  one ``rename(2)``: atomic and crash-safe; :func:`unpublish` reverts
  that when the apply fails.  Containers bind the generation itself, not
  the symlink (see :func:`render.pin`): Docker resolves bind sources at
  every start, so only an immutable path makes a restart read what the
  container was created with.  :func:`collect` removes generations that
  are neither published nor bound by any container.  An unchanged render
  is discarded: nothing moves under anyone.
"""

import dataclasses
import errno
import os
import posixpath
import re
import stat
import time
import uuid
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from tripleo_docker_hook import MANAGED_BY
from tripleo_docker_hook import atomicfile
from tripleo_docker_hook import confighash
from tripleo_docker_hook import copyout
from tripleo_docker_hook import errors
from tripleo_docker_hook import model
from tripleo_docker_hook import safefs
from tripleo_docker_hook.kolla import _under as kolla_under

LABEL_CONFIG_RUN = 'tripleo-docker-hook.config-volume'
LABEL_OWNER_PID = 'tripleo-docker-hook.owner-pid'
#: The owner's pid namespace: a pid means something only in its own.
LABEL_OWNER_PIDNS = 'tripleo-docker-hook.owner-pidns'
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


_GEN = re.compile(r'^\.(.+)\.gen-[0-9a-f]{12}$')
_LEFTOVER = re.compile(
    r'^\.(.+)\.(new|link)-[0-9a-f]{12}$|^.+\.md5sum\.tmp-[0-9a-f]{8}$')


def _is_gen(name: str, volume: str) -> bool:
    prefix = f'.{volume}.gen-'
    rest = name[len(prefix):]
    return name.startswith(prefix) and len(rest) == 12 and all(
        c in '0123456789abcdef' for c in rest)


def is_own_gen(config_data_dir: str, path: str, volume: str) -> bool:
    """Is ``path`` (resolved) a generation of ``volume`` directly in
    ``config_data_dir``, not a look-alike elsewhere?"""
    return os.path.dirname(path) == os.path.realpath(config_data_dir) and \
        _is_gen(os.path.basename(path), volume)


def current_dir(config_data_dir: str, volume: str) -> Optional[str]:
    """The directory now published for ``volume`` (None if none, or if
    it resolves outside ``config_data_dir``: a planted ``<volume> -> /``
    made the hook hash the whole host, ``/proc/kcore`` included)."""
    path = volume_path(config_data_dir, volume)
    if os.path.isdir(path):
        real = os.path.realpath(path)
        if safefs.resolved_inside(config_data_dir, real):
            return real
    return None


#: Largest ``<volume>.md5sum`` read (a hash and a newline).
MAX_MD5_FILE = 4096


def _read_md5_file(path: str) -> Optional[str]:
    """A ``.md5sum`` file's text; None if missing.  Only a regular file
    (not a symlink, FIFO or device: ``-> /dev/zero`` grew memory without
    end) and at most :data:`MAX_MD5_FILE` bytes of it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                     os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise
    with os.fdopen(fd, 'rb') as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return f.read(MAX_MD5_FILE).decode('utf-8', 'replace')


def read_hash(config_data_dir: str, volume: str,
              exclude: Sequence[str] = ()) -> Optional[str]:
    """The published hash: the ``.md5sum`` file, else computed."""
    value = (_read_md5_file(md5_path(config_data_dir, volume)) or
             '').split()
    if value:
        return value[0]
    current = current_dir(config_data_dir, volume)
    return confighash.tree_hash(current, exclude) if current else None


def _write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    atomicfile.write(path, text, mode)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rmtree(path: str) -> None:
    safefs.quiet_rmtree(path)


def discard(rendered: Rendered) -> None:
    _rmtree(rendered.staging)


@dataclasses.dataclass
class Staged:
    """A render moved to its (unpublished) generation directory.

    ``gen`` is the basename of the generation containers will bind: a new
    one when the content changed, else the published one.
    """

    volume: str
    gen: str
    hash: str
    changed: bool
    #: Undo information, filled by :func:`publish`.
    previous_link: Optional[str] = None
    previous_md5: Optional[str] = None
    published: bool = False


def stage(config_data_dir: str, rendered: Rendered,
          exclude: Sequence[str] = ()) -> Staged:
    """Turn a render into a generation directory, not yet published.

    An identical tree (by hash) is not staged: the render is discarded and
    the published generation is used, so containers using it see no
    change at all.
    """
    volume = rendered.volume
    current = current_dir(config_data_dir, volume)
    path = volume_path(config_data_dir, volume)
    if current and os.path.islink(path) and \
            is_own_gen(config_data_dir, current, volume) and \
            confighash.tree_hash(current, exclude) == rendered.hash:
        discard(rendered)
        return Staged(volume, os.path.basename(current), rendered.hash,
                      changed=False)
    gen = _gen_name(volume)
    os.chmod(rendered.staging, 0o755)
    os.rename(rendered.staging, os.path.join(config_data_dir, gen))
    return Staged(volume, gen, rendered.hash, changed=True)


def unstage(config_data_dir: str, staged: Staged) -> None:
    """Remove a staged generation that was never published."""
    if staged.changed and not staged.published:
        _rmtree(os.path.join(config_data_dir, staged.gen))


def _read_md5(config_data_dir: str, volume: str) -> Optional[str]:
    return _read_md5_file(md5_path(config_data_dir, volume))


def publish(config_data_dir: str, staged: Staged) -> List[str]:
    """Point ``<volume>`` at the staged generation (one ``rename(2)``) and
    record its hash; warnings.  :func:`unpublish` reverts it."""
    volume = staged.volume
    path = volume_path(config_data_dir, volume)
    warnings: List[str] = []
    staged.previous_md5 = _read_md5(config_data_dir, volume)
    if staged.changed:
        if os.path.islink(path):
            staged.previous_link = os.readlink(path)
        elif os.path.lexists(path):
            # A real directory (left by docker-puppet or an older
            # version): moved aside once, kept as a generation.
            legacy = _gen_name(volume)
            os.rename(path, os.path.join(config_data_dir, legacy))
            staged.previous_link = legacy
        _switch(config_data_dir, volume, staged.gen)
    staged.published = True
    if (staged.previous_md5 or '').strip() != staged.hash:
        _write_atomic(md5_path(config_data_dir, volume), staged.hash + '\n')
    warnings.extend(_ensure_alias(config_data_dir, volume))
    return warnings


def unpublish(config_data_dir: str, staged: Staged) -> bool:
    """Revert :func:`publish`: the previous generation and hash are
    published again.  True if anything was reverted."""
    if not staged.published:
        return False
    volume = staged.volume
    reverted = False
    if staged.changed:
        if staged.previous_link:
            _switch(config_data_dir, volume, staged.previous_link)
        else:
            os.unlink(volume_path(config_data_dir, volume))
        reverted = True
    md5 = md5_path(config_data_dir, volume)
    if staged.previous_md5 is None:
        if os.path.lexists(md5):
            os.unlink(md5)
    elif (staged.previous_md5 or '').strip() != staged.hash:
        _write_atomic(md5, staged.previous_md5)
        reverted = True
    staged.published = False
    return reverted


def _switch(config_data_dir: str, volume: str, gen: str) -> None:
    link = os.path.join(config_data_dir,
                        f'.{volume}.link-{uuid.uuid4().hex[:12]}')
    os.symlink(gen, link)
    os.replace(link, volume_path(config_data_dir, volume))
    _fsync_dir(config_data_dir)


def commit(config_data_dir: str, rendered: Rendered,
           exclude: Sequence[str] = ()) -> Tuple[bool, List[str]]:
    """Stage and publish one render at once; ``(changed, warnings)``."""
    staged = stage(config_data_dir, rendered, exclude)
    return staged.changed, publish(config_data_dir, staged)


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


def generations(config_data_dir: str) -> Dict[str, List[str]]:
    """Volume → basenames of its generation directories."""
    result: Dict[str, List[str]] = {}
    try:
        names = os.listdir(config_data_dir)
    except FileNotFoundError:
        return result
    for name in names:
        match = _GEN.match(name)
        if match:
            result.setdefault(match.group(1), []).append(name)
    return result


def collect(config_data_dir: str, referenced: Iterable[str]) -> List[str]:
    """Remove every generation that is neither published nor named by a
    path in ``referenced`` (bind sources of every container on the host):
    a container always finds the generation it was created with, at every
    restart.  Removed basenames."""
    roots = {posixpath.normpath(config_data_dir),
             os.path.realpath(config_data_dir)}
    used = set()
    for source in referenced:
        for root in roots:
            rel = kolla_under(posixpath.normpath(source), root)
            if rel:
                used.add(rel.split('/', 1)[0])
    removed = []
    for volume, gens in generations(config_data_dir).items():
        current = current_dir(config_data_dir, volume)
        keep = used | {os.path.basename(current) if current else ''}
        for gen in gens:
            if gen not in keep:
                _rmtree(os.path.join(config_data_dir, gen))
                removed.append(gen)
    return removed


def remove_leftovers(config_data_dir: str, state_dir: str) -> List[str]:
    """Remove staging directories, temporary links and manifests of runs
    that died (``kill -9``).  Renders only run under the host lock, so
    whoever calls this (holding it) knows every one of them is dead."""
    removed = []
    try:
        names = os.listdir(config_data_dir)
    except FileNotFoundError:
        names = []
    for name in names:
        if _LEFTOVER.match(name):
            _rmtree(os.path.join(config_data_dir, name))
            removed.append(name)
    manifests = os.path.join(state_dir, 'puppet')
    try:
        names = os.listdir(manifests)
    except FileNotFoundError:
        names = []
    for name in names:
        if name.endswith('.pp'):
            try:
                os.unlink(os.path.join(manifests, name))
                removed.append(name)
            except FileNotFoundError:
                pass
    return removed


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
            LABEL_OWNER_PID: str(os.getpid()),
            LABEL_OWNER_PIDNS: _pidns()}


def _pidns() -> str:
    try:
        return os.readlink('/proc/self/ns/pid')
    except OSError:
        return ''


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
    own_ns = _pidns()
    for obs in engine.list_containers():
        if not obs.managed or obs.labels.get(model.LABEL_KIND) != \
                KIND_CONFIG:
            continue
        if _pid_alive(obs.labels.get(LABEL_OWNER_PID, '')):
            continue
        ours = bool(own_ns) and obs.labels.get(LABEL_OWNER_PIDNS) == own_ns
        # Owner dead in our pid namespace: certainly dead, whatever the
        # state (kill -9 mid-render).  Elsewhere: only once it had time.
        if not ours and obs.state == 'running' and \
                now - obs.created < timeout:
            continue
        engine.remove(obs.id, force=True, volumes=True)
        removed.append(obs.name)
    return removed


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
        except errors.EngineTimeout as exc:
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
        stats = copyout.Stats()
        for directory in conf.puppet.config_dirs:
            directory = posixpath.normpath('/' + directory.strip('/'))
            stream = engine.archive(name, directory)
            if stream is None:
                continue
            try:
                copyout.extract(stream, directory, staging, excluded,
                                limits(conf), stats)
            finally:
                # Unread, the stream blocks the daemon, and the removal
                # of the config container with it (until the timeout).
                close = getattr(stream, 'close', None)
                if close is not None:
                    close()
        finished = time.time()
        digest = confighash.tree_hash(staging, conf.puppet.hash_exclude)
        return Rendered(volume=volume, staging=staging, hash=digest,
                        output=output, started=started, finished=finished)
    except BaseException as exc:
        _rmtree(staging)
        if isinstance(exc, (PuppetFailed, KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise PuppetFailed(volume, f'copy-out into {cdd}: No space '
                               'left on device; the previous config is '
                               'unchanged', output) from exc
        raise PuppetFailed(volume, errors.first_line(exc), output) from exc
    finally:
        try:
            engine.remove(name, force=True, volumes=True)
        finally:
            try:
                os.unlink(manifest)
            except FileNotFoundError:
                pass


def limits(conf) -> copyout.Limits:
    p = conf.puppet
    return copyout.Limits(
        max_bytes=int(getattr(p, 'copy_out_max_mib', 1024)) << 20,
        max_entries=int(getattr(p, 'copy_out_max_entries', 200000)),
        max_depth=int(getattr(p, 'copy_out_max_depth', 64)))


def _logs(engine, name: str) -> str:
    try:
        return engine.logs(name, tail=LOG_TAIL)
    except errors.HookError as exc:
        return f'(no output: {errors.first_line(exc)})'


def _pull(engine, ref: str, retries: int) -> None:
    """Pull a missing config image; retried (LP#1715136) by the engine's
    one retry policy (:meth:`engine.Engine.pull`)."""
    engine.pull(ref, retries)
