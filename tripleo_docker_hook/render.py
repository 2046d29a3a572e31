"""Config rendering: puppet into ``config_data_dir``, Kolla config.json files.

Runs after validation and before planning.  Its result feeds change
detection: :func:`with_config_hashes` folds the hash of every config volume
(and Kolla file) a container mounts into that container's definition
(``TRIPLEO_CONFIG_HASH`` and ``source_hash``), so a config change restarts
exactly the containers that use it.

All or nothing: every config volume renders (in parallel, ``[puppet]
workers``) into a staging directory first; only when all succeeded, every
Kolla file is staged and every config mount resolved inside its
generation (:func:`pin`), is anything published.  A failed render fails
the deployment before any container is touched and leaves the previous
config complete; a failed apply publishes the previous config again
(:func:`undo`).
"""

import concurrent.futures
import dataclasses
import hashlib
import logging
import os
import posixpath
from typing import Dict, List, Optional, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import kolla
from tripleo_docker_hook import model
from tripleo_docker_hook import config_volume
from tripleo_docker_hook import confighash
from tripleo_docker_hook import puppet
from tripleo_docker_hook import render_cache
from tripleo_docker_hook import safefs
from tripleo_docker_hook.definitions import config_sections

LOG = logging.getLogger(__name__)

DEFAULT_CONFIG_DATA_DIR = '/var/lib/config-data'
ENV_CONFIG_HASH = 'TRIPLEO_CONFIG_HASH'


