"""``tripleo-docker-hook-ctl``: the operator's command line (cliff).

The same code paths as the hook, driven by hand, with the conventions of
OpenStack's clients (``-f table|json|yaml|value|csv``, ``-c COLUMN`` on
every listing command).  This module only parses arguments and formats:
the data comes from the core (:mod:`deploy`, :mod:`plan`,
:mod:`inventory`, :mod:`check`, :mod:`docker_spec`, :mod:`export`).

Errors: one line on stderr starting with ``error:`` (every field error
of an invalid definition on its own line) and a non-zero exit status, the
same numbers as ``deploy_status_code`` (2 invalid input, 3 lock timeout,
1 anything else); ``check`` exits with the Nagios codes (:mod:`check`).
"""

import argparse
import dataclasses
import os
import sys
import threading
import time
from typing import List, Optional, Tuple

from cliff import app as cliff_app
from cliff import columns as cliff_columns
from cliff import command
from cliff import commandmanager
from cliff import lister
from cliff import show

from tripleo_docker_hook import errors

NAMESPACE = 'tripleo_docker_hook.ctl'


# -- shared helpers -----------------------------------------------------------
def _configs_of(path: str) -> List[Tuple[str, object]]:
    """``(label, config)`` for a definition file: a bare config, a
    heat-config item, or a list of heat-config items (each checked).

    Loaded like the hook loads its input (bounded: no alias bombs, no
    duplicate keys), through :mod:`offline`.
    """
    from tripleo_docker_hook import offline
    return [(label, config) for label, config, _secrets in
            offline.items_of(offline.read(path), path)]


def _conf():
    from tripleo_docker_hook import opts
    return opts.load([])


def _engine(conf):
    from tripleo_docker_hook import engine as engine_mod
    return engine_mod.Engine.from_conf(conf)


def _document(path: str, name: Optional[str] = None):
    """A heat-config item (JSON/YAML), or a bare config with ``--name``,
    loaded as the hook loads its input (bounded, duplicate keys refused)."""
    from tripleo_docker_hook import document
    from tripleo_docker_hook import offline
    return document.parse(offline.document_data(path, name))


def _masker():
    """A masker for this run; the log on stderr is masked by it too."""
    import logging
    from tripleo_docker_hook.masking import Masker, MaskingFilter
    masker = Masker()
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter(masker))
    return masker


class _Progress:
    """Report lines as they happen, on a terminal only.

    On a TTY every line of the account is printed when it is recorded,
    with the time since the start, and a ticker shows that a long step
    (a stop timeout, a health check) is still being waited for; when
    piped nothing is printed until the end, so scripts get exactly the
    account (``deploy_stdout``) and nothing else.
    """

    def __init__(self, report, stream):
        self.report = report
        self.stream = stream
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.shown = 0
        self.ticking = False
        self.thread = threading.Thread(target=self._tick, daemon=True)
        report.listener = self._show

    def _elapsed(self) -> str:
        return f'[{time.monotonic() - self.start:6.1f}s]'

    def _clear(self) -> None:
        if self.ticking:
            self.stream.write('\r\033[K')
            self.ticking = False

    def _show(self) -> None:
        with self.lock:
            self._clear()
            for line in self.report.stdout[self.shown:]:
                self.stream.write(
                    f'{self._elapsed()} {self.report.masker.mask(line)}\n')
            self.shown = len(self.report.stdout)
            self.stream.flush()

    def _tick(self) -> None:
        while not self.done.wait(0.5):
            with self.lock:
                self.stream.write(f'\r\033[K{self._elapsed()} working...')
                self.stream.flush()
                self.ticking = True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self._show()


def _reported(app, action) -> int:
    """Run ``action(conf, report, masker)`` and print its masked account:
    ``deploy_stdout`` on stdout, ``deploy_stderr`` on stderr."""
    from tripleo_docker_hook.report import Report

    class LiveReport(Report):
        """Tells a listener about every line of the account."""

        listener = None

        def info(self, line: str) -> None:
            super().info(line)
            if self.listener is not None:
                self.listener()

    conf = _conf()
    masker = _masker()
    report = LiveReport(masker, max_bytes=1 << 30)
    live = app.stdout.isatty()
    progress = _Progress(report, app.stdout) if live else None
    try:
        if progress:
            with progress:
                action(conf, report, masker)
        else:
            action(conf, report, masker)
    except errors.HookError as exc:
        report.fail_with(exc)
    answer = report.answer()
    if answer['deploy_stdout'] and not live:
        app.stdout.write(answer['deploy_stdout'])
    if answer['deploy_stderr']:
        app.stderr.write(answer['deploy_stderr'])
    return report.status


