"""Config rendering: puppet into ``config_data_dir``, Kolla config.json files.

Runs after validation and before planning.  Its result feeds change
detection: :func:`with_config_hashes` folds the hash of every config volume
(and Kolla file) a container mounts into that container's definition
(``TRIPLEO_CONFIG_HASH`` and ``source_hash``), so a config change restarts
exactly the containers that use it.
"""

from typing import Dict

from tripleo_docker_hook import model


def render_all(desired: model.Deployment, conf, engine, report,
               masker) -> Dict[str, str]:
    """Render every config volume and Kolla file; host path → hash."""
    if desired.puppet_config or desired.kolla_config:
        raise NotImplementedError('config rendering')
    return {}


def current_hashes(desired: model.Deployment, conf) -> Dict[str, str]:
    """Hashes of what is on disk now, without rendering (for dry runs)."""
    return {}


def with_config_hashes(desired: model.Deployment,
                       hashes: Dict[str, str]) -> model.Deployment:
    """The model with each container's config hash folded in."""
    return desired