class ConfigHashes(dict):
    """Host path → hash, plus ``aliases``: default path prefix → the
    configured directory, applied to container mount sources (templates
    name ``/var/lib/config-data/...``; a node may configure another dir);
    ``pins``: mount source (after aliases) → the path in the immutable
    generation it is bound from; ``publication``: what this render
    published, for :func:`undo` and :func:`finish`."""

    def __init__(self, *args, aliases: Optional[Dict[str, str]] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.aliases: Dict[str, str] = dict(aliases or {})
        self.pins: Dict[str, str] = {}
        #: published path → generation path (volumes, Kolla files)
        self.roots: Dict[str, str] = {}
        self.publication: Optional[Publication] = None


@dataclasses.dataclass
class Publication:
    """What one render staged and published: all or nothing."""

    config_data_dir: str
    kolla_config_dir: str
    volumes: List[config_volume.Staged] = dataclasses.field(
        default_factory=list)
    kolla_files: List['kolla.Staged'] = dataclasses.field(
        default_factory=list)

    def publish(self, report) -> None:
        for v in self.volumes:
            for w in config_volume.publish(self.config_data_dir, v):
                report.error(f'WARNING: {w}')
        for k in self.kolla_files:
            kolla.publish(self.kolla_config_dir, k)
            if k.changed:
                report.info(f'kolla config {k.path}: written')

    def undo(self) -> List[str]:
        """Publish the previous config again; what was reverted."""
        lines = []
        for k in reversed(self.kolla_files):
            if kolla.unpublish(self.kolla_config_dir, k):
                lines.append(f'kolla config {k.path}: previous content '
                             'published again')
        for v in reversed(self.volumes):
            if not v.published:
                # Never published, so no container binds it.
                config_volume.unstage(self.config_data_dir, v)
            elif config_volume.unpublish(self.config_data_dir, v):
                previous = (v.previous_md5 or '').strip() or 'none'
                lines.append(f'config volume {v.volume}: previous config '
                             f'(hash {previous}) published again; '
                             f'containers this run started on hash '
                             f'{v.hash} keep it')
        # A generation containers of this run were created on stays until
        # none binds it (finish).
        return lines

    def finish(self) -> None:
        for k in self.kolla_files:
            kolla.finish(self.kolla_config_dir, k)


def _aliases(conf) -> Dict[str, str]:
    result = {}
    for default, configured in (
            (DEFAULT_CONFIG_DATA_DIR, conf.config_data_dir),
            (kolla.DEFAULT_DIR, conf.kolla_config_dir)):
        configured = posixpath.normpath(configured)
        if configured != default:
            result[default] = configured
    return result


def _rewrite(source: str, aliases: Dict[str, str]) -> str:
    if not source.startswith('/'):
        return source  # a named volume
    path = posixpath.normpath(source)
    for default, configured in aliases.items():
        if path == default or path.startswith(default + '/'):
            return configured + path[len(default):]
    return path


def _put_volume(hashes: Dict[str, str], config_data_dir: str, volume: str,
                value: str) -> None:
    """A volume's hash under its path and its ``puppet-generated`` alias."""
    hashes[config_volume.volume_path(config_data_dir, volume)] = value
    hashes[config_volume.alias_path(config_data_dir, volume)] = value


def _volume_of(path: str, config_data_dir: str) -> Optional[str]:
    """The config volume a host path lies in (or is), if any."""
    rel = kolla._under(path, posixpath.normpath(config_data_dir))
    if not rel:
        return None
    parts = rel.split('/')
    if parts[0] == config_volume.ALIAS_DIR:
        parts = parts[1:]
    if not parts or not parts[0] or parts[0].startswith('.') or \
            parts[0].endswith('.md5sum'):
        return None
    return parts[0]


def _existing(desired: model.Deployment, conf, hashes: ConfigHashes,
              skip_volumes=(), skip_files=(), write: bool = False) -> None:
    """Hashes (and generations) of what containers mount but this
    deployment does not render (another deployment rendered it): read
    from disk.  ``write``: create missing Kolla generation copies."""
    cdd = posixpath.normpath(conf.config_data_dir)
    kcd = posixpath.normpath(conf.kolla_config_dir)
    for container in desired.containers:
        for mount in container.mounts:
            if mount.type != 'bind' or not mount.source:
                continue
            source = _rewrite(mount.source, hashes.aliases)
            volume = _volume_of(source, cdd)
            if volume is not None:
                key = config_volume.volume_path(cdd, volume)
                if volume in skip_volumes or key in hashes:
                    continue
                value = config_volume.read_hash(cdd, volume,
                                                conf.puppet.hash_exclude)
                if value:
                    _put_volume(hashes, cdd, volume, value)
                    _put_root(hashes, cdd, volume, _published_gen(cdd,
                                                                  volume))
                continue
            if kolla._under(source, kcd) and source not in hashes and \
                    source not in skip_files and os.path.isfile(source):
                _existing_kolla(hashes, kcd, source, write)


def _published_gen(cdd: str, volume: str) -> Optional[str]:
    """The generation a volume's symlink points at (None: not ours, e.g. a
    real directory left by docker-puppet: not pinned)."""
    path = config_volume.volume_path(cdd, volume)
    if not os.path.islink(path):
        return None
    current = config_volume.current_dir(cdd, volume)
    if current and config_volume.is_own_gen(cdd, current, volume):
        return current
    return None


def _put_root(hashes: ConfigHashes, cdd: str, volume: str,
              gen: Optional[str]) -> None:
    if gen:
        hashes.roots[config_volume.volume_path(cdd, volume)] = gen
        hashes.roots[config_volume.alias_path(cdd, volume)] = gen


def _existing_kolla(hashes: ConfigHashes, kcd: str, source: str,
                    write: bool) -> None:
    content = kolla.read(kcd, source)
    if content is None:
        return
    hashes[source] = confighash.bytes_hash(content)
    hashes.roots[source] = (kolla.ensure_generation(kcd, content) if write
                            else kolla.generation_path(kcd, content))


def _where(c: model.Container, m: model.Mount) -> str:
    return f'{c.name}: volume {m.source}:{m.target}'


def pin(desired: model.Deployment, conf, hashes: ConfigHashes,
        strict: bool = True) -> None:
    """Fill ``hashes.pins``: every bind source under ``config_data_dir`` or
    ``kolla_config_dir`` resolved on this host, inside the generation it
    belongs to.

    Sources in a rendered volume or a Kolla file are moved into its
    immutable generation, so a container reads what it was created with at
    every restart, and its ``TRIPLEO_CONFIG_HASH`` stays true.  Every
    source is then resolved (``realpath``) as the Docker daemon would:
    one that a symlink in a rendered tree leads out of its generation (or
    out of the config directories) raises :class:`errors.DeploymentFailed`;
    with ``strict`` so does one missing in a generation (Docker would
    create it inside an immutable tree).
    """
    cdd = posixpath.normpath(conf.config_data_dir)
    kcd = posixpath.normpath(conf.kolla_config_dir)
    problems: List[str] = []
    roots = sorted(hashes.roots, key=len, reverse=True)
    for container in desired.containers:
        for m in container.mounts:
            if m.type != 'bind' or not m.source.startswith('/'):
                continue
            source = _rewrite(m.source, hashes.aliases)
            top = next((r for r in (cdd, kcd)
                        if safefs.inside(r, source)), None)
            if top is None:
                continue
            key = next((r for r in roots if safefs.inside(r, source)), None)
            if key is None:
                real = os.path.realpath(source)
                if not safefs.resolved_inside(top, real):
                    problems.append(f'{_where(container, m)}: resolves to '
                                    f'{real}, outside {top}: refused')
                continue
            gen = hashes.roots[key]
            real = os.path.realpath(gen + source[len(key):])
            if not safefs.resolved_inside(gen, real):
                problems.append(
                    f'{_where(container, m)}: resolves to {real}, outside '
                    f'the rendered config {key} (a symlink in it leads '
                    'out): refused')
            elif strict and not os.path.lexists(real):
                problems.append(
                    f'{_where(container, m)}: {source[len(key):] or "/"} '
                    f'does not exist in the rendered config {key}')
            else:
                hashes.pins[source] = real
    if problems:
        raise errors.DeploymentFailed(
            'config mounts refused, nothing was changed: ' +
            '; '.join(problems))


def current_hashes(desired: model.Deployment, conf) -> Dict[str, str]:
    """Hashes of what is on disk now, without rendering (for dry runs)."""
    hashes = ConfigHashes(aliases=_aliases(conf))
    cdd = posixpath.normpath(conf.config_data_dir)
    for entry in desired.puppet_config:
        value = config_volume.read_hash(cdd, entry.config_volume,
                                        conf.puppet.hash_exclude)
        if value:
            _put_volume(hashes, cdd, entry.config_volume, value)
        _put_root(hashes, cdd, entry.config_volume,
                  _published_gen(cdd, entry.config_volume))
    kcd = posixpath.normpath(conf.kolla_config_dir)
    for cfg in desired.kolla_config:
        path = kolla.host_path(cfg.path, conf.kolla_config_dir)
        if path and os.path.isfile(path):
            _existing_kolla(hashes, kcd, path, write=False)
    _existing(desired, conf, hashes)
    try:
        pin(desired, conf, hashes, strict=False)
    except errors.DeploymentFailed:
        hashes.pins.clear()  # shown by the apply; a dry run only predicts
    return hashes


def _mounts_config(desired: model.Deployment, conf) -> bool:
    roots = [posixpath.normpath(conf.config_data_dir),
             posixpath.normpath(conf.kolla_config_dir),
             DEFAULT_CONFIG_DATA_DIR, kolla.DEFAULT_DIR]
    return any(m.source.startswith(tuple(r + '/' for r in roots))
               for c in desired.containers for m in c.mounts
               if m.source.startswith('/'))


def _render_volumes(entries, conf, engine
                    ) -> Tuple[List[config_volume.Rendered],
                               List[puppet.PuppetFailed]]:
    done: List[config_volume.Rendered] = []
    failed: List[puppet.PuppetFailed] = []
    workers = max(1, min(conf.puppet.workers, len(entries)))
    with concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix='puppet') as pool:
        futures = {pool.submit(puppet.render, e, conf, engine): e
                   for e in entries}
        for future in concurrent.futures.as_completed(futures):
            entry = futures[future]
            try:
                done.append(future.result())
            except puppet.PuppetFailed as exc:
                failed.append(exc)
            except errors.HookError as exc:
                failed.append(puppet.PuppetFailed(
                    entry.config_volume, errors.first_line(exc)))
    done.sort(key=lambda r: r.volume)
    failed.sort(key=lambda f: f.volume)
    return done, failed


