#!/usr/bin/env python3
"""Profile one hook run (no-op, change one or delete) of N containers.

Deploys N busybox containers with the real hook, then runs the scenario
under pyinstrument (``pip install pyinstrument``) or cProfile in a child
process exactly like heat-config would (document on stdin), prints the
profile and removes everything::

    python bench/profile_hook.py --n 50 --scenario noop
    python bench/profile_hook.py --n 20 --scenario change --cprofile
    python bench/profile_hook.py --n 20 --scenario delete --trace
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adapters  # noqa: E402
import common  # noqa: E402
import scenarios  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=50)
    p.add_argument('--scenario', default='noop',
                   choices=('noop', 'noop_newid', 'change', 'delete',
                            'fresh', 'startup'))
    p.add_argument('--cprofile', action='store_true',
                   help='cProfile (sorted by cumulative time) instead of '
                        'pyinstrument')
    p.add_argument('--trace', action='store_true',
                   help='time every engine round trip instead '
                        '(bench/engine_trace.py)')
    p.add_argument('--interval', type=float, default=0.0005,
                   help='pyinstrument sampling interval (s)')
    args = p.parse_args(argv)
    prefix = f'tdhprof-{uuid.uuid4().hex[:6]}'
    workdir = tempfile.mkdtemp(prefix=prefix)
    client = common.api_client()
    tool = adapters.TDH(prefix, workdir)
    n = args.n
    try:
        if args.scenario not in ('fresh', 'startup'):
            tool.fresh(n)
        doc_id = tool.ids.get(n) or str(uuid.uuid4())
        if args.scenario == 'noop':
            doc = tool.document(tool.deployment(n), tool.config(n), 'CREATE',
                                doc_id)
        elif args.scenario == 'noop_newid':
            doc = tool.document(tool.deployment(n), tool.config(n), 'UPDATE',
                                str(uuid.uuid4()))
        elif args.scenario == 'change':
            doc = tool.document(tool.deployment(n),
                                tool.config(n, changed=True), 'UPDATE',
                                str(uuid.uuid4()))
        elif args.scenario == 'delete':
            doc = tool.document(tool.deployment(n), tool.config(n), 'DELETE',
                                str(uuid.uuid4()))
        elif args.scenario == 'startup':
            doc = tool.document(f'{prefix}-empty', {}, 'CREATE', doc_id)
        else:
            doc = tool.document(tool.deployment(n), tool.config(n), 'CREATE',
                                doc_id)
        if args.trace:
            cmd = [sys.executable, os.path.join(
                os.path.dirname(os.path.abspath(__file__)),
                'engine_trace.py'), tool.exe]
        elif args.cprofile:
            cmd = [sys.executable, '-m', 'cProfile', '-s', 'cumulative',
                   tool.exe]
        else:
            cmd = [sys.executable, '-m', 'pyinstrument', '-i',
                   str(args.interval), tool.exe]
        proc = subprocess.run(cmd, input=json.dumps(doc), text=True,
                              capture_output=True, env=tool.env)
        # the hook points fd 1 at stderr: the profile lands there.
        out = proc.stderr
        print(out if args.cprofile or args.trace else out[-20000:])
        print(proc.stdout[-2000:], file=sys.stderr)
    finally:
        scenarios.cleanup(client, prefix)
    return 0


if __name__ == '__main__':
    sys.exit(main())
