"""``tripleo-docker-hook-ctl``: the operator's command line.

The same code paths as the hook, driven by hand: check a definition file
offline, export it as Kubernetes Pods, show the plan without acting, apply
or delete a deployment document, list what is deployed, roll back to the
previous definition.
"""

import argparse
import sys
from typing import List, Optional

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


def cmd_validate(args) -> int:
    from tripleo_docker_hook import definitions
    status = 0
    for path in args.files:
        try:
            deployment = definitions.parse(_config_of(_read(path)))
        except errors.ValidationError as exc:
            status = 2
            for err in exc.errors:
                print(f'{path}: {err}')
            continue
        print(f'{path}: OK ({len(deployment.containers)} containers in '
              f'{len(deployment.steps)} steps)')
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='tripleo-docker-hook-ctl',
        description='Operate tripleo-docker-hook deployments by hand.')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('validate', help='check definition files offline')
    p.add_argument('files', nargs='+', metavar='FILE',
                   help='docker_config / Pod YAML or JSON, or a heat-config '
                        'item; - for stdin')
    p.set_defaults(func=cmd_validate)
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