class _Errors:
    """One clear line and the hook's status on any :class:`HookError`."""

    def run(self, parsed_args):
        return self._guarded(lambda: super(_Errors, self).run(parsed_args))

    #: set by a command that knows secrets (plan): errors are masked too
    masker = None

    def _say(self, text: str) -> None:
        if self.masker is not None:
            text = self.masker.mask(text)
        self.app.stderr.write(text + '\n')

    def _guarded(self, func):
        try:
            return func()
        except errors.ValidationError as exc:
            if len(exc.errors) == 1:
                self._say(f'error: {exc.errors[0]}')
            else:  # every field, so that one round fixes them all
                self._say(f'error: {len(exc.errors)} invalid fields:')
                for err in exc.errors:
                    self._say(f'  {err}')
            return exc.status
        except errors.HookError as exc:
            self._say(f'error: {exc}')
            return exc.status or 1


class Command(_Errors, command.Command):
    pass


class Lister(_Errors, lister.Lister):
    pass


class ShowOne(_Errors, show.ShowOne):
    pass


# -- definitions, offline -----------------------------------------------------
class Validate(Command):
    """Check definition files offline (every error at once)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('files', nargs='+', metavar='FILE',
                            help='docker_config / Pod YAML or JSON, or a '
                            'heat-config item (or a list of them); - for '
                            'stdin')
        parser.add_argument('--host', action='store_true',
                            help='also check hostPath types on this host '
                            '(read-only)')
        return parser

    def take_action(self, args):
        from tripleo_docker_hook import offline
        host_root = _conf().host_root if args.host else None
        return offline.validate_files(
            args.files, host_root,
            out=lambda line: self.app.stdout.write(line + '\n'))


class Export(Command):
    """Write a definition as Kubernetes v1 Pods or Quadlet units."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('source', metavar='FILE|DEPLOYMENT',
                            help='a definition file (as for validate), or '
                            'the name of a deployment applied here')
        parser.add_argument('--format', choices=('kubernetes', 'quadlet'),
                            default='kubernetes',
                            help='kubernetes: v1 Pod YAML (multi-document, '
                            'the default); quadlet: podman systemd units')
        parser.add_argument('--output-dir', metavar='DIR',
                            help='quadlet: write the unit files into DIR '
                            '(default: all on stdout, each after a '
                            '"# FileName=" line)')
        parser.add_argument('--show-secrets', action='store_true',
                            help='DEPLOYMENT: print the values of '
                            'secret-looking environment variables (root '
                            'only; masked otherwise)')
        return parser

    def _configs(self, source):
        self.from_state = False
        if source == '-' or os.path.exists(source):
            return _configs_of(source)
        self.from_state = True
        from tripleo_docker_hook import state
        from tripleo_docker_hook.inventory import UnknownName
        conf = _conf()
        rec = state.DeploymentState(conf.state_dir, source).read(
            state.CURRENT)
        if rec is None:
            raise UnknownName(f'{source}: no such file, and no deployment '
                              f'of that name is applied here')
        return [(source, rec.get('config'))]

    def take_action(self, args):
        from tripleo_docker_hook import definitions
        from tripleo_docker_hook import export
        from tripleo_docker_hook import quadlet
        _may_show_secrets(args.show_secrets)
        from tripleo_docker_hook import masking
        models = []
        configs = self._configs(args.source)
        # A definition file is the operator's own; what the hook keeps is
        # printed like print-cmd does: secrets masked.
        mask = self.from_state and not args.show_secrets
        out = self.app.stdout
        for label, config in configs:
            try:
                models.append(definitions.parse(config))
            except errors.ValidationError as exc:
                for err in exc.errors:
                    self.app.stderr.write(f'{label}: {err}\n')
                return 2
        if mask:
            models = [masking.masked_deployment(m) for m in models]
        if args.format == 'kubernetes':
            out.write('---\n'.join(export.dumps(m) for m in models))
            return 0
        units, notes = {}, []
        for m in models:
            result = quadlet.units(m)
            units.update(result.files)
            notes += result.notes
        for note in notes:
            self.app.stderr.write(f'not expressible in Quadlet: {note}\n')
        if args.output_dir:
            os.makedirs(args.output_dir, exist_ok=True)
            for name, text in sorted(units.items()):
                with open(os.path.join(args.output_dir, name), 'w',
                          encoding='utf-8') as f:
                    f.write(text)
                self.app.stdout.write(
                    os.path.join(args.output_dir, name) + '\n')
        else:
            out.write(quadlet.dumps(units))
        return 0



