"""One deployment, end to end: definitions → plan → apply.

The imperative shell around the functional core.  ``hook`` feeds it a
parsed heat-config document; the CLI reuses the same entry points.

Sequence of an apply (see ``docs/source/converge.rst``): validate (no host
access) → take the host lock → list containers once → fail on name clashes
→ render config → resolve the images named → plan → pull what is missing
(still nothing stopped) → re-plan with the pulled image IDs → apply.
"""

import logging
from typing import Dict, Iterable, Optional

from tripleo_docker_hook import definitions
from tripleo_docker_hook import engine as engine_mod
from tripleo_docker_hook import errors
from tripleo_docker_hook import host_units
from tripleo_docker_hook import model
from tripleo_docker_hook import plan as planning
from tripleo_docker_hook import hostpath
from tripleo_docker_hook import render
from tripleo_docker_hook import render_cache
from tripleo_docker_hook import apply as applying
from tripleo_docker_hook import state

LOG = logging.getLogger(__name__)


def _opt(conf, name, default):
    return getattr(conf, name, default) if conf is not None else default


def parse(doc, masker, conf=None) -> model.Deployment:
    """Validate the document's config and check its hostPath types.

    Only reads the host: a deployment with any error changes nothing.
    """
    # Mask environment values first, so even error messages hide them.
    host_root = _opt(conf, 'host_root', '/')
    masker.add_environment(definitions.environment_values(doc.config,
                                                          host_root))
    return hostpath.checked(
        definitions.parse(doc.config, host_root), host_root,
        rendered=(_opt(conf, 'config_data_dir', ''),
                  _opt(conf, 'kolla_config_dir', '')))


def resolve_images(engine, desired: model.Deployment
                   ) -> Dict[str, Optional[str]]:
    """Local image ID of every image the deployment names: one cheap
    inspect per distinct reference, no container inspects."""
    refs = sorted({c.image for c in desired.containers
                   if c.kind is not model.Kind.EXEC and c.image})
    return {ref: engine.image_id(ref) for ref in refs}


def make_plan(doc, desired: model.Deployment, conf, engine,
              observed: Iterable[model.Observed],
              exec_records=None) -> planning.Plan:
    images = resolve_images(engine, desired)
    return planning.compute(
        doc.name, doc.id, desired, observed, images, exec_records,
        bool(_opt(conf, 'recreate_on_image_change', True)))


def dry_run(doc, conf, report, masker, engine=None) -> planning.Plan:
    """The plan, without rendering, pulling or changing anything."""
    engine = engine or engine_mod.Engine.from_conf(conf)
    observed = engine.list_containers()
    if doc.action == 'DELETE':
        return planning.delete(doc.name, doc.id, observed)
    desired = parse(doc, masker, conf)
    hashes = render.current_hashes(desired, conf)
    desired = render.with_config_hashes(desired, hashes)
    st = state.DeploymentState(conf.state_dir, doc.name)
    return make_plan(doc, desired, conf, engine, observed, st.execs())


def _report_plan(plan: planning.Plan, report) -> None:
    report.info(plan.summary())
    for line in plan.describe():
        report.info(f'  {line}')


def run(doc, conf, report, masker, engine=None,
        release_units: bool = False) -> None:
    """Converge the host to ``doc``; raises :class:`errors.HookError`.

    ``release_units`` (``ctl rollback``): give back the host units this
    deployment replaced and ``doc`` no longer claims.
    """
    if doc.action == 'DELETE':
        delete(doc.name, doc.id, conf, report, engine)
        return
    # Parse and validate everything before touching the host.
    try:
        desired = parse(doc, masker, conf)
    except errors.ValidationError as exc:
        escaped = hostpath.escaping(exc.errors)
        if escaped:
            _quarantine(doc, escaped, conf, report, engine)
        raise
    engine = engine or engine_mod.Engine.from_conf(conf)
    st = state.DeploymentState(conf.state_dir, doc.name)
    with state.host_lock(conf.state_dir, conf.lock_timeout):
        left = state.clear_leftovers(conf.state_dir)
        if left:
            LOG.warning('removed leftovers of an interrupted run: %s',
                        ', '.join(left))
        observed = engine.list_containers()
        planning.check_clashes(doc.name, desired, observed)
        # Host units: claims checked and states read before any change.
        survey = host_units.Survey(doc.name, desired, conf, release_units)
        rec = state.record(doc)
        st.attempt(rec)
        hashes = render.render_all(
            desired, conf, engine, report, masker,
            force=render_cache.force_requested(doc.inputs))
        # New config is published, but proven only by a successful apply:
        # on failure the previous one is published again (containers bind
        # the generation they were created with either way).
        try:
            _converge(doc, desired, hashes, conf, engine, report, observed,
                      st, survey)
        except BaseException:
            render.undo(hashes, report)
            raise
        finally:
            render.finish(hashes, conf, engine)
        st.succeeded(rec)


