"""One deployment, end to end: definitions → plan → apply.

The imperative shell around the functional core.  ``hook`` feeds it a
parsed heat-config document; the CLI reuses the same entry points.

Sequence of an apply (see ``docs/source/converge.rst``): validate (no host
access) → take the host lock → list containers once → fail on name clashes
→ render config → resolve the images named → plan → pull what is missing
(still nothing stopped) → plan again with the pulled image IDs (nothing
pulled twice) → apply.  Every decision is :mod:`plan`'s; :mod:`apply`
only executes.
"""

import dataclasses
import logging
from typing import Dict, Iterable, Optional, Tuple

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
from tripleo_docker_hook import unit_plan

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
    return {ref: engine.image_id(ref)
            for ref in planning.image_refs(desired)}


def make_plan(doc, desired: model.Deployment, conf, engine,
              observed: Iterable[model.Observed],
              exec_records=None, pulled: Iterable[str] = (),
              clashes_checked: bool = False) -> planning.Plan:
    images = resolve_images(engine, desired)
    return planning.compute(
        doc.name, doc.id, desired, observed, images, exec_records,
        bool(_opt(conf, 'recreate_on_image_change', True)),
        task_timeout=_opt(conf, 'task_timeout',
                          planning.DEFAULT_TASK_TIMEOUT),
        start_timeout=_opt(conf, 'start_timeout',
                           planning.DEFAULT_START_TIMEOUT),
        pulled=pulled, clashes_checked=clashes_checked)


def stored_definition(rec, conf, masker,
                      observed: Optional[Iterable[model.Observed]] = None
                      ) -> Optional[model.Deployment]:
    """A definition kept in ``state_dir`` with the config hashes it was
    applied with (records written before those were kept: the hashes on
    disk now), or None when it no longer parses.  Its environment values
    join the masker first.

    With ``observed`` (the host's containers), the hashes of the
    containers each one names are folded in too
    (:func:`plan.with_dependency_hashes`), as the apply labelled them:
    without, a namespace dependent's hash never matches its label."""
    if not isinstance(rec, dict):
        return None
    masker.add_environment(definitions.environment_values(rec.get('config')))
    try:
        parsed = definitions.parse(rec.get('config'))
    except errors.ValidationError:
        return None
    if 'config_hashes' in rec:
        hashes = render.stored_hashes(rec.get('config_hashes'), conf)
    else:
        hashes = render.current_hashes(parsed, conf)
    parsed = render.with_config_hashes(parsed, hashes)
    if observed is not None:
        parsed = planning.with_dependency_hashes(parsed, observed,
                                                 errors.ErrorList())
    return parsed


def explained(plan: planning.Plan, st: state.DeploymentState, conf,
              masker, observed: Iterable[model.Observed] = ()
              ) -> planning.Plan:
    """The plan with the changed fields of every "definition changed"
    replace, from the definitions kept in ``state_dir`` (read only then:
    a no-op pays nothing)."""
    if not planning.needs_explaining(plan):
        return plan
    # What the changed containers run: (name, hash label).  Kept records
    # are read likeliest first and only until each is found (each is a
    # whole definition to parse: 3-5 of them cost ~5 ms per 20 containers
    # of a change-one run).  The found ones' environment values join the
    # masker; the others' never reach the report.
    wanted = {(a.name, a.observed.labels.get(model.LABEL_HASH))
              for a in plan.actions
              if a.reason == planning.DEFINITION_CHANGED
              and a.observed is not None}
    previous = []
    observed = list(observed)
    for rec in st.kept():
        parsed = stored_definition(rec, conf, masker, observed)
        if parsed is not None:
            previous += parsed.containers
            wanted -= {(c.name, planning.container_hash(c))
                       for c in parsed.containers}
            if not wanted:
                break
    return planning.explain(plan, previous)


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
    plan = explained(make_plan(doc, desired, conf, engine, observed,
                               st.execs()), st, conf, masker, observed)
    return dataclasses.replace(plan, host_units=_dry_run_units(
        doc, desired, conf, plan))


def _dry_run_units(doc, desired, conf, plan) -> Tuple[str, ...]:
    """The host-unit lines of a dry run: systemd is asked for the units'
    state (read only, as an apply does before any change); when it cannot
    be reached, one line says so (an apply would fail there)."""
    if not any(c.host_services for c in desired.containers):
        return ()
    try:
        survey = host_units.Survey(doc.name, desired, conf)
    except host_units.HostUnitError as exc:
        return (f'host units: {errors.first_line(exc)}; an apply would '
                'fail before changing anything',)
    return tuple(survey.plan().describe())


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
    try:
        _run(doc, desired, conf, report, masker, engine, st, release_units)
    except errors.HookError as exc:
        _result(st, doc, masker, False, errors.first_line(exc))
        raise
    _result(st, doc, masker, True, '')