# -- converge -----------------------------------------------------------------
def _document_arguments(parser) -> None:
    """DOC and --name of plan and apply (``args.file``, ``args.name``)."""
    parser.add_argument('file', metavar='DOC', help='heat-config item '
                        '(JSON or YAML), or a bare config with --name; '
                        '- for stdin')
    parser.add_argument('--name', help='deployment name (overrides the '
                        'item\'s)')


class Plan(Lister):
    """Show what apply would do, with the fields that changed.

    A dry run.  Without -f: the plan as the hook reports it in
    deploy_stdout.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.set_defaults(formatter=None)
        _document_arguments(parser)
        parser.add_argument('--json', action='store_true',
                            help='the whole plan as one JSON document')
        return parser

    def _plan(self, args):
        from tripleo_docker_hook import deploy
        from tripleo_docker_hook.report import Report
        conf = _conf()
        doc = _document(args.file, args.name)
        masker = self.masker = _masker()
        masker.add(doc.secrets)
        plan = deploy.dry_run(doc, conf, Report(masker), masker)
        return plan, masker

    def run(self, args):
        if args.formatter is not None:
            return super().run(args)
        # the hook's text, or --json
        return self._guarded(lambda: self.take_action(args))

    def take_action(self, args):
        import json
        plan, masker = self._plan(args)
        if args.formatter is None:
            if args.json:
                text = json.dumps(plan.to_data(), indent=2, sort_keys=True,
                                  ensure_ascii=False)
            else:
                text = '\n'.join([plan.summary()] + [
                    f'  {line}' for line in plan.describe()])
            self.app.stdout.write(masker.mask(text) + '\n')
            return 0
        rows = []
        for a in plan.leftovers + plan.removals:
            rows.append(('', '', a.verb, a.name, a.reason, ''))
        for step in plan.steps:
            for order, group in step.by_start_order():
                for a in group:
                    rows.append((step.number, order, a.verb, a.name, a.reason,
                                 '\n'.join(a.details)))
        for a in plan.retirements:
            rows.append(('', '', a.verb, a.name, a.reason, ''))
        for line in plan.host_units:
            rows.append(('', '', 'host unit', '', line, ''))
        rows = [tuple(masker.mask(v) if isinstance(v, str) else v
                      for v in row) for row in rows]
        return (('step', 'start_order', 'action', 'container', 'reason',
                 'changes'), rows)


class Apply(Command):
    """Converge the host to a deployment document now."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _document_arguments(parser)
        parser.add_argument('--force-render', action='store_true',
                            help='render every config volume even when its '
                            'inputs are unchanged (the force_render input)')
        return parser

    def take_action(self, args):
        import dataclasses
        from tripleo_docker_hook import deploy
        doc = _document(args.file, args.name)
        if args.force_render:
            doc = dataclasses.replace(doc, inputs=dict(doc.inputs,
                                                       force_render=True))

        def apply(conf, report, masker):
            masker.add(doc.secrets)
            deploy.run(doc, conf, report, masker)
        return _reported(self.app, apply)


class _OneDeployment:
    """Mixin: the command's first argument, DEPLOYMENT (``args.name``)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='DEPLOYMENT',
                            help='deployment name')
        return parser


class Delete(_OneDeployment, Command):
    """Stop and remove a deployment's containers (kept for rollback)."""

    def take_action(self, args):
        from tripleo_docker_hook import deploy
        from tripleo_docker_hook import inventory
        conf = _conf()
        inventory.selected(conf, inventory.managed(_engine(conf)),
                           [args.name])  # unknown: one error line
        return _reported(self.app, lambda conf, report, masker:
                         deploy.delete(args.name, 'manual', conf, report))


class Rollback(_OneDeployment, Command):
    """Apply the previous definition, or a stored generation.

    Without --to: the previous definition (after a failed apply, the last
    good one).  show lists the generations.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--to', type=int, metavar='GENERATION',
                            help='a generation number listed by show')
        return parser

    def take_action(self, args):
        from tripleo_docker_hook import deploy
        deploy.rollback_target(args.name, _conf(), args.to)  # or one line
        return _reported(self.app, lambda conf, report, masker:
                         deploy.rollback(args.name, conf, report, masker,
                                         generation=args.to))


class Cleanup(Command):
    """Remove deployments that are no longer in the heat-config file."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--heat-config', help='default: '
                            '$HEAT_SHELL_CONFIG or '
                            '/var/run/heat-config/heat-config')
        parser.add_argument('--dry-run', action='store_true')
        return parser

    def take_action(self, args):
        from tripleo_docker_hook import cleanup
        path = args.heat_config or cleanup.heat_config_path()
        return _reported(self.app, lambda conf, report, masker: cleanup.run(
            path, conf, report, dry_run=args.dry_run))


