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
* Each render lands in a fresh staging directory of
  :mod:`config_volume`, which owns the layout of ``config_data_dir`` and
  publishes a render atomically; :mod:`copyout` extracts the archive
  safely (the config image is untrusted).
"""

import errno
import os
import posixpath
import time
from typing import List, Optional, Sequence

from tripleo_docker_hook import MANAGED_BY
from tripleo_docker_hook import config_volume
from tripleo_docker_hook import confighash
from tripleo_docker_hook import copyout
from tripleo_docker_hook import errors
from tripleo_docker_hook import lookup_trace
from tripleo_docker_hook import model
from tripleo_docker_hook import safefs

LABEL_CONFIG_RUN = 'tripleo-docker-hook.config-volume'
LABEL_OWNER_PID = 'tripleo-docker-hook.owner-pid'
#: The owner's pid namespace: a pid means something only in its own.
LABEL_OWNER_PIDNS = 'tripleo-docker-hook.owner-pidns'
KIND_CONFIG = 'config'
MANIFEST_TARGET = '/var/lib/tripleo-docker-hook/manifest.pp'
#: Files Docker bind-mounts into every container with its own network
#: setup; never part of a config volume (LP#1860607, LP#1885619).
DOCKER_NETWORK_FILES = ('/etc/hosts', '/etc/hostname', '/etc/resolv.conf')
OK_EXIT_CODES = (0, 2)
LOG_TAIL = 200


class PuppetFailed(errors.DeploymentFailed):
    """A config run failed; ``output`` is Puppet's (tail of) output."""

    def __init__(self, volume: str, message: str, output: str = ''):
        self.volume = volume
        self.output = output
        super().__init__(f'config volume {volume}: {message}')


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
    environment = [('NAME', entry.config_volume)]
    if p.hieradata_dir and os.path.isdir(p.hieradata_dir):
        mounts.append(model.Mount(target=p.hieradata_dir,
                                  source=p.hieradata_dir, read_only=True))
        if tracing(conf):
            mounts.append(model.Mount(
                target=lookup_trace.SCRIPT_TARGET, read_only=True,
                source=lookup_trace.script_path(conf.state_dir)))
            environment.extend(lookup_trace.environment(
                posixpath.normpath(p.hieradata_dir)))
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
        environment=tuple(environment),
        # An image HEALTHCHECK has no business in a config run (LP#1713185).
        healthcheck=model.HealthCheck(test=('NONE',)))


def tracing(conf) -> bool:
    """Whether config runs report their hiera lookups
    (:mod:`lookup_trace`): only for the render cache, which uses them."""
    p = conf.puppet
    return bool(getattr(p, 'render_cache', True) and
                getattr(p, 'trace_lookups', True))


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


def render(entry: model.PuppetConfig, conf, engine
           ) -> config_volume.Rendered:
    """Run puppet for one config volume into a staging directory.

    Raises :class:`PuppetFailed` (staging removed) on any failure.  The
    config container is always removed: its output is kept in the report,
    and a unique name means nothing blocks the next run.
    """
    cdd = conf.config_data_dir
    volume = entry.config_volume
    run_id = _uuid4_hex()[:12]
    staging = config_volume.new_staging(cdd, volume, run_id)
    manifest_dir = os.path.join(conf.state_dir, 'puppet')
    os.makedirs(manifest_dir, mode=0o700, exist_ok=True)
    manifest = os.path.join(manifest_dir, f'{volume}-{run_id}.pp')
    fd = os.open(manifest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(entry.step_config)
        if not entry.step_config.endswith('\n'):
            f.write('\n')
    spec = container_spec(entry, conf, manifest)
    traced = any(m.target == lookup_trace.SCRIPT_TARGET for m in spec.mounts)
    if traced:
        lookup_trace.ensure_script(conf.state_dir)
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
        lookups = _lookups(engine, name, conf) if traced else None
        excluded = list(DOCKER_NETWORK_FILES) + [lookup_trace.OUTPUT] + [
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
        return config_volume.Rendered(
            volume=volume, staging=staging, hash=digest, output=output,
            started=started, finished=finished, lookups=lookups)
    except BaseException as exc:
        safefs.quiet_rmtree(staging)
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


def remove_leftovers(config_data_dir: str, state_dir: str) -> List[str]:
    """Remove what runs that died (``kill -9``) left: staging directories
    and temporary links (:func:`config_volume.remove_leftovers`) and
    manifests.  Renders only run under the host lock, so whoever calls
    this (holding it) knows every one of them is dead."""
    removed = config_volume.remove_leftovers(config_data_dir)
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


def limits(conf) -> copyout.Limits:
    p = conf.puppet
    return copyout.Limits(
        max_bytes=int(getattr(p, 'copy_out_max_mib', 1024)) << 20,
        max_entries=int(getattr(p, 'copy_out_max_entries', 200000)),
        max_depth=int(getattr(p, 'copy_out_max_depth', 64)))


def _lookups(engine, name: str, conf) -> lookup_trace.Trace:
    """The hiera lookups the run reported (an untrusted file: bounded,
    checked, opaque on any doubt)."""
    try:
        stream = engine.archive(name, lookup_trace.OUTPUT)
    except errors.HookError as exc:
        return lookup_trace.opaque(f'lookup trace: {errors.first_line(exc)}')
    if stream is None:
        return lookup_trace.opaque('no lookup trace')
    try:
        raw = copyout.read_file(stream, lookup_trace.MAX_BYTES)
    finally:
        close = getattr(stream, 'close', None)
        if close is not None:
            close()
    return lookup_trace.parse(raw, posixpath.normpath(
        conf.puppet.hieradata_dir))


def _logs(engine, name: str) -> str:
    try:
        return engine.logs(name, tail=LOG_TAIL)
    except errors.HookError as exc:
        return f'(no output: {errors.first_line(exc)})'


def _pull(engine, ref: str, retries: int) -> None:
    """Pull a missing config image; retried (LP#1715136) by the engine's
    one retry policy (:meth:`engine.Engine.pull`)."""
    engine.pull(ref, retries)


def _uuid4_hex() -> str:
    """``uuid.uuid4().hex``, importing uuid (and its platform probe) only
    when a name is needed, not in every run's start-up."""
    import uuid
    return uuid.uuid4().hex
