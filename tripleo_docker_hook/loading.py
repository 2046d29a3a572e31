"""Bounded decoding of untrusted JSON and YAML text.

The deployment document (stdin), a ``config`` string and the Pod
``tripleo.org/docker-options`` annotation are input from Heat templates: a
600-byte YAML "billion laughs" expands to 10^8 leaves, a JSON array nested
100000 deep overflows the C stack of a naive walker, and both formats let a
key appear twice with the last value silently winning (``image`` given
twice deploys the second).  Everything here finishes in time and memory
proportional to the *text*, never to an expansion of it:

* YAML aliases are refused unless they name a scalar, and the scalars a
  document holds, each alias counted again, are at most
  :data:`MAX_EXPANDED_BYTES` (3000 aliases of one 4 MiB string are a 4 MiB
  document but 12 GB once serialised for the config hash or the Docker
  API); the composed node graph is checked before it is constructed, so
  nothing is ever expanded;
* nesting deeper than :data:`MAX_DEPTH` and more than :data:`MAX_NODES`
  values are refused;
* a key given twice in one mapping is a ``Duplicate value`` error naming
  its path, in YAML and in JSON;
* strings holding lone UTF-16 surrogates (JSON ``"\\ud800"``), which no
  file system, log or Docker API call can encode, are refused.

Errors are :class:`errors.FieldError` objects; callers decide the prefix
of the paths.
"""

import json
from typing import Any, Iterator, List, Tuple

from tripleo_docker_hook import errors

#: Deepest nesting accepted (a Pod is about 10 levels deep).
MAX_DEPTH = 100
#: Most values (scalars and containers) in one document.
MAX_NODES = 2_000_000
#: Most characters of all scalars of a YAML document with every alias
#: expanded: the largest document the hook reads (32 MiB).
MAX_EXPANDED_BYTES = 32 * 1024 * 1024


class _Dups(dict):
    """A JSON object that had a key twice (the last value is kept)."""

    duplicates: Tuple[str, ...] = ()


def _pairs(pairs: List[Tuple[str, Any]]) -> dict:
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen, dups = set(), []
    for key, _ in pairs:
        if key in seen and key not in dups:
            dups.append(key)
        seen.add(key)
    result = _Dups(data)
    result.duplicates = tuple(dups)
    return result


def join(path: str, key: Any) -> str:
    """``path.key``, or ``path[key]`` for an index."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f'{path}[{key}]'
    key = str(key)
    if len(key) > 100:
        key = key[:100] + '...'
    return f'{path}.{key}' if path else key


def _bad_text(value: str) -> bool:
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        return True
    return False


def _walk(root: Any, path: str, errs: errors.ErrorList
          ) -> Iterator[Tuple[Any, str, int, list]]:
    """``(node, path, depth, stack)`` of a tree, depth first, within
    :data:`MAX_DEPTH` and :data:`MAX_NODES` (errors recorded); the caller
    pushes a node's children onto ``stack``."""
    stack: List[Tuple[Any, str, int]] = [(root, path, 0)]
    count = 0
    while stack:
        node, where, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            errs.add(path, 'Too many', detail=f'more than {MAX_NODES} '
                     f'values')
            return
        if depth > MAX_DEPTH:
            errs.add(where, 'Invalid value', detail=f'nested more than '
                     f'{MAX_DEPTH} levels deep')
            continue
        yield node, where, depth, stack


def check_tree(data: Any, path: str = '') -> List[errors.FieldError]:
    """Depth, size, duplicate keys (of :func:`json_loads` objects) and
    unencodable strings of decoded JSON; iterative, so any depth is safe."""
    errs = errors.ErrorList()
    for node, where, depth, stack in _walk(data, path, errs):
        if isinstance(node, str):
            if _bad_text(node):
                errs.add(where, 'Invalid value', detail='not valid '
                         'Unicode text (a lone surrogate)')
        elif isinstance(node, dict):
            for key in getattr(node, 'duplicates', ()):
                errs.add(join(where, key), 'Duplicate value', detail='the '
                         'key is given more than once in this object')
            for key, value in node.items():
                if isinstance(key, str) and _bad_text(key):
                    errs.add(where, 'Invalid value', detail='a key is not '
                             'valid Unicode text (a lone surrogate)')
                    continue
                stack.append((value, join(where, key), depth + 1))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                stack.append((value, join(where, i), depth + 1))
    return errs.errors


