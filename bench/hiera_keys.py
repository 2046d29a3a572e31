#!/usr/bin/env python3
"""Benchmark: the per-key hieradata comparison of a controller.

A controller has ~40 config volumes; each looks up thousands of keys in
the same ``service_configs.json`` (about a megabyte, ~6 000 top-level
keys).  After a render, and on every run whose hieradata changed, the hook
fingerprints each volume's keys (``lookup_trace.Values``).  This measures
one such run: ``--volumes`` volumes, each ``--keys`` keys (half found,
half searched and missing, as hiera's lower levels are), one shared
``Values`` as the render cache holds, in this process (no engine, no
Puppet).  Prints seconds for JSON and YAML.

Run: ``python bench/hiera_keys.py`` (from the repository, tox's venv).
"""

import argparse
import json
import os
import random
import tempfile
import time

import yaml

from tripleo_docker_hook import lookup_trace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--volumes', type=int, default=40)
    ap.add_argument('--keys', type=int, default=3000)
    ap.add_argument('--services', type=int, default=100)
    args = ap.parse_args()
    rnd = random.Random(14)
    data = {f'tripleo::profile::svc{i}::param{j}': (
        {'x': [rnd.random() for _ in range(5)], 'y': 'v' * rnd.randint(10,
                                                                       200)}
        if j % 3 else f'val{j}')
        for i in range(args.services) for j in range(60)}
    names = list(data)
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, 'service_configs.json'), 'w') as f:
            json.dump(data, f, indent=2)
        with open(os.path.join(root, 'service_configs.yaml'), 'w') as f:
            yaml.safe_dump(data, f)
        for fmt in ('json', 'yaml'):
            rel = f'service_configs.{fmt}'
            size = os.path.getsize(os.path.join(root, rel))
            volumes = [rnd.sample(names, args.keys // 2) +
                       [f'missing::v{v}::k{i}'
                        for i in range(args.keys - args.keys // 2)]
                       for v in range(args.volumes)]
            values = lookup_trace.Values()
            start = time.monotonic()
            for keys in volumes:
                values.read(root, rel, fmt, keys)
            took = time.monotonic() - start
            print(f'{fmt}: {size / 1e6:.2f} MB, {len(data)} keys in the '
                  f'file, {args.volumes} volumes x {args.keys} keys: '
                  f'{took:.2f} s')


if __name__ == '__main__':
    main()
