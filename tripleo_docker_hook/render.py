"""Config rendering: puppet into ``config_data_dir``, Kolla config.json files.

Runs after validation and before planning.  Its result feeds change
detection: :func:`with_config_hashes` folds the hash of every config volume
(and Kolla file) a container mounts into that container's definition
(``TRIPLEO_CONFIG_HASH`` and ``source_hash``), so a config change restarts
exactly the containers that use it.

All or nothing: every config volume renders (in parallel, ``[puppet]
workers``) into a staging directory first; only when all succeeded are
they published and the Kolla files written.  A failed render fails the
deployment before any container is touched and leaves the previous config
complete.
"""

import concurrent.futures
import dataclasses
import hashlib
import logging
import os
import posixpath
from typing import Dict, List, Optional, Tuple

from tripleo_docker_hook import confighash
from tripleo_docker_hook import errors
from tripleo_docker_hook import kolla
from tripleo_docker_hook import model
from tripleo_docker_hook import puppet
from tripleo_docker_hook.definitions import config_sections

LOG = logging.getLogger(__name__)

DEFAULT_CONFIG_DATA_DIR = '/var/lib/config-data'
ENV_CONFIG_HASH = 'TRIPLEO_CONFIG_HASH'


class ConfigHashes(dict):
    """Host path → hash, plus ``aliases``: default path prefix → the
    configured directory, applied to container mount sources (templates
    name ``/var/lib/config-data/...``; a node may configure another dir)."""

    def __init__(self, *args, aliases: Optional[Dict[str, str]] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.aliases: Dict[str, str] = dict(aliases or {})


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
    hashes[puppet.volume_path(config_data_dir, volume)] = value
    hashes[puppet.alias_path(config_data_dir, volume)] = value


def _volume_of(path: str, config_data_dir: str) -> Optional[str]:
    """The config volume a host path lies in (or is), if any."""
    rel = kolla._under(path, posixpath.normpath(config_data_dir))
    if not rel:
        return None
    parts = rel.split('/')
    if parts[0] == puppet.ALIAS_DIR:
        parts = parts[1:]
    if not parts or not parts[0] or parts[0].startswith('.') or \
            parts[0].endswith('.md5sum'):
        return None
    return parts[0]


def _existing(desired: model.Deployment, conf, hashes: ConfigHashes,
              skip_volumes=(), skip_files=()) -> None:
    """Hashes of what containers mount but this deployment does not
    render (another deployment rendered it): read from disk."""
    cdd = posixpath.normpath(conf.config_data_dir)
    kcd = posixpath.normpath(conf.kolla_config_dir)
    for container in desired.containers:
        for mount in container.mounts:
            if mount.type != 'bind' or not mount.source:
                continue
            source = _rewrite(mount.source, hashes.aliases)
            volume = _volume_of(source, cdd)
            if volume is not None:
                key = puppet.volume_path(cdd, volume)
                if volume in skip_volumes or key in hashes:
                    continue
                value = puppet.read_hash(cdd, volume,
                                         conf.puppet.hash_exclude)
                if value:
                    _put_volume(hashes, cdd, volume, value)
                continue
            if kolla._under(source, kcd) and source not in hashes and \
                    source not in skip_files and os.path.isfile(source):
                hashes[source] = confighash.file_hash(source)


def current_hashes(desired: model.Deployment, conf) -> Dict[str, str]:
    """Hashes of what is on disk now, without rendering (for dry runs)."""
    hashes = ConfigHashes(aliases=_aliases(conf))
    cdd = posixpath.normpath(conf.config_data_dir)
    for entry in desired.puppet_config:
        value = puppet.read_hash(cdd, entry.config_volume,
                                 conf.puppet.hash_exclude)
        if value:
            _put_volume(hashes, cdd, entry.config_volume, value)
    for cfg in desired.kolla_config:
        path = kolla.host_path(cfg.path, conf.kolla_config_dir)
        if path and os.path.isfile(path):
            hashes[path] = confighash.file_hash(path)
    _existing(desired, conf, hashes)
    return hashes


def _mounts_config(desired: model.Deployment, conf) -> bool:
    roots = [posixpath.normpath(conf.config_data_dir),
             posixpath.normpath(conf.kolla_config_dir),
             DEFAULT_CONFIG_DATA_DIR, kolla.DEFAULT_DIR]
    return any(m.source.startswith(tuple(r + '/' for r in roots))
               for c in desired.containers for m in c.mounts
               if m.source.startswith('/'))


def _render_volumes(entries, conf, engine
                    ) -> Tuple[List[puppet.Rendered],
                               List[puppet.PuppetFailed]]:
    done: List[puppet.Rendered] = []
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
               masker) -> Dict[str, str]:
    """Render every config volume and Kolla file; host path → hash."""
    hashes = ConfigHashes(aliases=_aliases(conf))
    if not (desired.puppet_config or desired.kolla_config or
            _mounts_config(desired, conf)):
        return hashes
    # Everything that can be refused is refused before puppet runs.
    kolla_paths = kolla.check_paths(desired.kolla_config,
                                    conf.kolla_config_dir)
    entries = config_sections.merge_all(desired.puppet_config)
    cdd = posixpath.normpath(conf.config_data_dir)
    rendered: List[puppet.Rendered] = []
    if entries:
        removed = puppet.remove_stale(engine, conf.puppet.timeout)
        if removed:
            LOG.info('removed config containers of interrupted runs: %s',
                     ', '.join(removed))
        rendered, failed = _render_volumes(entries, conf, engine)
        if failed:
            for r in rendered:
                puppet.discard(r)
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
    try:
        for r in rendered:
            changed, warnings = puppet.commit(
                cdd, r, conf.puppet.hash_exclude,
                stale_after=conf.puppet.timeout + 600)
            _put_volume(hashes, cdd, r.volume, r.hash)
            _report_output(report, r.volume, masker.mask(r.output),
                           failed=False)
            report.info(f'config volume {r.volume}: '
                        f'{"changed" if changed else "unchanged"} '
                        f'(hash {r.hash}, {r.finished - r.started:.1f} s)')
            for w in warnings:
                report.error(f'WARNING: {w}')
    except BaseException:
        for r in rendered:
            if os.path.isdir(r.staging):
                puppet.discard(r)
        raise
    for cfg in desired.kolla_config:
        path = kolla_paths[cfg.path]
        content = kolla.dumps(cfg)
        if kolla.write(path, content):
            report.info(f'kolla config {path}: written')
        hashes[path] = confighash.bytes_hash(content)
    _existing(desired, conf, hashes,
              skip_volumes={p.config_volume for p in desired.puppet_config},
              skip_files=set(kolla_paths.values()))
    return hashes


def _container_hash(container: model.Container, hashes: Dict[str, str],
                    aliases: Dict[str, str]) -> model.Container:
    mounts = []
    found: List[str] = []
    for mount in container.mounts:
        if mount.type == 'bind' and mount.source:
            source = _rewrite(mount.source, aliases)
            if source != mount.source:
                mount = dataclasses.replace(mount, source=source)
            for key in sorted(hashes, key=len, reverse=True):
                if source == key or source.startswith(key + '/'):
                    if hashes[key] not in found:
                        found.append(hashes[key])
                    break
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
                               source_hash=folded)


def with_config_hashes(desired: model.Deployment,
                       hashes: Dict[str, str]) -> model.Deployment:
    """The model with each container's config hash folded in."""
    aliases = getattr(hashes, 'aliases', {})
    if not hashes and not aliases:
        return desired
    steps = tuple(dataclasses.replace(step, containers=tuple(
        _container_hash(c, hashes, aliases) for c in step.containers))
        for step in desired.steps)
    return dataclasses.replace(desired, steps=steps)