def json_loads(text: str, path: str = '', what: str = 'JSON'
               ) -> Any:
    """Decode JSON; raises :class:`errors.ValidationError` (paths under
    ``path``) on bad JSON, duplicate keys, deep nesting or bad text."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except RecursionError:
        raise errors.ValidationError([errors.FieldError(
            path, 'Invalid value', detail=f'{what} nested too deeply')]
            ) from None
    except ValueError as exc:
        raise errors.ValidationError([errors.FieldError(
            path, 'Invalid value', detail=f'not a {what} document: '
            f'{str(exc)[:300]}')]) from None
    problems = check_tree(data, path)
    if problems:
        raise errors.ValidationError(problems)
    return data


# -- YAML ---------------------------------------------------------------------
def yaml_problem(exc: Exception) -> str:
    """A YAML error without the quoted source line (it may hold a secret)."""
    parts = [getattr(exc, 'context', None), getattr(exc, 'problem', None)]
    text = ', '.join(p for p in parts if p) or type(exc).__name__
    mark = getattr(exc, 'problem_mark', None) or getattr(
        exc, 'context_mark', None)
    if mark is not None:
        text += f' (line {mark.line + 1}, column {mark.column + 1})'
    return text[:300]


def _loader_class():
    import yaml
    return getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def _check_node(root, path: str) -> List[errors.FieldError]:
    """Aliases, depth, size and duplicate keys of one composed document."""
    import yaml
    errs = errors.ErrorList()
    seen = set()
    aliased = False
    expanded = 0
    for node, where, depth, stack in _walk(root, path, errs):
        if isinstance(node, yaml.ScalarNode):
            expanded += len(node.value)
            if expanded > MAX_EXPANDED_BYTES:
                errs.add(where, 'Too long', detail=f'the YAML document '
                         f'holds more than {MAX_EXPANDED_BYTES} characters '
                         f'once its aliases are expanded')
                break
            continue
        if id(node) in seen:
            if aliased:   # one error per document is enough
                continue
            aliased = True
            line = node.start_mark.line + 1 if node.start_mark else 0
            errs.add(where, 'Forbidden', detail=f'YAML aliases of '
                     f'mappings or lists are not supported (the anchor at '
                     f'line {line}); write the value out')
            continue
        seen.add(id(node))
        # Children are pushed in reverse: the walk is in document order,
        # so an anchor is met before its aliases and the error names the
        # alias.
        if isinstance(node, yaml.SequenceNode):
            for i, child in reversed(list(enumerate(node.value))):
                stack.append((child, join(where, i), depth + 1))
            continue
        keys = set()
        todo = []
        for key_node, child in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                label = key_node.value
                ident = (key_node.tag, key_node.value)
                if ident in keys:
                    errs.add(join(where, label), 'Duplicate value',
                             detail='the key is given more than once in '
                             'this mapping')
                keys.add(ident)
            else:
                label = '<key>'
                todo.append((key_node, join(where, label), depth + 1))
            todo.append((child, join(where, label), depth + 1))
        stack.extend(reversed(todo))
    return errs.errors


def yaml_load_all(text: str, path: str = '') -> List[Any]:
    """Every document of a YAML (or JSON) stream, checked before being
    constructed; raises :class:`errors.ValidationError`.

    ``path`` prefixes field paths; several documents are ``documents[i]``.
    """
    import yaml
    loader = _loader_class()(text)
    nodes = []
    try:
        while loader.check_node():
            nodes.append(loader.get_node())
    except yaml.YAMLError as exc:
        raise errors.ValidationError([errors.FieldError(
            path or 'config', 'Invalid value', '<string>',
            'not YAML/JSON: ' + yaml_problem(exc))]) from None
    except RecursionError:
        raise errors.ValidationError([errors.FieldError(
            path or 'config', 'Invalid value', '<string>',
            'nested too deeply')]) from None
    problems: List[errors.FieldError] = []
    multi = len(nodes) > 1
    for i, node in enumerate(nodes):
        where = join(path, 'documents') + f'[{i}]' if multi else path
        problems += _check_node(node, where)
    if problems:
        raise errors.ValidationError(problems)
    docs = []
    try:
        for node in nodes:
            docs.append(loader.construct_document(node))
    except yaml.YAMLError as exc:
        raise errors.ValidationError([errors.FieldError(
            path or 'config', 'Invalid value', '<string>',
            'not YAML/JSON: ' + yaml_problem(exc))]) from None
    except (RecursionError, ValueError, TypeError, OverflowError) as exc:
        raise errors.ValidationError([errors.FieldError(
            path or 'config', 'Invalid value', '<string>',
            f'cannot load: {exc}'[:300])]) from None
    finally:
        loader.dispose()
    problems = []
    for i, doc in enumerate(docs):
        where = join(path, 'documents') + f'[{i}]' if multi else path
        problems += check_tree(doc, where)
    if problems:
        raise errors.ValidationError(problems)
    return docs

