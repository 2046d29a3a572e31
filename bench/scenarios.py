"""The scenarios every adapter runs, how one sample is taken (on a quiet
host, failures recorded, never fatal), and the run's clean-up."""

import concurrent.futures
import os
import shutil
import time

from adapters import puppet_entry
from common import (BUSYBOX, PUPPET, RENDER_VOLUMES, SLEEP_FOREVER,
                    BenchError, log)


class Results:
    def __init__(self):
        self.samples = {}   # (scenario, tool) → [seconds]
        self.errors = {}    # (scenario, tool) → message
        self.notes = {}     # scenario → text
        self.touched = {}   # tool → [containers touched by change]
        self.busy = []      # host CPU busy fraction before each sample

    def add(self, scenario, tool, seconds):
        self.samples.setdefault((scenario, tool), []).append(seconds)
        log(f'  {scenario:<18} {tool:<7} {seconds:8.3f} s')

    def fail(self, scenario, tool, exc):
        self.errors[(scenario, tool)] = str(exc)
        log(f'  {scenario:<18} {tool:<7} FAILED: {exc}')


# -- a quiet host ------------------------------------------------------------

def _cpu_times():
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields)


def cpu_busy(interval=0.5):
    """Fraction of all CPUs busy over ``interval`` (other work included)."""
    idle0, total0 = _cpu_times()
    time.sleep(interval)
    idle1, total1 = _cpu_times()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


#: Set by run.main: (busy threshold, max wait in s); None = do not wait.
QUIET = None


def wait_quiet(results):
    """Wait (bounded) until the host is mostly idle before a sample.

    Other work on the machine (tests on the same engine) inflates every
    number; waiting for a quiet moment keeps the samples comparable.  The
    busy fraction seen is kept with the results.
    """
    if QUIET is None:
        return
    threshold, max_wait = QUIET
    deadline = time.monotonic() + max_wait
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy(1.0)
    results.busy.append(round(busy, 3))


def measure(results, scenario, tool, func, *args):
    """One sample of ``func(*args)`` (seconds) as ``scenario`` of ``tool``;
    False once this pair failed (it is not retried in later repetitions)."""
    if (scenario, tool.name) in results.errors:
        return False
    wait_quiet(results)
    try:
        results.add(scenario, tool.name, func(*args))
        return True
    except BenchError as exc:
        results.fail(scenario, tool.name, exc)
        return False


# -- observation and clean-up ------------------------------------------------

def snapshot(client, prefix):
    """name → (id, StartedAt) of every container named with ``prefix``."""
    out = {}
    for entry in client.containers(all=True, filters={'name': prefix}):
        name = entry['Names'][0].lstrip('/')
        if name.startswith(prefix):
            started = client.inspect_container(entry['Id'])['State'][
                'StartedAt']
            out[name] = (entry['Id'], started)
    return out


def running_count(client, prefix):
    return sum(1 for e in client.containers(filters={'name': prefix})
               if e['Names'][0].lstrip('/').startswith(prefix))


def cleanup(client, prefix):
    """Force-remove every container of this run (names or labels)."""
    doomed = []
    for entry in client.containers(all=True):
        labels = entry.get('Labels') or {}
        name = (entry.get('Names') or ['/'])[0].lstrip('/')
        if name.startswith(prefix) or any(
                str(labels.get(k, '')).startswith(prefix)
                for k in ('deployment', 'config_id', 'container_name')):
            doomed.append(entry['Id'])
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda cid: _force_remove(client, cid), doomed))
    return len(doomed)


def _force_remove(client, cid):
    try:
        client.remove_container(cid, force=True)
    except Exception as exc:  # best effort: report, keep going
        log(f'bench: cannot remove {cid[:12]}: {exc}')


# -- deploy: fresh → no-op → no-op (new id) → change one → delete -----------

def sequence(results, tool, n, with_change, client):
    """fresh → no-op → no-op (new id) → [change one] → delete, for one N."""
    if not measure(results, f'fresh_{n}', tool, tool.fresh, n):
        return
    measure(results, f'noop_{n}', tool, tool.noop, n, False)
    measure(results, f'noop_newid_{n}', tool, tool.noop, n, True)
    if with_change:
        prefix = f'{tool.prefix}{n}'
        before = snapshot(client, prefix)
        if measure(results, f'change1_{n}', tool, tool.change, n):
            after = snapshot(client, prefix)
            touched = sum(1 for k, v in before.items() if after.get(k) != v)
            touched += sum(1 for k in after if k not in before)
            results.touched.setdefault(tool.name, []).append(touched)
            if running_count(client, prefix) != n:
                results.fail(f'change1_{n}', tool.name,
                             'not every container running after the change')
    measure(results, f'delete_{n}', tool, tool.delete, n)


# -- render (only the hook renders; the floor runs the bare puppet) ----------

