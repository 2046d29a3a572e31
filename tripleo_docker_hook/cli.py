"""``tripleo-docker-hook-ctl``: the operator's command line.

The same code paths as the hook, driven by hand: check a definition file
offline, export it as Kubernetes Pods, show the plan without acting, apply
or delete a deployment document, list what is deployed, roll back to the
previous definition.
"""

import argparse
import sys
from typing import List, Optional, Tuple

from tripleo_docker_hook import errors


def _read(path: str) -> str:
    if path == '-':
        return sys.stdin.read()
    with open(path, encoding='utf-8') as f:
        return f.read()


def _config_of(text: str):
    """A definition file holds a bare config or a whole heat-config item."""
    import yaml
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # let the parser report it with a field path
    if isinstance(data, dict) and 'config' in data and 'group' in data:
        return data['config']
    return text


def _configs_of(path: str) -> List[Tuple[str, object]]:
    """``(label, config)`` for a definition file: a bare config, a
    heat-config item, or a list of heat-config items (each checked)."""
    import yaml
    text = _read(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return [(path, text)]  # let the parser report it with a field path
    if isinstance(data, list) and data and all(
            isinstance(i, dict) and 'config' in i and 'group' in i
            for i in data):
        return [(f'{path}[{i}] ({item.get("name", "")})', item['config'])
                for i, item in enumerate(data)]
    return [(path, _config_of(text))]


def cmd_validate(args) -> int:
    from tripleo_docker_hook import definitions
    from tripleo_docker_hook import hostpath
    status = 0
    host_root = _conf().host_root if args.host else '/'
    for path in args.files:
        for label, config in _configs_of(path):
            try:
                deployment = definitions.parse(config)
                if args.host:
                    hostpath.checked(deployment, host_root)
            except errors.ValidationError as exc:
                status = 2
                for err in exc.errors:
                    print(f'{label}: {err}')
                continue
            print(f'{label}: OK ({len(deployment.containers)} containers '
                  f'in {len(deployment.steps)} steps)')
    return status


def cmd_export(args) -> int:
    from tripleo_docker_hook import definitions
    from tripleo_docker_hook import export
    out = []
    for label, config in _configs_of(args.file):
        try:
            out.append(export.dumps(definitions.parse(config)))
        except errors.ValidationError as exc:
            for err in exc.errors:
                print(f'{label}: {err}', file=sys.stderr)
            return 2
    sys.stdout.write('---\n'.join(out))
    return 0


# -- converge commands (plan / apply / delete / status / rollback / cleanup)
def _conf():
    from tripleo_docker_hook import opts
    import logging
    logging.basicConfig(level=logging.WARNING,
                        format='%(levelname)s %(name)s: %(message)s')
    return opts.load([])


def _document(path: str, name: Optional[str] = None):
    """A heat-config item (JSON/YAML), or a bare config with ``--name``."""
    import yaml
    from tripleo_docker_hook import document
    text = _read(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise errors.ValidationError([errors.FieldError(
            '', 'Invalid value', detail=f'{path}: not YAML/JSON: '
            f'{errors.first_line(exc)}')]) from None
    if not (isinstance(data, dict) and 'config' in data and 'id' in data):
        if not name:
            raise errors.ValidationError([errors.FieldError(
                'name', 'Required value', detail=f'{path} holds a bare '
                'config: give the deployment name with --name')])
        data = {'id': 'manual', 'name': name, 'config': data}
    elif name:
        data = dict(data, name=name)
    return document.parse(data)


def _print_report(report) -> int:
    answer = report.answer()
    if answer['deploy_stdout']:
        sys.stdout.write(answer['deploy_stdout'])
    if answer['deploy_stderr']:
        sys.stderr.write(answer['deploy_stderr'])
    return report.status


def _new_report():
    """A report and its masker; the log on stderr is masked by it too."""
    import logging
    from tripleo_docker_hook.masking import Masker, MaskingFilter
    from tripleo_docker_hook.report import Report
    masker = Masker()
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter(masker))
    return masker, Report(masker, max_bytes=1 << 30)


def cmd_plan(args) -> int:
    import json
    from tripleo_docker_hook import deploy
    conf = _conf()
    doc = _document(args.file, args.name)
    masker, report = _new_report()
    masker.add(doc.secrets)
    plan = deploy.dry_run(doc, conf, report, masker)
    if args.json:
        print(masker.mask(json.dumps(plan.to_data(), indent=2,
                                     sort_keys=True)))
    else:
        print(masker.mask(plan.summary()))
        for line in plan.describe():
            print(masker.mask(f'  {line}'))
    return 0


def _reported(action) -> int:
    """Run ``action(conf, report, masker)``; print its masked account."""
    conf = _conf()
    masker, report = _new_report()
    try:
        action(conf, report, masker)
    except errors.HookError as exc:
        report.fail_with(exc)
    return _print_report(report)


def cmd_apply(args) -> int:
    from tripleo_docker_hook import deploy
    doc = _document(args.file, args.name)
    if getattr(args, 'force_render', False):
        import dataclasses
        doc = dataclasses.replace(doc, inputs=dict(doc.inputs,
                                                   force_render=True))

    def apply(conf, report, masker):
        masker.add(doc.secrets)
        deploy.run(doc, conf, report, masker)
    return _reported(apply)


def cmd_delete(args) -> int:
    from tripleo_docker_hook import deploy
    return _reported(lambda conf, report, masker: deploy.delete(
        args.name, 'manual', conf, report))


def cmd_rollback(args) -> int:
    from tripleo_docker_hook import deploy
    return _reported(lambda conf, report, masker: deploy.rollback(
        args.name, conf, report, masker))


def cmd_cleanup(args) -> int:
    from tripleo_docker_hook import cleanup
    path = args.heat_config or cleanup.heat_config_path()
    return _reported(lambda conf, report, masker: cleanup.run(
        path, conf, report, dry_run=args.dry_run))


def cmd_status(args) -> int:
    import json
    from tripleo_docker_hook import engine as engine_mod
    from tripleo_docker_hook import host_units
    from tripleo_docker_hook import model
    from tripleo_docker_hook import state
    conf = _conf()
    observed = [o for o in engine_mod.Engine.from_conf(conf).list_containers()
                if o.managed]
    names = set(state.deployments(conf.state_dir)) | {
        o.deployment for o in observed}
    if args.names:
        names &= set(args.names)
    result = []
    for name in sorted(names):
        st = state.DeploymentState(conf.state_dir, name)
        current = st.read(state.CURRENT) or {}
        result.append({
            'deployment': name,
            'config_id': current.get('id', ''),
            'last_apply_failed': st.read(state.ATTEMPTED) is not None,
            'can_roll_back': st.rollback_target() is not None,
            'known_to_state': st.exists,
            'containers': [{
                'name': o.name, 'state': o.state, 'health': o.health,
                'kind': o.labels.get(model.LABEL_KIND, ''),
                'exit_code': o.exit_code, 'id': o.id[:12]}
                for o in sorted(observed, key=lambda o: o.name)
                if o.deployment == name],
            'execs': st.execs(),
            'host_units': host_units.replaced_units(conf.state_dir, name),
        })
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    for d in result:
        flags = []
        if d['last_apply_failed']:
            flags.append('last apply FAILED')
        if not d['known_to_state']:
            flags.append('not in state_dir')
        print(f"{d['deployment'] or '(no deployment: config rendering)'}"
              f" (config {d['config_id'] or '-'})"
              + (f" [{', '.join(flags)}]" if flags else ''))
        for c in d['containers']:
            extra = f" {c['health']}" if c['health'] else ''
            code = '' if c['exit_code'] is None else f" ({c['exit_code']})"
            print(f"  {c['name']:40} {c['kind']:8} {c['state']}{code}"
                  f"{extra}")
        for name, rec in sorted(d['execs'].items()):
            print(f"  {name:40} exec     "
                  f"{'ok' if rec.get('ok') else 'failed'} "
                  f"({rec.get('exit_code')})")
        for u in d['host_units']:
            print(f"  host unit {u['unit']} replaced by {u['container']}"
                  f"{' (container removed)' if u.get('released') else ''}"
                  f"; was {u['previous'].get('file_state') or '-'}, "
                  f"{u['previous'].get('active_state') or '-'}")
    return 0


def _add_converge_commands(sub) -> None:
    p = sub.add_parser('plan', help='show what apply would do (dry run)')
    p.add_argument('file', metavar='DOC', help='heat-config item (JSON or '
                   'YAML), or a bare config with --name; - for stdin')
    p.add_argument('--name', help='deployment name (overrides the item\'s)')
    p.add_argument('--json', action='store_true', help='plan as JSON')
    p.set_defaults(func=cmd_plan)
    p = sub.add_parser('apply', help='converge the host to a deployment')
    p.add_argument('file', metavar='DOC', help='as for plan')
    p.add_argument('--name', help='deployment name (overrides the item\'s)')
    p.add_argument('--force-render', action='store_true',
                   help='render every config volume even when its inputs '
                        'are unchanged (the force_render input)')
    p.set_defaults(func=cmd_apply)
    p = sub.add_parser('delete', help='remove a deployment\'s containers')
    p.add_argument('name', help='deployment name')
    p.set_defaults(func=cmd_delete)
    for cmd in ('status', 'list'):
        p = sub.add_parser(cmd, help='deployments and their containers')
        p.add_argument('names', nargs='*', metavar='NAME')
        p.add_argument('--json', action='store_true')
        p.set_defaults(func=cmd_status)
    p = sub.add_parser('rollback', help='apply the previous definition of '
                       'a deployment (the last good one after a failure)')
    p.add_argument('name', help='deployment name')
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser('cleanup', help='remove deployments that are no '
                       'longer in the heat-config file')
    p.add_argument('--heat-config', help='default: $HEAT_SHELL_CONFIG or '
                   '/var/run/heat-config/heat-config')
    p.add_argument('--dry-run', action='store_true')
    p.set_defaults(func=cmd_cleanup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='tripleo-docker-hook-ctl',
        description='Operate tripleo-docker-hook deployments by hand.')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('validate', help='check definition files offline')
    p.add_argument('files', nargs='+', metavar='FILE',
                   help='docker_config / Pod YAML or JSON, or a heat-config '
                        'item; - for stdin')
    p.add_argument('--host', action='store_true',
                   help='also check hostPath types on this host (read-only)')
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser('export', help='write a definition as Kubernetes v1 '
                       'Pod YAML (multi-document)')
    p.add_argument('file', metavar='FILE', help='as for validate')
    p.set_defaults(func=cmd_export)
    _add_converge_commands(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except errors.HookError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return exc.status


if __name__ == '__main__':
    sys.exit(main())
