"""``run-debug``: a one-off copy of a managed container, changed by hand.

What ``paunch debug --action run`` gave operators: start the container's
definition under a temporary name with a setting or the command changed,
look at what it does, throw it away.  The copy carries none of the labels
that make a container *managed*, so no apply, cleanup or check ever sees
it; it has no restart policy.  Pure: the CLI creates and removes it.
"""

import dataclasses
import shlex
from typing import Dict, Iterable, List

from tripleo_docker_hook import errors
from tripleo_docker_hook import model

#: Label naming the managed container a debug copy was made from.
LABEL_DEBUG_OF = 'tripleo-docker-hook.debug-of'

#: Keys ``--override`` accepts, besides ``environment.NAME``.
KEYS = ('image', 'user', 'working_dir', 'entrypoint', 'command',
        'privileged', 'hostname')


def labels(name: str) -> Dict[str, str]:
    return {LABEL_DEBUG_OF: name}


_BOOLS = {'true': True, '1': True, 'yes': True,
          'false': False, '0': False, 'no': False}


def copy_of(container: model.Container, overrides: Iterable[str],
            command: List[str]) -> model.Container:
    """The definition of the copy.

    ``overrides`` are ``KEY=VALUE`` (``environment.NAME=VALUE`` sets one
    variable, ``entrypoint``/``command`` are split like a shell does);
    ``command``, when given, is run instead of the entrypoint and command
    (exactly those words).  Raises :class:`errors.ValidationError` naming
    a bad override.
    """
    changes: Dict[str, object] = {
        'kind': model.Kind.TASK, 'restart_policy': 'no', 'auto_remove':
        False, 'labels': (), 'init': False}
    env = dict(container.environment)
    errs = errors.ErrorList()
    for item in overrides:
        key, eq, value = item.partition('=')
        if not eq:
            errs.invalid('--override', item, 'KEY=VALUE')
        elif key.startswith('environment.') and len(key) > 12:
            env[key[12:]] = value
        elif key in ('entrypoint', 'command'):
            changes[key] = tuple(shlex.split(value))
        elif key == 'privileged':
            if value.lower() in _BOOLS:
                changes[key] = _BOOLS[value.lower()]
            else:
                errs.invalid(f'--override {key}', value, 'true or false')
        elif key in KEYS:
            changes[key] = value
        else:
            errs.unsupported('--override', key,
                             list(KEYS) + ['environment.NAME'])
    errs.raise_if_any()
    changes['environment'] = tuple(env.items())
    if command:
        changes['entrypoint'] = (command[0],)
        changes['command'] = tuple(command[1:])
    return dataclasses.replace(container, **changes)