# -- what is deployed ---------------------------------------------------------
LIST_COLUMNS = ('deployment', 'name', 'image', 'state', 'health', 'step',
                'start_order', 'kind', 'config_hash', 'started_at')


class ListContainers(Lister):
    """List managed containers: state, health, step, order, hash."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--deployment', action='append', default=[],
                            metavar='NAME', help='only this deployment '
                            '(repeatable)')
        parser.add_argument('names', nargs='*', metavar='DEPLOYMENT',
                            help=argparse.SUPPRESS)
        parser.add_argument('--json', action='store_true',
                            help='same as -f json')
        return parser

    def run(self, args):
        if args.json:
            args.formatter = 'json'
        return super().run(args)

    def take_action(self, args):
        from tripleo_docker_hook import inventory
        conf = _conf()
        rows = inventory.rows(conf, _engine(conf), _masker(),
                              args.deployment + args.names)
        columns = LIST_COLUMNS + ('exit_code', 'id')
        return columns, [tuple(getattr(r, c) for c in columns)
                         for r in rows]

    def produce_output(self, parsed_args, column_names, data):
        if not parsed_args.columns and parsed_args.formatter == 'table':
            # the wide details only on request (-c) or in JSON/YAML
            keep = [i for i, c in enumerate(column_names)
                    if c in LIST_COLUMNS]
            column_names = [column_names[i] for i in keep]
            data = [tuple(row[i] for i in keep) for row in data]
        return super().produce_output(parsed_args, column_names, data)


class _Yaml(cliff_columns.FormattableColumn):
    def human_readable(self):
        import yaml
        if self._value in (None, '', [], {}):
            return ''
        return yaml.safe_dump(self._value, default_flow_style=False,
                              sort_keys=False).rstrip('\n')


class _Generations(cliff_columns.FormattableColumn):
    def human_readable(self):
        lines = []
        for g in self._value:
            when = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(
                g['time'])) if g.get('time') else '-'
            lines.append(f"{g['generation']}{' *' if g['current'] else ''}"
                         f"  {when}Z  config {g['config_id']}  "
                         f"{', '.join(g['images'])}")
        return '\n'.join(lines)


class Show(_OneDeployment, ShowOne):
    """Show a deployment: definition, generations, last result.

    The definition as deployed (secrets masked), the stored generations
    (rollback --to) and the outcome of the last apply.
    """

    def take_action(self, args):
        from tripleo_docker_hook import inventory
        conf = _conf()
        data = inventory.show(conf, _engine(conf), args.name, _masker())
        columns = ('deployment', 'config_id', 'last_apply', 'last_result',
                   'rollback_target', 'generations', 'containers', 'execs',
                   'host_units', 'state_dir', 'definition')
        wrap = {'generations': _Generations, 'last_result': _Yaml,
                'containers': _Yaml, 'execs': _Yaml, 'host_units': _Yaml,
                'definition': _Yaml}
        return columns, tuple(wrap[c](data[c]) if c in wrap else data[c]
                              for c in columns)


class Check(Lister):
    """Monitoring probe: exit non-zero, and say why, if not as deployed.

    Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the Nagios plugin
    convention): CRITICAL for a service container missing, not running,
    restarting or unhealthy; WARNING for one running another definition,
    health still starting, a failed one-shot task or exec, a failed last
    apply, a managed container not in the definition; UNKNOWN when the
    check cannot run (engine unreachable, unknown deployment).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--deployment', action='append', default=[],
                            metavar='NAME', help='only this deployment '
                            '(repeatable)')
        return parser

    def run(self, args):
        from tripleo_docker_hook import check
        self.status = check.OK
        try:
            super(_Errors, self).run(args)
        except errors.HookError as exc:
            self.app.stderr.write(f'UNKNOWN: {exc}\n')
            return check.UNKNOWN
        return self.status

    def take_action(self, args):
        from tripleo_docker_hook import check
        conf = _conf()
        findings = check.run(conf, _engine(conf), _masker(),
                             args.deployment)
        self.status = check.status(findings)
        worst = check.SEVERITY[self.status]
        if findings:
            self.app.stderr.write(
                f'{worst}: {len(findings)} problem(s): ' + '; '.join(
                    f'{f.container or f.deployment} {f.problem}'
                    for f in findings[:5]) +
                (' ...' if len(findings) > 5 else '') + '\n')
        else:
            self.app.stderr.write('OK: every deployed container is as '
                                  'deployed\n')
        return (('deployment', 'container', 'severity', 'problem',
                 'detail'),
                [(f.deployment, f.container, f.level, f.problem, f.detail)
                 for f in findings])