def _result(st: state.DeploymentState, doc, masker, ok: bool,
            error: str) -> None:
    """What ``show`` tells of the last apply (masked; best effort)."""
    import time
    if not st.exists:
        return
    try:
        st.write(state.RESULT, {'ok': ok, 'config_id': doc.id,
                                'time': int(time.time()),
                                'error': masker.mask(error)})
    except OSError as exc:
        LOG.warning('cannot record the result in %s: %s', st.path, exc)


def _run(doc, desired, conf, report, masker, engine, st,
         release_units: bool) -> None:
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
        rec['config_hashes'] = dict(hashes)
        # New config is published, but proven only by a successful apply:
        # on failure the previous one is published again (containers bind
        # the generation they were created with either way).
        try:
            _converge(doc, desired, hashes, conf, engine, report, observed,
                      st, survey, masker)
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
              st, survey, masker) -> None:
    desired = render.with_config_hashes(desired, hashes)
    # Rendering is over: a bind below the config directories that it did
    # not create (no puppet_config renders it) fails now, not at its step.
    missing = hostpath.missing_sources(desired, _opt(conf, 'host_root', '/'),
                                       rendering_done=True)
    if missing:
        raise errors.ValidationError(missing)
    execs = st.execs()
    # check_clashes ran on this ``observed`` before rendering.
    plan = make_plan(doc, desired, conf, engine, observed, execs,
                     clashes_checked=True)
    if plan.pulls:
        for ref in plan.pulls:
            report.info(f'pulling {ref}')
        applying.pull(plan.pulls, engine, conf)
        # The pulled image IDs are new facts (an image that moved
        # recreates its containers): plan again, pulling nothing twice.
        plan = make_plan(doc, desired, conf, engine, observed, execs,
                         pulled=plan.pulls, clashes_checked=True)
    plan = explained(plan, st, conf, masker, observed)
    units = survey.plan()
    plan = dataclasses.replace(plan, host_units=tuple(units.describe()))
    _report_plan(plan, report)
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
        plan = planning.delete_many(names, config_id,
                                    engine.list_containers(), reason)
        _report_plan(plan, report)
        applying.execute(plan, engine, report, conf)
        for name in names:
            state.DeploymentState(conf.state_dir, name).deleted()
            # Never restarts a host service (unit_plan.on_delete).
            released = host_units.Records(conf.state_dir).release(name)
            for unit, rec in released.items():
                report.info(unit_plan.on_delete_line(unit, rec))
    return plan


def rollback_target(name: str, conf, generation: Optional[int] = None
                    ) -> Dict:
    """The kept definition ``rollback`` would apply
    (:func:`state.rollback_choice` on what ``state_dir`` keeps); raises
    :class:`errors.DeploymentFailed` saying why there is none."""
    kept = state.DeploymentState(conf.state_dir, name).read_kept()
    held = host_units.replaced_units(conf.state_dir, name, released=False)
    return state.rollback_choice(name, kept, generation, held)


def rollback(name: str, conf, report, masker, engine=None,
             generation: Optional[int] = None) -> None:
    """Apply the previous definition kept in ``state_dir``, or the stored
    generation ``generation`` (numbers as ``show`` lists them).

    Says which of its images are no longer present on the host before
    anything happens (the apply then tries to pull them and fails with
    nothing changed when it cannot).
    """
    from tripleo_docker_hook import document
    target = rollback_target(name, conf, generation)
    parsed = stored_definition(target, conf, masker) if target.get(
        'config') else None
    if parsed is not None and parsed.containers:
        engine = engine or engine_mod.Engine.from_conf(conf)
        missing = [ref for ref, image in
                   resolve_images(engine, parsed).items() if image is None]
        if missing:
            report.info(f'image(s) of that definition no longer present '
                        f'on this host: {", ".join(missing)}; the apply '
                        f'pulls them or fails with nothing changed')
    doc = document.parse({
        'id': target.get('id') or 'rollback', 'name': name,
        'group': target.get('group') or '', 'config': target.get('config'),
        'inputs': [{'name': 'deploy_action', 'value': 'UPDATE'}]})
    which = f'generation {generation}' if generation is not None else \
        'the previous definition'
    report.info(f'rolling back deployment {name} to {which} (config '
                f'{target.get("id")})')
    run(doc, conf, report, masker, engine, release_units=True)