def _report_output(report, volume: str, output: str, failed: bool) -> None:
    for line in output.splitlines():
        if not line.strip():
            continue
        text = f'puppet[{volume}]: {line}'
        if failed or line.startswith(('Error:', 'Warning:')):
            report.error(text)
        else:
            report.info(text)


def render_all(desired: model.Deployment, conf, engine, report,
               masker, force: bool = False) -> ConfigHashes:
    """Render every config volume and Kolla file; host path → hash.

    A volume whose inputs are unchanged since its last render is not
    rendered again: its published generation is used (:mod:`render_cache`;
    ``force`` renders all).

    All or nothing across volumes and Kolla files: everything is rendered
    and staged (generation directories, generation copies, temporary
    files: whatever can fail for lack of space fails here), every config
    mount is resolved and confined (:func:`pin`), and only then is
    everything published by renames.  The result's ``publication`` is
    reverted by :func:`undo` when the apply fails.  Must run under the
    host lock (leftovers of dead runs are removed at once).
    """
    hashes = ConfigHashes(aliases=_aliases(conf))
    if not (desired.puppet_config or desired.kolla_config or
            _mounts_config(desired, conf)):
        return hashes
    # Everything that can be refused is refused before puppet runs.
    kolla_paths = kolla.check_paths(desired.kolla_config,
                                    conf.kolla_config_dir)
    entries = config_sections.merge_all(desired.puppet_config)
    cdd = posixpath.normpath(conf.config_data_dir)
    kcd = posixpath.normpath(conf.kolla_config_dir)
    left = puppet.remove_leftovers(cdd, conf.state_dir) + \
        kolla.remove_leftovers(kcd, kolla_paths.values())
    if left:
        LOG.info('removed leftovers of interrupted runs: %s',
                 ', '.join(left))
    rendered: List[config_volume.Rendered] = []
    cache, entries, skipped, decisions = render_cache.split(
        entries, conf, engine, force, report) if entries else (
        None, entries, [], {})
    for d in skipped:
        _put_volume(hashes, cdd, d.volume, d.hash)
        _put_root(hashes, cdd, d.volume, _published_gen(cdd, d.volume))
    if cache is not None:
        for e in entries:
            cache.forget(e.config_volume)
    if entries:
        removed = puppet.remove_stale(engine, conf.puppet.timeout)
        if removed:
            LOG.info('removed config containers of interrupted runs: %s',
                     ', '.join(removed))
        rendered, failed = _render_volumes(entries, conf, engine)
        if failed:
            for r in rendered:
                config_volume.discard(r)
            for f in failed:
                report.error(masker.mask(
                    f'config volume {f.volume}: puppet failed: '
                    f'{errors.first_line(f)}'))
                _report_output(report, f.volume, masker.mask(f.output),
                               failed=True)
            raise errors.DeploymentFailed(
                'config rendering failed for ' +
                ', '.join(f.volume for f in failed) +
                '; previous config and containers left unchanged')
    pub = Publication(cdd, kcd)
    try:
        for r in rendered:
            staged = config_volume.stage(cdd, r, conf.puppet.hash_exclude)
            pub.volumes.append(staged)
            _put_volume(hashes, cdd, r.volume, r.hash)
            _put_root(hashes, cdd, r.volume, os.path.join(cdd, staged.gen))
            _report_output(report, r.volume, masker.mask(r.output),
                           failed=False)
            report.info(f'config volume {r.volume}: '
                        f'{"changed" if staged.changed else "unchanged"} '
                        f'(hash {r.hash}, {r.finished - r.started:.1f} s)')
        for cfg in desired.kolla_config:
            path = kolla_paths[cfg.path]
            staged_k = kolla.stage(kcd, path, kolla.dumps(cfg))
            pub.kolla_files.append(staged_k)
            hashes[path] = confighash.bytes_hash(staged_k.content)
            hashes.roots[path] = staged_k.generation
        _existing(desired, conf, hashes,
                  skip_volumes={p.config_volume
                                for p in desired.puppet_config},
                  skip_files=set(kolla_paths.values()), write=True)
        pin(desired, conf, hashes)
        pub.publish(report)
    except BaseException as exc:
        for r in rendered:
            if os.path.isdir(r.staging):
                config_volume.discard(r)
        try:
            pub.undo()
        except OSError as undo_exc:
            LOG.error('could not revert a partial publish: %s', undo_exc)
        if isinstance(exc, OSError):
            raise errors.DeploymentFailed(
                f'config not published, previous config left unchanged: '
                f'{exc.strerror or exc}: {exc.filename or ""}') from exc
        raise
    hashes.publication = pub
    if cache is not None:
        # Published: a record now vouches for it (an undo after a failed
        # apply moves the publication, which the next check notices).
        for r in rendered:
            cache.remember(decisions[r.volume], r)
        cache.save_trees()
    return hashes


