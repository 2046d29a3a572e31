"""Removal of deployments that vanished from the heat-config file.

Run by os-refresh-config's ``configure.d/50-heat-config-tripleo-docker-hook``
before ``55-heat-config``.  Heat drops a deployment from the server's
metadata when it is deleted without a DELETE action; the hook is then never
called again for it, so this is the only place its containers can go.

Safety first, because the peers' scripts mass-deleted on bad input
(peers.md §3.3):

- the file must be a non-empty JSON list of objects; a missing, empty,
  unreadable, truncated or otherwise odd file, or a valid ``[]``, removes
  nothing (``[]`` is what a broken metadata fetch looks like as often as
  a real "no deployments");
- the deployment name is decided by the hook's own rule
  (:func:`document.identity`); an item of our group whose name the hook
  would refuse, a key given twice, a group that is ours but for case, or a
  list holding no item of ours makes the whole file suspect: nothing is
  removed;
- only deployments this host applied (registered in ``state_dir``) are
  candidates, and only containers labelled ``managed_by`` us and with that
  deployment's name are touched;
- identity is the deployment NAME, never Heat's derived id.
"""

import logging
import os
import re
from typing import Any, Iterable, List, Optional, Set

from tripleo_docker_hook import state

LOG = logging.getLogger(__name__)

DEFAULT_HEAT_CONFIG = '/var/run/heat-config/heat-config'
DEFAULT_GROUPS = ('tripleo-docker-hook', 'docker-cmd', 'kubelet')


def heat_config_path() -> str:
    return os.environ.get('HEAT_SHELL_CONFIG') or DEFAULT_HEAT_CONFIG


#: heat-config finds a hook by its group minus these characters
#: (hook-contract.md §4): ``tripleo-docker-hook!`` runs our hook too.
_NOT_IN_HOOK_NAME = re.compile(r'[^A-Za-z0-9_-]')


class Suspect(ValueError):
    """The file cannot be read exactly as the hook would: remove nothing."""


def _hook_of(group: Any, groups: Iterable[str]) -> bool:
    """True when heat-config would run our hook for ``group``.

    A group equal to ours but for case is suspect: on a case-insensitive
    lookup it would be ours, here it is not, and guessing wrong removes a
    deployment that is still listed.
    """
    if not isinstance(group, str):
        return False
    name = _NOT_IN_HOOK_NAME.sub('', group)
    if name in groups:
        return True
    if name.lower() in {g.lower() for g in groups}:
        raise Suspect(f'group {group!r} differs from ours only in case')
    return False


def _is_ours(item: dict, groups: Iterable[str]) -> bool:
    group = item.get('group')
    if group == 'component':
        config = item.get('config')
        configs = config.get('configs') if isinstance(config, dict) else None
        return any(isinstance(c, dict) and _hook_of(c.get('tool'), groups)
                   for c in configs or ())
    return _hook_of(group, groups)


def wanted_deployments(text: Optional[str], groups: Iterable[str]
                       ) -> Optional[Set[str]]:
    """Names of our deployments in a heat-config file's text, decided by
    the hook's own rule (:func:`document.identity`).

    None when the text cannot be trusted (then nothing may be removed):
    not a non-empty JSON list of objects, a key given twice, an item of
    ours whose name the hook would refuse, a group that is ours but for
    case, or no item of ours at all (a list of other groups' items is what
    a metadata fetch gone wrong looks like as often as "all deleted").
    """
    from tripleo_docker_hook import document
    from tripleo_docker_hook import errors
    from tripleo_docker_hook import loading
    groups = tuple(groups)
    if text is None or not text.strip():
        return None
    try:
        data = loading.json_loads(text, '', 'JSON')
    except errors.ValidationError as exc:
        LOG.warning('heat-config: %s', errors.first_line(exc))
        return None
    if not isinstance(data, list) or not data:
        return None
    names = set()
    try:
        for item in data:
            if not isinstance(item, dict):
                return None
            if _is_ours(item, groups):
                names.add(document.identity(item))
    except (Suspect, errors.ValidationError) as exc:
        LOG.warning('heat-config: %s; removing nothing',
                    errors.first_line(exc))
        return None
    return names or None


def read_heat_config(path: str) -> Optional[str]:
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        LOG.warning('cannot read %s: %s; removing nothing', path, exc)
        return None


def vanished(state_dir: str, wanted: Set[str]) -> List[str]:
    """Deployments applied on this host and no longer wanted."""
    return [name for name in state.deployments(state_dir)
            if name not in wanted
            and state.DeploymentState(state_dir, name).active]


def run(path: str, conf, report, engine=None, dry_run: bool = False) -> int:
    """Remove the containers of vanished deployments; 0 unless Docker fails.

    Bad input is not a failure: it is logged and nothing is removed.
    """
    from tripleo_docker_hook import deploy
    groups = tuple(getattr(conf, 'hook_groups', None) or DEFAULT_GROUPS)
    wanted = wanted_deployments(read_heat_config(path), groups)
    if wanted is None:
        report.info(f'{path}: missing, empty or not a complete deployment '
                    f'list; nothing removed')
        return 0
    gone = vanished(conf.state_dir, wanted)
    if not gone:
        report.info('no vanished deployments')
        return 0
    for name in gone:
        report.info(f'deployment {name} is no longer in {path}')
    if dry_run:
        return 0
    deploy.delete_many(gone, conf, report, engine,
                       reason='deployment no longer in heat-config')
    return 0
