"""The hash contract, pinned: golden container hashes over example inputs.

The value of the ``tripleo-docker-hook.hash`` label (the *container hash*,
:func:`plan.container_hash`) decides whether a container is kept or
replaced.  If any value below changes, every container of that shape is
restarted on every node at the next apply after an upgrade of this
package.  A change here must therefore be deliberate: bump
:data:`tripleo_docker_hook.HASH_VERSION` if the meaning changed, say so in
the release note, and regenerate with::

    TDH_UPDATE_GOLDEN=1 tox -e py3 -- tests/unit/test_golden_hashes.py

The inputs under ``golden/`` are copies of the shared reference examples
(TripleO startup configs, docker-cmd and kubelet Heat items, paunch maps)
plus a rich v1 Pod, kept here so the contract does not depend on files
outside the repository.
"""

import json
import os

import pytest

from tripleo_docker_hook import definitions
from tripleo_docker_hook import plan
from tripleo_docker_hook import render

HERE = os.path.join(os.path.dirname(__file__), 'golden')
GOLDEN = os.path.join(HERE, 'hashes.json')

#: Fixed rendered-config hashes (config volume path → hash), to pin how a
#: config hash is folded into the container hash.
CONFIG_HASHES = {
    '/var/lib/config-data/nova_libvirt': 'a' * 32,
    '/var/lib/config-data/puppet-generated/nova_libvirt': 'b' * 32,
    '/var/lib/config-data/keystone': 'c' * 32,
    '/var/lib/config-data/puppet-generated/keystone': 'd' * 32,
    '/var/lib/kolla/config_files/keystone.json': 'e' * 32,
    '/var/lib/kolla/config_files/nova_compute.json': 'f' * 32,
}


def _configs(name):
    with open(os.path.join(HERE, name), encoding='utf-8') as f:
        text = f.read()
    if name.startswith('heat-'):
        items = json.loads(text)
        items = items if isinstance(items, list) else [items]
        return [(f'{name}#{i}', item['config'])
                for i, item in enumerate(items)]
    return [(name, text)]


def _inputs():
    return sorted(n for n in os.listdir(HERE)
                  if n != 'hashes.json' and not n.startswith('.'))


def compute():
    """``{input: {container: {"hash": ..., "with_config": ...}}}``."""
    result = {}
    for name in _inputs():
        for key, config in _configs(name):
            dep = definitions.parse(config)
            folded = render.with_config_hashes(dep, dict(CONFIG_HASHES))
            result[key] = {
                c.name: {'hash': plan.container_hash(c),
                         'with_config': plan.container_hash(f)}
                for c, f in zip(dep.containers, folded.containers)}
    return result


def test_golden_container_hashes():
    actual = compute()
    if os.environ.get('TDH_UPDATE_GOLDEN'):
        with open(GOLDEN, 'w', encoding='utf-8') as f:
            json.dump(actual, f, indent=1, sort_keys=True)
            f.write('\n')
    with open(GOLDEN, encoding='utf-8') as f:
        expected = json.load(f)
    changed = [f'{doc}/{name}' for doc in sorted(set(expected) | set(actual))
               for name in sorted(set(expected.get(doc, {})) |
                                  set(actual.get(doc, {})))
               if expected.get(doc, {}).get(name) !=
               actual.get(doc, {}).get(name)]
    assert not changed, (
        'container hashes changed (this restarts these containers on every '
        'node after an upgrade; see the module docstring): ' +
        ', '.join(changed))


def test_golden_corpus_covers_both_formats_and_config_folding():
    golden = compute()
    containers = [c for doc in golden.values() for c in doc.values()]
    assert len(containers) >= 40
    # Config folding changes the hash of containers that mount config.
    assert any(c['hash'] != c['with_config'] for c in containers)
    assert any(c['hash'] == c['with_config'] for c in containers)
    assert any('pod' in k for k in golden)
    assert any('startup-config' in k for k in golden)


@pytest.mark.parametrize('variant', ['image', 'environment'])
def test_a_definition_change_changes_the_hash(variant):
    base = {'svc': {'image': 'tdh/busybox:latest', 'environment': ['A=1']}}
    changed = json.loads(json.dumps(base))
    if variant == 'image':
        changed['svc']['image'] = 'tdh/busybox:other'
    else:
        changed['svc']['environment'] = ['A=2']
    one = plan.container_hash(definitions.parse(base).containers[0])
    two = plan.container_hash(definitions.parse(changed).containers[0])
    assert one != two