# -- debugging one container --------------------------------------------------
def _may_show_secrets(asked: bool) -> None:
    if asked and os.geteuid() != 0:
        raise errors.HookError('--show-secrets: only root may print secret '
                               'values')


def _copy(chunks, stream, masker) -> None:
    """Engine output to a stream as it comes, masked."""
    for chunk in chunks:
        if chunk:
            stream.write(masker.mask(chunk.decode('utf-8', 'replace')))
            stream.flush()


def _interactive(app) -> bool:
    """Standard input and output are both terminals: ``exec`` runs on a
    pseudo-terminal, like ``docker exec -it``."""
    try:
        return sys.stdin.isatty() and app.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal(sock, resize) -> None:
    """An interactive session on ``sock`` (:meth:`Engine.exec_terminal`,
    :meth:`Engine.attach_terminal`): the local terminal in raw mode, bytes
    copied both ways until the remote end closes, the remote terminal
    resized with the local one (SIGWINCH).  Output is not masked: it is a
    terminal session (masking would break the screen), as with ``docker
    exec -it``; piped, ``exec`` and ``run-debug`` mask."""
    import contextlib
    import select
    import shutil
    import signal
    import termios
    import tty
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    sys.stdout.flush()

    def size(*_):
        cols, rows = shutil.get_terminal_size()
        with contextlib.suppress(errors.HookError):
            resize(rows, cols)

    saved = termios.tcgetattr(fd_in)
    previous = signal.signal(signal.SIGWINCH, size)
    try:
        tty.setraw(fd_in)
        size()
        stdin_open = True
        while True:
            wanted = [sock, fd_in] if stdin_open else [sock]
            ready, _, _ = select.select(wanted, [], [])
            if sock in ready:
                data = sock.recv(65536)
                if not data:
                    break
                os.write(fd_out, data)
            if fd_in in ready:
                data = os.read(fd_in, 65536)
                if data:
                    sock.sendall(data)
                else:
                    stdin_open = False
    finally:
        termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, previous)
        sock.close()


def _found(name):
    from tripleo_docker_hook import inventory
    conf = _conf()
    engine = _engine(conf)
    masker = _masker()
    return conf, engine, masker, inventory.find(conf, engine, name, masker)


class PrintCmd(Command):
    """Print the docker run command line of a managed container.

    From its definition (the one it runs); secret values are masked unless
    --show-secrets (root only).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('container', metavar='CONTAINER',
                            help='a managed container (its Docker name)')
        parser.add_argument('--show-secrets', action='store_true',
                            help='print secret values (root only)')
        return parser

    def take_action(self, args):
        import shlex
        from tripleo_docker_hook import docker_spec
        _may_show_secrets(args.show_secrets)
        _, _, _, found = _found(args.container)
        argv, notes = docker_spec.run_argv(
            found.container, found.name, found.labels(),
            mask_secrets=not args.show_secrets)
        if not found.exact:
            notes.append(f'{found.name} runs a definition that is not on '
                         f'record; this is the deployed one')
        for note in notes:
            self.app.stderr.write(f'note: {note}\n')
        self.app.stdout.write(shlex.join(argv) + '\n')
        return 0


def _after_dashdash(parser, dest: str = 'command'):
    """Everything after ``--`` becomes ``dest`` (argparse alone cannot
    mix options after a positional with a command of its own)."""
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        rest: List[str] = []
        if '--' in args:
            i = args.index('--')
            args, rest = args[:i], args[i + 1:]
        ns, extra = parse(args, namespace)
        setattr(ns, dest, rest)
        return ns, extra
    parser.parse_known_args = parse_known_args
    parser.epilog = 'The command comes last, after "--".'
    return parser


class RunDebug(Command):
    """Run a one-off, unmanaged copy of a container, removed on exit.

    Shows its output and exits with its exit code.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('container', metavar='CONTAINER',
                            help='a managed container (its Docker name)')
        parser.add_argument('--override', action='append', default=[],
                            metavar='KEY=VALUE',
                            help='change one setting of the copy: image, '
                            'user, working_dir, entrypoint, '
                            'environment.NAME (repeatable)')
        parser.add_argument('--timeout', type=int, default=300,
                            help='seconds before the copy is removed '
                            '(default 300)')
        return _after_dashdash(parser)

    def take_action(self, args):
        import uuid
        from tripleo_docker_hook import debug
        conf, engine, masker, found = _found(args.container)
        c = debug.copy_of(found.container, args.override,
                          args.command)
        name = f'{found.name}-debug-{uuid.uuid4().hex[:6]}'
        self.app.stderr.write(f'running {name} (removed on exit)\n')
        interactive = _interactive(self.app)
        if interactive:   # docker run -it
            c = dataclasses.replace(c, tty=True, stdin_open=True)
        engine.create(c, name, debug.labels(found.name))
        expired = threading.Event()

        def expire():
            if not done.wait(args.timeout):
                expired.set()
                engine.stop(name, timeout=0)
        done = threading.Event()
        try:
            if interactive:
                sock, resize = engine.attach_terminal(name)
            engine.start(name)
            threading.Thread(target=expire, daemon=True).start()
            if interactive:
                _terminal(sock, resize)
            else:
                _copy(engine.logs_stream(name, follow=True),
                      self.app.stdout, masker)
            code = engine.wait(name, 30)
        finally:
            done.set()
            engine.remove(name, force=True)
        if expired.is_set():
            raise errors.HookError(f'{name}: stopped after {args.timeout} '
                                   f's (--timeout)')
        return code