def render_supported():
    """True once ``puppet_config`` is parsed and rendered (issue 4)."""
    try:
        from tripleo_docker_hook import errors
        from tripleo_docker_hook.definitions import config_sections
    except ImportError:
        return False
    errs = errors.ErrorList()
    try:
        config_sections.parse_puppet_config(
            [{'config_volume': 'x', 'config_image': PUPPET,
              'step_config': 'include ::x'}], 'puppet_config', errs)
    except Exception:
        return False
    return not errs


def render_scenario(results, tdh, floor, rep):
    """4 single-volume renders, then one of all 4; False once unsupported.

    The floor runs the same puppet manifests in bare containers (1, then 4
    in parallel): what the hardware allows before any copy-out.
    """
    singles, floors = [], []
    for vol in RENDER_VOLUMES:
        key = f'render1_{vol}'
        wait_quiet(results)
        try:
            singles.append(tdh.render([vol], f'{rep}{vol[-1]}'))
        except BenchError as exc:
            text = str(exc)
            if 'NotImplementedError' in text or 'not supported' in text:
                results.notes['render'] = (
                    'not measurable yet: the hook does not render '
                    f'puppet_config ({text.splitlines()[-1][:120]})')
                return False
            results.fail(key, 'tdh', exc)
            return True
        results.add(key, 'tdh', singles[-1])
        if measure(results, key, floor, floor.render, [vol],
                   f'{rep}{vol[-1]}'):
            floors.append(results.samples[(key, 'floor')][-1])
    results.add('render_1_slowest', 'tdh', max(singles))
    if len(floors) == len(RENDER_VOLUMES):
        results.add('render_1_slowest', 'floor', max(floors))
    for tool in (tdh, floor):
        measure(results, 'render_4', tool, tool.render, list(RENDER_VOLUMES),
                f'{rep}all')
    return True


class CachedRender:
    """Issue 14: 4 puppet volumes + 20 containers (5 mount each volume):
    deploy, re-apply unchanged (no render at all), then change the
    hieradata key only volume ``bench_a`` uses."""

    N = 20

    def __init__(self, tdh, tag):
        self.tdh = tdh
        self.key = f'cache-{tag}'
        self.env, self.root = tdh.puppet_env(self.key, len(RENDER_VOLUMES))
        with open(os.path.join(self.root, 'hiera.yaml'), 'w') as f:
            f.write('---\nversion: 5\ndefaults:\n'
                    f'  datadir: {self.root}/hieradata\n'
                    '  data_hash: yaml_data\nhierarchy:\n'
                    '  - name: common\n    path: common.yaml\n')
        self.cdd = os.path.join(tdh.workdir, f'tdh-{self.key}',
                                'config_data_dir')
        self.name = f'{tdh.prefix}c-{tag}'
        self.hiera(1)

    def hiera(self, value_a):
        with open(os.path.join(self.root, 'hieradata', 'common.yaml'),
                  'w') as f:
            f.write(f'bench::bench_a: "{value_a}"\n' + ''.join(
                f'bench::{v}: "1"\n' for v in RENDER_VOLUMES[1:]))

    def config(self):
        entries = [puppet_entry(vol, f"v=${{lookup('bench::{vol}')}}")
                   for vol in RENDER_VOLUMES]
        step = {}
        for i in range(self.N):
            vol = RENDER_VOLUMES[i % len(RENDER_VOLUMES)]
            step[f'{self.name}-c{i:02d}'] = {
                'image': BUSYBOX, 'net': 'host', 'restart': 'always',
                'command': SLEEP_FOREVER,
                'volumes': [f'{self.cdd}/{vol}:/config:ro']}
        return {'puppet_config': entries, 'docker_config': {'step_1': step}}

    def run(self, action='CREATE'):
        return self.tdh.run(self.tdh.document(
            self.name, self.config() if action != 'DELETE' else {}, action),
            env=self.env)

    def close(self):
        try:
            self.run('DELETE')
        finally:
            shutil.rmtree(os.path.join(self.tdh.workdir, f'tdh-{self.key}'),
                          ignore_errors=True)


def cached_render_scenario(results, tdh, floor, rep):
    """render_fresh_4x20, render_noop_4x20, render_hiera1_4x20 (tdh), and
    the floor's parallel replace of the 5 containers of one volume."""
    scenario = CachedRender(tdh, f'{rep}')
    try:
        if not measure(results, 'render_fresh_4x20', tdh, scenario.run):
            return
        measure(results, 'render_noop_4x20', tdh, scenario.run)
        scenario.hiera(2)
        measure(results, 'render_hiera1_4x20', tdh, scenario.run)
    finally:
        try:
            scenario.close()
        except BenchError as exc:
            log(f'bench: cached render clean-up: {exc}')
    measure(results, 'restart_5', floor, floor.restart_some, 5)
