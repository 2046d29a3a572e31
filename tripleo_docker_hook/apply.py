"""Applying a plan: the side effects, through :class:`engine.Engine`.

(Foundation version: serial create / replace / remove.  The reconcile issue
adds parallel levels, safe replace with rollback and one-shot tasks.)
"""

import logging

from tripleo_docker_hook import plan as planning

LOG = logging.getLogger(__name__)


def execute(plan: planning.Plan, engine, report) -> None:
    for action in plan.removals:
        engine.remove(action.observed.id)
        report.info(str(action))
    for step in plan.steps:
        for level in step:
            for action in level:
                if action.verb == planning.KEEP:
                    report.info(str(action))
                    continue
                if action.verb == planning.REPLACE:
                    engine.remove(action.observed.id)
                labels = planning.labels_for(plan.deployment, plan.config_id,
                                             action.container)
                engine.create(action.container, action.name, labels)
                engine.start(action.name)
                LOG.info('%s', action)
                report.info(str(action))