class Logs(Command):
    """Print a managed container's output (stdout and stderr)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('container', metavar='CONTAINER',
                            help='a managed container (its Docker name)')
        parser.add_argument('--follow', '-F', action='store_true',
                            help='keep printing new output')
        parser.add_argument('--tail', type=int, metavar='N',
                            help='only the last N lines')
        return parser

    def take_action(self, args):
        _, engine, masker, found = _found(args.container)
        if found.observed is None:
            raise errors.HookError(f'container {found.name} does not '
                                   f'exist (defined in deployment '
                                   f'{found.deployment})')
        _copy(engine.logs_stream(found.observed.id, args.tail, args.follow),
              self.app.stdout, masker)
        return 0


class Exec(Command):
    """Run a command in a managed container; exit with its status."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--user', '-u', default='')
        parser.add_argument('container', metavar='CONTAINER',
                            help='a managed container (its Docker name)')
        return _after_dashdash(parser)

    def take_action(self, args):
        words = args.command
        if not words:
            raise errors.HookError('exec: give the command after --')
        _, engine, masker, found = _found(args.container)
        if found.observed is None or found.observed.state != 'running':
            raise errors.HookError(f'container {found.name} is not running')
        if _interactive(self.app):
            sock, resize, exit_code = engine.exec_terminal(
                found.observed.id, words, args.user)
            _terminal(sock, resize)
            return exit_code()
        chunks, exit_code = engine.exec_stream(found.observed.id, words,
                                               args.user)
        for out, err in chunks:
            _copy((out,), self.app.stdout, masker)
            _copy((err,), self.app.stderr, masker)
        return exit_code()


# -- the application ----------------------------------------------------------
class CtlApp(cliff_app.App):
    """Logging: warnings on stderr, masked; -v for more."""

    def __init__(self):
        super().__init__(
            description='Operate tripleo-docker-hook deployments by hand.',
            version=_version(),
            command_manager=commandmanager.CommandManager(NAMESPACE),
            deferred_help=True)

    def configure_logging(self):
        """cliff logs INFO by default; here warnings only, INFO with -v,
        DEBUG with -vv: the account of a run is its output already."""
        super().configure_logging()
        import logging
        level = {0: logging.WARNING, 1: logging.WARNING,
                 2: logging.INFO}.get(self.options.verbose_level,
                                       logging.DEBUG)
        for handler in logging.getLogger().handlers:
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(level)
        for name in ('docker', 'urllib3', 'stevedore'):
            logging.getLogger(name).setLevel(max(level, logging.INFO))


def _version() -> str:
    try:
        from importlib import metadata
        return metadata.version('tripleo-docker-hook')
    except Exception:  # not installed: running from a source tree
        return 'unknown'


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        argv = ['help']  # never the interactive shell on a bare call
    return CtlApp().run(argv)


if __name__ == '__main__':
    sys.exit(main())
