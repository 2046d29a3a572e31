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
- an item of our group whose name cannot be determined makes the whole
  file suspect: nothing is removed;
- only deployments this host applied (registered in ``state_dir``) are
  candidates, and only containers labelled ``managed_by`` us and with that
  deployment's name are touched;
- identity is the deployment NAME, never Heat's derived id.
"""

import json
import logging
import os
from typing import Iterable, List, Optional, Set

from tripleo_docker_hook import state

LOG = logging.getLogger(__name__)

DEFAULT_HEAT_CONFIG = '/var/run/heat-config/heat-config'
DEFAULT_GROUPS = ('tripleo-docker-hook',)


def heat_config_path() -> str:
    return os.environ.get('HEAT_SHELL_CONFIG') or DEFAULT_HEAT_CONFIG


def _item_name(item: dict) -> str:
    name = item.get('name')
    if isinstance(name, str) and name:
        return name
    for inp in item.get('inputs') or ():
        if isinstance(inp, dict) and inp.get('name') == \
                'deploy_resource_name' and isinstance(inp.get('value'), str):
            return inp['value']
    return ''


def _is_ours(item: dict, groups: Iterable[str]) -> bool:
    group = item.get('group')
    if group in groups:
        return True
    if group == 'component':
        config = item.get('config')
        configs = config.get('configs') if isinstance(config, dict) else None
        return any(isinstance(c, dict) and c.get('tool') in groups
                   for c in configs or ())
    return False


def wanted_deployments(text: Optional[str], groups: Iterable[str]
                       ) -> Optional[Set[str]]:
    """Names of our deployments in a heat-config file's text.

    None when the text cannot be trusted (then nothing may be removed).
    """
    groups = tuple(groups)
    if text is None or not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list) or not data:
        return None
    names = set()
    for item in data:
        if not isinstance(item, dict):
            return None
        if _is_ours(item, groups):
            name = _item_name(item)
            if not name:
                return None
            names.add(name)
    return names


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