def undo(hashes, report) -> None:
    """After a failed apply: publish the previous config again (containers
    bind their own generation and are not affected)."""
    pub = getattr(hashes, 'publication', None)
    if pub is None:
        return
    try:
        for line in pub.undo():
            report.error(line)
    except OSError as exc:
        report.error(f'could not publish the previous config again: {exc}')


def finish(hashes, conf, engine) -> None:
    """After an apply (either way): drop backups, and remove generations
    that no container binds and nothing publishes."""
    pub = getattr(hashes, 'publication', None)
    if pub is None:
        return
    try:
        pub.finish()
        referenced = engine.bind_sources()
        if referenced is None:
            LOG.warning('the engine does not list mounts: old config '
                        'generations are kept')
            return
        config_volume.collect(pub.config_data_dir, referenced)
        kolla.collect(pub.kolla_config_dir, referenced,
                      keep=[k.generation for k in pub.kolla_files])
    except Exception as exc:  # clean-up never fails a deployment
        LOG.warning('clean-up of old config generations: %s', exc)


def _container_hash(container: model.Container, hashes: Dict[str, str],
                    aliases: Dict[str, str],
                    pins: Dict[str, str]) -> model.Container:
    mounts = []
    found: List[str] = []
    labels: List[Tuple[str, str]] = []
    for mount in container.mounts:
        if mount.type == 'bind' and mount.source:
            source = _rewrite(mount.source, aliases)
            for key in sorted(hashes, key=len, reverse=True):
                if source == key or source.startswith(key + '/'):
                    if hashes[key] not in found:
                        found.append(hashes[key])
                    label = config_label(key)
                    if label not in dict(labels):
                        labels.append((label, hashes[key]))
                    break
            source = pins.get(source, source)
            if source != mount.source:
                mount = dataclasses.replace(mount, source=source)
        mounts.append(mount)
    mounts_t = tuple(mounts)
    if not found and mounts_t == container.mounts:
        return container
    value = '-'.join(found)
    env = tuple((k, v) for k, v in container.environment
                if k != ENV_CONFIG_HASH)
    if found:
        env += ((ENV_CONFIG_HASH, value),)
    moved = [m.source for m, o in zip(mounts_t, container.mounts)
             if m.source != o.source]
    folded = hashlib.sha256('\0'.join(
        [container.source_hash, value] + moved).encode()).hexdigest()
    return dataclasses.replace(container, mounts=mounts_t, environment=env,
                               source_hash=folded,
                               config_hashes=tuple(sorted(labels)))


def config_label(path: str) -> str:
    """How a plan names a config source: ``config volume keystone`` for
    ``/var/lib/config-data/puppet-generated/keystone``, ``kolla config
    keystone.json`` for a Kolla file."""
    base = posixpath.basename(posixpath.normpath(path))
    if base.endswith('.json'):
        return f'kolla config {base}'
    return f'config volume {base}'


def stored_hashes(stored, conf) -> Dict[str, str]:
    """Hashes kept in a state record, with this node's path aliases, for
    :func:`with_config_hashes` of a stored definition."""
    return ConfigHashes(stored if isinstance(stored, dict) else {},
                        aliases=_aliases(conf))


def with_config_hashes(desired: model.Deployment,
                       hashes: Dict[str, str]) -> model.Deployment:
    """The model with each container's config hash folded in."""
    aliases = getattr(hashes, 'aliases', {})
    pins = getattr(hashes, 'pins', {})
    if not hashes and not aliases:
        return desired
    steps = tuple(dataclasses.replace(step, containers=tuple(
        _container_hash(c, hashes, aliases, pins) for c in step.containers))
        for step in desired.steps)
    return dataclasses.replace(desired, steps=steps)