def _quarantine(doc, names, conf, report, engine=None) -> None:
    """The one change an invalid deployment makes: containers whose
    subPath now leads outside its volume are removed, so no restart binds
    host files (see :func:`plan.quarantine`)."""
    engine = engine or engine_mod.Engine.from_conf(conf)
    with state.host_lock(conf.state_dir, conf.lock_timeout):
        plan = planning.quarantine(doc.name, doc.id, names,
                                   engine.list_containers())
        if plan.removals:
            _report_plan(plan, report)
            applying.execute(plan, engine, report, conf)


def _converge(doc, desired, hashes, conf, engine, report, observed,
              st, survey) -> None:
    desired = render.with_config_hashes(desired, hashes)
    execs = st.execs()
    plan = make_plan(doc, desired, conf, engine, observed, execs)
    if plan.pulls:
        for ref in plan.pulls:
            report.info(f'pulling {ref}')
        applying.pull(plan.pulls, engine, conf)
        plan = make_plan(doc, desired, conf, engine, observed, execs)
        plan = planning.Plan(plan.deployment, plan.config_id, (),
                             plan.leftovers, plan.removals, plan.steps)
    units = survey.plan(plan)
    _report_plan(plan, report)
    for line in units.describe():
        report.info(f'  {line}')
    # A no-op logs at DEBUG: then the run writes nothing to the operator
    # log and never loads oslo.log (hook.DeferredOsloLog).
    LOG.log(logging.INFO if plan.changes or plan.pulls or units.changes
            else logging.DEBUG,
            'deployment %s (%s, config %s): %s', doc.name, doc.action,
            doc.id, plan.summary())
    try:
        applying.execute(plan, engine, report, conf, execs,
                         units=survey.executor(units, engine, report))
    finally:
        st.save_execs(execs)


def delete(name: str, config_id: str, conf, report, engine=None
           ) -> planning.Plan:
    """Stop (in parallel, each with its own stop timeout) and remove every
    container of deployment ``name``; keep its definition for rollback."""
    return delete_many([name], conf, report, engine, config_id=config_id)


def delete_many(names, conf, report, engine=None, config_id: str = '',
                reason: str = 'DELETE') -> planning.Plan:
    engine = engine or engine_mod.Engine.from_conf(conf)
    with state.host_lock(conf.state_dir, conf.lock_timeout):
        observed = engine.list_containers()
        removals = []
        for name in names:
            removals += [planning.Action(a.verb, a.name, observed=a.observed,
                                         reason=reason)
                         for a in planning.delete(name, config_id,
                                                  observed).removals]
        plan = planning.Plan(','.join(names), config_id,
                             removals=tuple(removals))
        _report_plan(plan, report)
        applying.execute(plan, engine, report, conf)
        for name in names:
            state.DeploymentState(conf.state_dir, name).deleted()
    return plan


def rollback(name: str, conf, report, masker, engine=None) -> None:
    """Apply the previous definition kept in ``state_dir``, and give back
    the host units this deployment replaced that it does not claim.

    A deployment whose first definition replaced host units (the upgrade
    of a baremetal node) rolls back to nothing: its containers go and the
    units run again.
    """
    from tripleo_docker_hook import document
    st = state.DeploymentState(conf.state_dir, name)
    target = st.rollback_target()
    if target is None and host_units.replaced_units(
            conf.state_dir, name, released=False):
        target = {'id': 'baremetal', 'group': '', 'config': {}}
    if target is None:
        raise errors.DeploymentFailed(
            f'deployment {name}: no previous definition in '
            f'{st.path} to roll back to')
    doc = document.parse({
        'id': target.get('id') or 'rollback', 'name': name,
        'group': target.get('group') or '', 'config': target.get('config'),
        'inputs': [{'name': 'deploy_action', 'value': 'UPDATE'}]})
    report.info(f'rolling back deployment {name} to config '
                f'{target.get("id")}')
    run(doc, conf, report, masker, engine, release_units=True)
