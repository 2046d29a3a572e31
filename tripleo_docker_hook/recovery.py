"""Leftovers of a run that was killed (kill -9, OOM, reboot) mid-apply.

Every file the hook writes is written under a temporary name and renamed
into place, so a killed run never leaves a half-written file where a
container reads it; it does leave the temporary names behind: puppet
manifests in ``state_dir/puppet``, staging directories and links of
renders in ``config_data_dir``, ``*.tmp-*`` files, Kolla files being
written.  Temporary *containers* are the plan's business (``leftovers``).

:func:`clear` runs right after the host lock is taken: the lock is held by
at most one apply per host and released by the kernel when its holder
dies, so every leftover found under it belongs to a dead run.  Only names
of the exact shapes this project writes are removed.
"""

import logging
import os
import re
import shutil
from typing import List

LOG = logging.getLogger(__name__)

#: state.py ``_write_json`` (mkstemp ``.tmp-XXXXXXXX``).
_STATE_TMP = re.compile(r'^\.tmp-[A-Za-z0-9_]{8}$')
#: puppet.py manifests: ``<volume>-<run id>.pp`` in ``state_dir/puppet``.
_MANIFEST = re.compile(r'^.+\.pp$')
#: puppet.py staging dirs and links: ``.<volume>.new-<12 hex>``,
#: ``.<volume>.link-<12 hex>``; atomic files ``<name>.tmp-<8 hex>``.
_RENDER = re.compile(r'^\..+\.(new|link)-[0-9a-f]{12}$')
_ATOMIC = re.compile(r'^.+\.tmp-[0-9a-f]{8}$')
#: kolla.py ``write`` (mkstemp ``.<name>.json.XXXXXXXX``).
_KOLLA_TMP = re.compile(r'^\..+\.json\.[A-Za-z0-9_]{8}$')


def _remove(path: str) -> bool:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def _sweep(directory: str, *patterns: re.Pattern) -> List[str]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        if any(p.match(name) for p in patterns):
            if _remove(os.path.join(directory, name)):
                removed.append(os.path.join(directory, name))
    return removed


def clear(conf) -> List[str]:
    """Remove the temporary files of dead runs; the paths removed.

    Call only while holding :func:`state.host_lock`.
    """
    from tripleo_docker_hook import state
    removed: List[str] = []
    state_dir = conf.state_dir
    removed += _sweep(state_dir, _STATE_TMP)
    removed += _sweep(os.path.join(state_dir, 'puppet'), _MANIFEST)
    deployments = os.path.join(state_dir, state.DEPLOYMENTS)
    try:
        names = os.listdir(deployments)
    except OSError:
        names = []
    for name in names:
        removed += _sweep(os.path.join(deployments, name), _STATE_TMP)
    config_data_dir = getattr(conf, 'config_data_dir', None)
    if config_data_dir:
        removed += _sweep(config_data_dir, _RENDER, _ATOMIC)
    kolla_dir = getattr(conf, 'kolla_config_dir', None)
    if kolla_dir:
        removed += _sweep(kolla_dir, _KOLLA_TMP)
    if removed:
        LOG.warning('removed leftovers of an interrupted run: %s',
                    ', '.join(removed))
    return removed
