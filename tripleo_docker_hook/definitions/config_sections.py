"""``puppet_config`` and ``kolla_config`` sections of a deployment.

Parsed and validated here, beside the container definitions, so that a bad
section fails the deployment before any change on the host; rendered by
:mod:`tripleo_docker_hook.render` and :mod:`tripleo_docker_hook.kolla`.
"""

from typing import Any, Tuple

from tripleo_docker_hook import errors
from tripleo_docker_hook import model


def parse_puppet_config(data: Any, path: str, errs: errors.ErrorList
                        ) -> Tuple[model.PuppetConfig, ...]:
    """A list of puppet_config entries; entries sharing a volume merge."""
    if data in (None, [], {}):
        return ()
    errs.forbidden(path, 'puppet_config is not supported yet')
    return ()


def parse_kolla_config(data: Any, path: str, errs: errors.ErrorList
                       ) -> Tuple[model.KollaConfig, ...]:
    """A mapping of host path → Kolla config.json body."""
    if data in (None, [], {}):
        return ()
    errs.forbidden(path, 'kolla_config is not supported yet')
    return ()
