"""One deployment, end to end: definitions → plan → apply.

The imperative shell around the functional core.  ``hook`` feeds it a
parsed heat-config document; the CLI reuses the same entry points.
"""

import logging

from tripleo_docker_hook import definitions
from tripleo_docker_hook import engine as engine_mod
from tripleo_docker_hook import plan as planning
from tripleo_docker_hook import render
from tripleo_docker_hook import apply as applying

LOG = logging.getLogger(__name__)


def run(doc, conf, report, masker, engine=None) -> None:
    """Converge the host to ``doc``; raises :class:`errors.HookError`."""
    if doc.action == 'DELETE':
        engine = engine or engine_mod.Engine.from_conf(conf)
        plan = planning.delete(doc.name, doc.id, engine.list_containers())
    else:
        # Parse and validate everything before touching the host; mask
        # environment values first, so even error messages hide them.
        masker.add_environment(definitions.environment_values(doc.config))
        desired = definitions.parse(doc.config)
        engine = engine or engine_mod.Engine.from_conf(conf)
        hashes = render.render_all(desired, conf, engine, report, masker)
        desired = render.with_config_hashes(desired, hashes)
        plan = planning.compute(doc.name, doc.id, desired,
                                engine.list_containers())
    LOG.info('deployment %s (%s, config %s): %d actions', doc.name,
             doc.action, doc.id, len(plan.actions))
    applying.execute(plan, engine, report)
