"""lookup_trace: the tracer's output checked, keys' values fingerprinted,
the trace file read out of an archive.

Pure code: the tracer inside real Puppet is proven by
``tests/functional/test_render_keys.py``.  What Ruby reads a YAML text as
(symbol keys, a quoted ``<<`` merged, ``!!binary`` keys decoded) was
checked against the Puppet 7 / Psych 4 of the test image.
"""

import hashlib
import io
import json
import os
import tarfile
import time

import pytest

from tripleo_docker_hook import copyout
from tripleo_docker_hook import lookup_trace as lt

ROOT = '/etc/puppet/hieradata'
DHF = 'Puppet::Pops::Lookup::DataHashFunctionProvider'
V3 = 'Puppet::Pops::Lookup::V3DataHashFunctionProvider'


def trace(lookups, root=ROOT, opaque=(), fmt=1, **extra):
    return json.dumps({'format': fmt, 'root': root, 'lookups': lookups,
                       'opaque': list(opaque), **extra}).encode()


def item(key, rel, function='yaml_data', provider=DHF, root=ROOT):
    return [key, f'{root}/{rel}' if rel is not None else None, function,
            provider]


def fingerprints(root, files):
    """rel → key → fingerprint of each file read afresh (no memo)."""
    return {rel: lt.Values().read(root, rel, fmt, keys).keys
            for rel, (fmt, keys) in files.items()}


# -- parse -------------------------------------------------------------------
def test_parse_groups_keys_by_file_relative_sorted_and_unique():
    raw = trace([
        item('tdh::b', 'common.yaml'),
        item('tdh::a', 'common.yaml'),
        item('tdh::a', 'common.yaml'),  # looked up twice
        item('tdh::j', 'svc.json', 'json_data', V3),
        item('tdh::a', 'nodes/./n1.yaml'),  # normalised
        item('tdh::a', '/nodes//n1.yaml'),
        # module data (outside the tree): covered by the modules input
        item('m::x', 'x.yaml', root='/etc/puppet/modules/m/data'),
        item('tdh::z', 'x.yaml', root=ROOT + '-other'),  # a sibling tree
    ])
    got = lt.parse(raw, ROOT + '/')
    assert got.opaque == ''
    assert got.files == {
        'common.yaml': ('yaml', ('tdh::a', 'tdh::b')),
        'nodes/n1.yaml': ('yaml', ('tdh::a',)),
        'svc.json': ('json', ('tdh::j',)),
    }
    assert list(got.files) == sorted(got.files)


def test_parse_empty_trace_is_clean_and_empty():
    got = lt.parse(trace([]), ROOT)
    assert got == lt.Trace({}, '')


BAD = {
    'none': (None, 'no lookup trace'),
    'not json': (b'{"format": 1,', 'lookup trace is not JSON'),
    'not utf-8': (b'{"format": 1, "root": "\xff"}',
                  'lookup trace is not JSON'),
    'nested too deep': (b'[' * 100_000 + b']' * 100_000,
                        'lookup trace is not JSON'),
    'nested too deep inside': (
        trace([])[:-1] + b', "x": ' + b'[' * 50_000 + b']' * 50_000 + b'}',
        'lookup trace is not JSON'),
    'a list': (b'[]', 'lookup trace of another format or directory'),
    'format 2': (trace([], fmt=2),
                 'lookup trace of another format or directory'),
    'format "1"': (trace([], fmt='1'),
                   'lookup trace of another format or directory'),
    'other root': (trace([], root='/etc/puppet'),
                   'lookup trace of another format or directory'),
    'no root': (json.dumps({'format': 1, 'lookups': [], 'opaque': []}
                           ).encode(),
                'lookup trace of another format or directory'),
    'opaque not a list': (json.dumps({'format': 1, 'root': ROOT,
                                      'lookups': [], 'opaque': ''}).encode(),
                          'malformed lookup trace'),
    'lookups not a list': (json.dumps({'format': 1, 'root': ROOT,
                                       'lookups': {}, 'opaque': []}).encode(),
                           'malformed lookup trace'),
    'too many lookups': (trace([item('k', 'c.yaml')] *
                               (lt.MAX_LOOKUPS + 1)),
                         'malformed lookup trace'),
    'opaque': (trace([item('k', 'c.yaml')], opaque=['file /etc/x', 'b']),
               'file /etc/x'),
    'item a dict': (trace([{'key': 'k'}]), 'malformed lookup trace'),
    'item of 3': (trace([item('k', 'c.yaml')[:3]]),
                  'malformed lookup trace'),
    'item of 5': (trace([item('k', 'c.yaml') + ['x']]),
                  'malformed lookup trace'),
    'key not a string': (trace([[1, ROOT + '/c.yaml', 'yaml_data', DHF]]),
                         'malformed lookup trace'),
    'key null': (trace([[None, ROOT + '/c.yaml', 'yaml_data', DHF]]),
                 'malformed lookup trace'),
    'path a number': (trace([['k', 7, 'yaml_data', DHF]]),
                      'malformed lookup trace'),
    'function null': (trace([['k', ROOT + '/c.yaml', None, DHF]]),
                      'malformed lookup trace'),
    'provider a list': (trace([['k', ROOT + '/c.yaml', 'yaml_data', []]]),
                        'malformed lookup trace'),
    'hocon_data': (trace([item('k', 'c.conf', 'hocon_data')]),
                   'lookup through hocon_data'),
    'eyaml_lookup_key': (trace([item('k', 'c.eyaml', 'eyaml_lookup_key')]),
                         'lookup through eyaml_lookup_key'),
    'empty function': (trace([item('k', 'c.yaml', '', 'Foo')]),
                       'lookup through Foo'),
    'other provider': (trace([item(
        'k', 'c.yaml', provider='Puppet::Pops::Lookup::LookupKeyFunction'
        'Provider')]), 'lookup through yaml_data'),
    'null path': (trace([item('k', None)]), 'lookup through yaml_data'),
    # a path no file can have: os.lstat raised ValueError after publish
    'NUL in a path': (trace([item('k', 'a\0b.yaml')]),
                      'malformed lookup trace'),
    'lone surrogate in a path': (trace([item('k', 'a\ud800.yaml')]),
                                 'malformed lookup trace'),
    'lone surrogate in a key': (trace([item('k\udfff', 'c.yaml')]),
                                'malformed lookup trace'),
    'yaml and json': (trace([item('a', 'c.data'),
                             item('b', 'c.data', 'json_data')]),
                      'c.data read as both yaml and json'),
}


@pytest.mark.parametrize('name', sorted(BAD))
def test_parse_any_doubt_is_opaque_with_a_reason(name):
    raw, reason = BAD[name]
    got = lt.parse(raw, ROOT)
    assert got.files == {}
    assert got.opaque == reason


def test_parse_opaque_even_when_lookups_outside_the_tree_are_bad():
    """A bad item is refused before the path is looked at: module data
    read through an unknown backend still makes the trace opaque."""
    raw = trace([item('k', 'x.yaml', 'hocon_data', root='/opt/data')])
    assert lt.parse(raw, ROOT).opaque == 'lookup through hocon_data'


HOSTILE = {
    'huge opaque': trace([], opaque=['x' * (8 << 20)]),
    'huge function': trace([item('k', 'c.yaml', 'f' * (4 << 20))]),
    'nested opaque': trace([], opaque=[[[[{'a': [1] * 1000}]]]]),
    'dict opaque': trace([], opaque=[{'x': None}]),
    'nested item': trace([[[[[[]]]]]]),
    'deep lookups': trace([]).replace(b'"lookups": []', b'"lookups": ' +
                                      b'[' * 900 + b']' * 900),
    'nuls': b'\x00' * 1000,
    'empty': b'',
    'null': b'null',
    'a string': b'"' + b'a' * (1 << 20) + b'"',
    'inf': b'{"format": 1e999, "root": null}',
    'surrogate': b'{"format": 1, "root": "\\ud800"}',
}


@pytest.mark.parametrize('name', sorted(HOSTILE))
def test_parse_hostile_trace_never_raises_and_bounds_its_reason(name):
    got = lt.parse(HOSTILE[name], ROOT)
    assert isinstance(got, lt.Trace)
    assert got.opaque and not got.files
    assert len(got.opaque) <= 300


def test_parse_long_key_and_extra_fields_are_fine():
    """A long key is a key (the whole trace is bounded: MAX_BYTES); a
    field parse() does not know is not an error."""
    got = lt.parse(trace([item('k' * (4 << 20), 'c.yaml')],
                         extra='y' * (1 << 20)), ROOT)
    assert not got.opaque
    assert [len(k) for k in got.files['c.yaml'][1]] == [4 << 20]


# -- fingerprints: YAML ------------------------------------------------------
def fps(tmp_path, text, keys=('tdh::a',), fmt='yaml', name='common.yaml'):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    got = fingerprints(str(tmp_path), {name: (fmt, list(keys))})
    assert list(got) == [name]
    return got[name]


def is_value(fp):
    return len(fp) == 32 and all(c in '0123456789abcdef' for c in fp)


def is_whole(fp):
    return fp.startswith('file:')


BASE = 'tdh::a: a1\ntdh::b: b1\n'


def test_yaml_looked_up_key_counts_other_key_does_not(tmp_path):
    before = fps(tmp_path, BASE, ('tdh::a', 'tdh::b'))
    assert all(is_value(v) for v in before.values())
    assert before['tdh::a'] != before['tdh::b']
    changed_a = fps(tmp_path, 'tdh::a: a2\ntdh::b: b1\n', ('tdh::a', 'tdh::b'))
    assert changed_a['tdh::a'] != before['tdh::a']
    assert changed_a['tdh::b'] == before['tdh::b']


YAML_VARIANTS = [
    'tdh::a: 1\n',
    "tdh::a: '1'\n",
    'tdh::a: "1"\n',
    'tdh::a: !!str 1\n',
    'tdh::a: !!float 1\n',
    'tdh::a: 1.00\n',
    'tdh::a: 1.0e0\n',
    'tdh::a: yes\n',
    'tdh::a: "yes"\n',
    'tdh::a: true\n',
    'tdh::a: |\n  1\n',
    'tdh::a: [1]\n',
    'tdh::a: {x: 1}\n',
    'tdh::a: !custom 1.0\n',
    'tdh::a: ~\n',
    'tdh::a:\n',
    'tdh::a: [1, 2]\n',
    'tdh::a: [2, 1]\n',
    'tdh::a: {x: 1, y: 2}\n',
    'tdh::a: {y: 2, x: 1}\n',
    'tdh::a: [[x, 1]]\n',
    'tdh::a: {x: [1]}\n',
]


@pytest.mark.parametrize('after', YAML_VARIANTS, ids=repr)
def test_yaml_every_text_ruby_may_read_differently_counts(tmp_path, after):
    """Plain 1 vs quoted '1', yes vs "yes", a tag, 1.0 vs 1.00..."""
    assert fps(tmp_path, after) != fps(tmp_path, 'tdh::a: 1.0\n')


def test_yaml_all_text_variants_are_distinct(tmp_path):
    seen = {}
    for text in YAML_VARIANTS:
        seen.setdefault(fps(tmp_path, text)['tdh::a'], []).append(text)
    assert all(len(v) == 1 for v in seen.values()), seen


@pytest.mark.parametrize('after', [
    '# a comment\ntdh::b: b1\n\n\ntdh::a: a1\n',
    'tdh::b:    b1   # other\ntdh::a: a1\nnew::key: 1\n',
    '---\ntdh::a: a1\n...\n',
    '{tdh::b: b1, tdh::a: a1}\n',
    'tdh::a:   a1\n',  # whitespace around the same value
    'tdh::a: &anchor a1\n',  # an anchor name is not a value
], ids=['comment+order', 'other key', 'document markers', 'flow style',
        'spaces', 'anchor'])
def test_yaml_formatting_and_other_keys_do_not_count(tmp_path, after):
    assert fps(tmp_path, after) == fps(tmp_path, BASE)


def test_yaml_block_and_flow_collections_are_the_same_value(tmp_path):
    block = fps(tmp_path, 'tdh::a:\n  - 1\n  - x: 2\n')
    assert fps(tmp_path, 'tdh::a: [1, {x: 2}]\n') == block
    assert fps(tmp_path, 'tdh::a: [1, {x: 3}]\n') != block


@pytest.mark.parametrize('text', ['tdh::b: 1\n', ''], ids=['other', 'empty'])
def test_missing_key_and_missing_file_are_no_key(tmp_path, text):
    assert fps(tmp_path, text) == {'tdh::a': lt.NO_KEY}
    for fmt in ('yaml', 'json'):
        assert fingerprints(str(tmp_path), {'nodes/n1.yaml': (
            fmt, ['tdh::a'])}) == {'nodes/n1.yaml': {'tdh::a': lt.NO_KEY}}


def test_yaml_comment_only_file_is_no_key(tmp_path):
    """No document: Puppet reads ``false`` and warns; no key."""
    assert fps(tmp_path, '# nothing yet\n\n') == {'tdh::a': lt.NO_KEY}


@pytest.mark.parametrize('text', ['---\n', '--- ~\n', 'null\n'])
def test_yaml_null_document_gives_the_whole_file(tmp_path, text):
    """A null document fails the lookup under ``strict = error``: not a
    file without keys."""
    assert is_whole(fps(tmp_path, text)['tdh::a'])


@pytest.mark.parametrize('key', [':tdh::a', ':"tdh::a"', ":'tdh::a'",
                                 '"tdh::a"', "'tdh::a'", '"tdh::\\x61"',
                                 '!!str tdh::a', '? tdh::a\n'])
def test_yaml_symbol_and_quoted_keys_match(tmp_path, key):
    """Puppet's yaml_data turns symbol keys into strings; a quoted or
    escaped key is the same string."""
    got = fps(tmp_path, f'{key}: v1\n')['tdh::a']
    assert is_value(got)
    assert fps(tmp_path, f'{key}: v2\n')['tdh::a'] != got


@pytest.mark.parametrize('text', [
    'base: &b {tdh::a: 1}\n<<: *b\n',
    'base: &b {tdh::a: 1}\n"<<": *b\n',  # Psych merges a quoted one too
    "base: &b {tdh::a: 1}\n'<<': [*b]\n",
    'base: &b {tdh::a: 1}\n!!merge <<: *b\n',
], ids=['plain', 'double-quoted', 'single-quoted', 'tagged'])
def test_yaml_top_level_merge_key_gives_the_whole_file(tmp_path, text):
    got = fps(tmp_path, text, ('tdh::a', 'other'))
    assert got['tdh::a'] == got['other']
    assert is_whole(got['tdh::a'])
    assert fps(tmp_path, text.replace('1}', '2}'))['tdh::a'] != got['tdh::a']


def test_yaml_binary_key_matches_any_key(tmp_path):
    """``!!binary dGRoOjph`` is the key 'tdh::a' to Ruby."""
    got = fps(tmp_path, '!!binary dGRoOjph: 1\n')['tdh::a']
    assert got != lt.NO_KEY
    assert fps(tmp_path, '!!binary dGRoOjph: 2\n')['tdh::a'] != got


def test_yaml_nested_merge_is_part_of_the_value(tmp_path):
    text = 'base: &b {x: 1}\ntdh::a:\n  <<: *b\n  y: 2\n'
    got = fps(tmp_path, text)['tdh::a']
    assert is_value(got)
    assert fps(tmp_path, text.replace('x: 1', 'x: 9'))['tdh::a'] != got


def test_yaml_changing_an_anchored_value_changes_its_alias(tmp_path):
    text = 'defaults: &d {port: 5000}\ntdh::a: *d\ntdh::b: 1\n'
    got = fps(tmp_path, text, ('tdh::a', 'tdh::b'))
    changed = fps(tmp_path, text.replace('5000', '5001'), ('tdh::a', 'tdh::b'))
    assert changed['tdh::a'] != got['tdh::a']
    assert changed['tdh::b'] == got['tdh::b']
    # the alias digests like the value written out in full
    assert fps(tmp_path, 'tdh::a: {port: 5000}\n')['tdh::a'] == got['tdh::a']


def test_yaml_alias_bomb_is_memoised(tmp_path):
    lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]']
    for i in range(1, 40):
        lines.append(f'a{i}: &a{i} [' + ', '.join([f'*a{i - 1}'] * 10) + ']')
    lines.append('tdh::a: *a39')
    text = '\n'.join(lines) + '\n'
    start = time.monotonic()
    got = fps(tmp_path, text)['tdh::a']
    assert time.monotonic() - start < 5  # 10**40 leaves if expanded
    assert is_value(got)
    assert fps(tmp_path, text.replace('lol, lol]', 'lol, LOL]')
               )['tdh::a'] != got


@pytest.mark.parametrize('text', [
    'tdh::a: &r [1, *r]\n',
    'tdh::a: &r {x: *r}\n',
    'tdh::a: &r {*r : 1}\n',
], ids=['sequence', 'mapping value', 'mapping key'])
def test_yaml_recursive_alias_terminates(tmp_path, text):
    got = fps(tmp_path, text)['tdh::a']
    assert is_value(got)
    assert fps(tmp_path, text.replace('1', '2').replace('x', 'y')
               )['tdh::a'] != got


def test_yaml_deep_nesting_gives_the_whole_file(tmp_path):
    text = 'tdh::a: ' + '[' * 50_000 + ']' * 50_000 + '\ntdh::b: 1\n'
    got = fps(tmp_path, text, ('tdh::a', 'tdh::b'))
    assert is_whole(got['tdh::a']) and got['tdh::a'] == got['tdh::b']


def test_yaml_nesting_deeper_than_the_digest_can_go(tmp_path, monkeypatch):
    """Composed, but the digest recursion fails: the whole file."""
    text = 'tdh::a: ' + '[' * 300 + ']' * 300 + '\n'
    assert is_value(fps(tmp_path, text)['tdh::a'])
    monkeypatch.setattr(lt, '_node_digest', _raise_recursion)
    assert is_whole(fps(tmp_path, text)['tdh::a'])


def _raise_recursion(node, memo):
    raise RecursionError


@pytest.mark.parametrize('text', [
    'tdh::a: [1\n',
    'tdh::a: 1\n  bad: indent\n',
    'tdh::a: 1\n--- \ntdh::a: 2\n',  # two documents
    b'tdh::a: \xff\n',
    '- tdh::a\n- 1\n',
    'just a scalar\n',
    '"tdh::a: 1"\n',
    '[tdh::a, 1]\n',
    'tdh::a: *undefined\n',
], ids=['unclosed', 'indent', 'two documents', 'not utf-8', 'a list',
        'a scalar', 'a quoted scalar', 'a flow list', 'unknown alias'])
def test_yaml_what_does_not_split_gives_the_whole_file(tmp_path, text):
    got = fps(tmp_path, text, ('tdh::a', 'tdh::b'))
    assert is_whole(got['tdh::a']) and got['tdh::a'] == got['tdh::b']
    # the whole-file digest follows every byte
    raw = text if isinstance(text, bytes) else text.encode()
    assert fps(tmp_path, raw + b'# x\n', ('tdh::a',))['tdh::a'] != \
        got['tdh::a']


@pytest.mark.parametrize('other', [
    'other: 2001-01-01',
    'other: 2001-1-1',
    'other: 2001-01-01 10:00:00',
    'other: 2001-01-01T10:00:00Z',
    'other: -2001-01-01 10:00:00',
    'other: [x, 2001-01-01]',
    '2001-01-01: x',
    'other: first line\n\n  2001-01-01',
    'other: !!timestamp 2001-01-01',
    'other: !!set {x}',
    'other: !ruby/object:Foo {}',
    'other: !!float abc',
    'other: !!str {x: 1}',
    'other: !custom x',
], ids=repr)
def test_yaml_another_key_ruby_refuses_counts(tmp_path, other):
    """Puppet's safe_load refuses the whole file (Date, Time, a class it
    does not permit, a tag whose value does not parse; checked against
    the image's Puppet 7 / Psych 4): a skip would hide a failing render,
    so every key of the file gets the whole-file digest."""
    before = fps(tmp_path, BASE)['tdh::a']
    got = fps(tmp_path, BASE + other + '\n', ('tdh::a', 'tdh::b'))
    assert is_whole(got['tdh::a']) and got['tdh::a'] != before
    assert got['tdh::a'] == got['tdh::b']


@pytest.mark.parametrize('other', [
    'other: "2001-01-01"', "other: '2001-01-01 10:00:00'",
    'other: |\n  2001-01-01', 'other: 2001-01-01x', 'other: 12:30:00',
    'other: !!str x', 'other: !!int 1', 'other: x2001-01-01',
], ids=repr)
def test_yaml_what_ruby_reads_keeps_the_keys_apart(tmp_path, other):
    before = fps(tmp_path, BASE)['tdh::a']
    assert fps(tmp_path, BASE + other + '\n')['tdh::a'] == before


def test_yaml_duplicate_keys_count_every_occurrence(tmp_path):
    text = 'tdh::a: 1\ntdh::b: x\ntdh::a: 2\n'
    got = fps(tmp_path, text)['tdh::a']
    assert fps(tmp_path, text.replace(': 1', ': 3'))['tdh::a'] != got
    assert fps(tmp_path, text.replace(': 2', ': 3'))['tdh::a'] != got
    assert fps(tmp_path, 'tdh::a: 2\n')['tdh::a'] != got
    # a symbol spelling of the same key is one more occurrence
    assert fps(tmp_path, text + ':tdh::a: 1\n')['tdh::a'] != got


def test_yaml_pure_python_loader_agrees(tmp_path, monkeypatch):
    """Without libyaml (CSafeLoader) the same nodes, the same digests."""
    import yaml
    text = ('d: &d {port: 5000}\ntdh::a: [*d, "1", 1, !!str x, |\n'
            '  text\n]\n:tdh::b: yes\n')
    fast = fps(tmp_path, text, ('tdh::a', 'tdh::b'))
    monkeypatch.delattr(yaml, 'CSafeLoader', raising=False)
    assert fps(tmp_path, text, ('tdh::a', 'tdh::b')) == fast


def test_symlink_gives_the_whole_file_and_the_link_text(tmp_path):
    (tmp_path / 'real1.yaml').write_text(BASE)
    (tmp_path / 'real2.yaml').write_text(BASE)
    os.symlink('real1.yaml', tmp_path / 'common.yaml')
    files = {'common.yaml': ('yaml', ['tdh::a', 'tdh::b'])}
    got = fingerprints(str(tmp_path), files)['common.yaml']
    assert got['tdh::a'] == got['tdh::b']
    assert got['tdh::a'].startswith('file:') and \
        got['tdh::a'].endswith(':link:real1.yaml')
    # same content through another link text: differs
    os.unlink(tmp_path / 'common.yaml')
    os.symlink('real2.yaml', tmp_path / 'common.yaml')
    other = fingerprints(str(tmp_path), files)['common.yaml']
    assert other['tdh::a'] != got['tdh::a']
    # the target's content changes (any key): differs
    (tmp_path / 'real2.yaml').write_text(BASE + 'x: 1\n')
    assert fingerprints(str(tmp_path), files)['common.yaml'][
        'tdh::a'] != other['tdh::a']


def test_dangling_symlink_and_directory_are_not_silent(tmp_path):
    os.symlink('nowhere.yaml', tmp_path / 'common.yaml')
    got = fingerprints(str(tmp_path), {'common.yaml': ('yaml', ['k'])})
    assert got['common.yaml']['k'] not in (lt.NO_KEY, '')
    (tmp_path / 'dir.yaml').mkdir()
    got = fingerprints(str(tmp_path), {'dir.yaml': ('yaml', ['k'])})
    assert got['dir.yaml']['k'].startswith('unreadable:')


def test_fingerprints_of_several_files_and_formats(tmp_path):
    (tmp_path / 'a.yaml').write_text('k: 1\n')
    (tmp_path / 'b.json').write_text('{"k": 1}')
    got = fingerprints(str(tmp_path), {'a.yaml': ('yaml', ['k']),
                                          'b.json': ('json', ['k', 'z'])})
    assert set(got) == {'a.yaml', 'b.json'}
    assert is_value(got['a.yaml']['k']) and is_value(got['b.json']['k'])
    assert got['b.json']['z'] == lt.NO_KEY


# -- fingerprints: JSON ------------------------------------------------------
JBASE = '{"tdh::j": "j1", "other": 1}'


def jfps(tmp_path, text, keys=('tdh::j',)):
    return fps(tmp_path, text, keys, fmt='json', name='svc.json')


def test_json_value_change_counts_other_key_does_not(tmp_path):
    got = jfps(tmp_path, JBASE, ('tdh::j', 'other'))
    assert all(is_value(v) for v in got.values())
    changed = jfps(tmp_path, '{"tdh::j": "j2", "other": 1}',
                   ('tdh::j', 'other'))
    assert changed['tdh::j'] != got['tdh::j']
    assert changed['other'] == got['other']


@pytest.mark.parametrize('after', [
    '{"other": 2, "tdh::j": "j1"}',
    '{\n  "tdh::j" : "j1",\n\n  "other": 1,\n  "new": [1, 2]\n}\n',
    '{"tdh::j": "\\u006a1", "other": 1}',
], ids=['other key and order', 'formatting', 'escape'])
def test_json_formatting_and_other_keys_do_not_count(tmp_path, after):
    assert jfps(tmp_path, after) == jfps(tmp_path, JBASE)


JSON_VARIANTS = [
    '{"tdh::j": 1}', '{"tdh::j": 1.0}', '{"tdh::j": "1"}', '{"tdh::j": true}',
    '{"tdh::j": null}', '{"tdh::j": []}', '{"tdh::j": {}}',
    '{"tdh::j": [["x", 1]]}', '{"tdh::j": {"x": 1}}', '{"tdh::j": [1, 2]}',
    '{"tdh::j": [2, 1]}', '{"tdh::j": {"x": 1, "y": 2}}',
    '{"tdh::j": {"y": 2, "x": 1}}', '{"tdh::j": {"": [["x", 1]]}}',
    '{"tdh::j": [{"": [["x", 1]]}]}', '{"tdh::j": -0.0}', '{"tdh::j": 0}',
    '{"tdh::j": "j1"}',
]


def test_json_values_ruby_reads_differently_are_all_distinct(tmp_path):
    """An object is not the array of its pairs (``{"x": 1}`` vs
    ``[["x", 1]]``), 1 is not 1.0 nor "1"; order counts."""
    seen = {}
    for text in JSON_VARIANTS:
        seen.setdefault(jfps(tmp_path, text)['tdh::j'], []).append(text)
    assert all(len(v) == 1 for v in seen.values()), seen


def test_json_duplicate_keys_count_every_occurrence(tmp_path):
    text = '{"tdh::j": 1, "x": 0, "tdh::j": 2}'
    got = jfps(tmp_path, text)['tdh::j']
    assert jfps(tmp_path, text.replace(': 1', ': 3'))['tdh::j'] != got
    assert jfps(tmp_path, text.replace(': 2', ': 3'))['tdh::j'] != got
    assert jfps(tmp_path, '{"tdh::j": 2}')['tdh::j'] != got


@pytest.mark.parametrize('text', [
    '[]', '[["tdh::j", "j1"]]', '[{"tdh::j": "j1"}]', '"tdh::j"', '1',
    'null', '{"tdh::j": ', '{"tdh::j": 1} x', b'{"tdh::j": "\xff"}',
    '\ufeff{"tdh::j": 1}', '{"tdh::j": 1 /* c */}',
    '{"tdh::j": ' + '[' * 50_000 + ']' * 50_000 + '}',
    '{"tdh::j": ' + '9' * 5000 + '}',
], ids=['empty array', 'array of pairs', 'array of objects', 'string',
        'number', 'null', 'unclosed', 'trailing', 'not utf-8', 'bom',
        'comment', 'deep', 'huge int'])
def test_json_what_does_not_split_gives_the_whole_file(tmp_path, text):
    got = jfps(tmp_path, text, ('tdh::j', 'other'))
    assert is_whole(got['tdh::j']) and got['tdh::j'] == got['other']


@pytest.mark.parametrize('other', [
    'NaN', 'Infinity', '-Infinity', '"\\ud800"', '"\\udfff x"',
    '[' * 100 + ']' * 100,
    '{"x": ' * 100 + '1' + '}' * 100,
], ids=['NaN', 'Infinity', '-Infinity', 'lone surrogate', 'low surrogate',
        'nesting 101', 'objects 101'])
def test_json_another_key_ruby_refuses_counts(tmp_path, other):
    """Ruby's JSON refuses NaN, Infinity, a lone surrogate and nesting
    deeper than 100 (checked against the image's Puppet): the whole
    file."""
    before = jfps(tmp_path, JBASE)['tdh::j']
    got = jfps(tmp_path, JBASE[:-1] + f', "z": {other}}}', ('tdh::j', 'z'))
    assert is_whole(got['tdh::j']) and got['tdh::j'] != before
    assert got['tdh::j'] == got['z']


@pytest.mark.parametrize('other', [
    '[' * 99 + ']' * 99, '{"x": ' * 99 + '1' + '}' * 99,
    '"[[[[\\"' + '[' * 200 + '"', '1e400', '"\\u00e9"',
], ids=['nesting 100', 'objects 100', 'brackets in a string', 'huge float',
        'escape'])
def test_json_what_ruby_reads_keeps_the_keys_apart(tmp_path, other):
    before = jfps(tmp_path, JBASE)['tdh::j']
    got = jfps(tmp_path, JBASE[:-1] + f', "z": {other}}}', ('tdh::j', 'z'))
    assert got['tdh::j'] == before and is_value(got['z'])


def test_json_empty_object_is_no_key_and_differs_from_an_array(tmp_path):
    """``{}`` is an empty hash to Puppet; ``[]`` is no hash at all (the
    lookup fails), so it must not look unchanged."""
    assert jfps(tmp_path, '{}') == {'tdh::j': lt.NO_KEY}
    assert jfps(tmp_path, '[]')['tdh::j'] != lt.NO_KEY


# -- copyout.read_file -------------------------------------------------------
def tar_of(*members, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def reg(name='lookups.json', data=b'{"format": 1}'):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name, kind, linkname=''):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def chunks(raw, size=7):
    return (raw[i:i + size] for i in range(0, len(raw), size))


def test_read_file_returns_the_one_regular_file():
    data = b'{"format": 1, "lookups": []}\n' * 100
    assert copyout.read_file(chunks(tar_of(reg(data=data))), 1 << 20) == data
    assert copyout.read_file([tar_of(reg(data=b''))], 10) == b''


def test_read_file_at_and_over_the_limit():
    data = b'x' * 1000
    assert copyout.read_file([tar_of(reg(data=data))], 1000) == data
    assert copyout.read_file([tar_of(reg(data=data))], 999) is None


def test_read_file_over_the_limit_stops_reading():
    """A huge member is refused from its header, not read."""
    info = tarfile.TarInfo('lookups.json')
    info.size = 10 << 30
    head = info.tobuf(tarfile.GNU_FORMAT)
    consumed = []

    def endless():
        yield head
        while True:
            consumed.append(1)
            if len(consumed) > 100:
                raise AssertionError('read past the header')
            yield b'x' * 65536
    assert copyout.read_file(endless(), 1 << 20) is None


@pytest.mark.parametrize('member', [
    special('lookups.json', tarfile.SYMTYPE, '/etc/shadow'),
    special('lookups.json', tarfile.LNKTYPE, 'other'),
    special('lookups.json', tarfile.DIRTYPE),
    special('lookups.json', tarfile.FIFOTYPE),
    special('lookups.json', tarfile.CHRTYPE),
], ids=['symlink', 'hardlink', 'dir', 'fifo', 'chardev'])
def test_read_file_refuses_anything_but_a_regular_file(member):
    assert copyout.read_file([tar_of(member)], 1 << 20) is None


def test_read_file_refuses_two_members():
    assert copyout.read_file([tar_of(reg(), reg('b'))], 1 << 20) is None
    assert copyout.read_file([tar_of(
        reg(), special('x', tarfile.SYMTYPE, 'y'))], 1 << 20) is None
    # a hard link to the first member is one more member too
    assert copyout.read_file([tar_of(
        reg(), special('b', tarfile.LNKTYPE, 'lookups.json'))],
        1 << 20) is None


@pytest.mark.parametrize('raw', [
    b'', b'not a tar stream at all' * 100, b'\0' * 10240,
    json.dumps({'format': 1}).encode(),
], ids=['empty', 'text', 'zero blocks', 'bare json'])
def test_read_file_refuses_what_is_not_an_archive_of_a_file(raw):
    assert copyout.read_file([raw], 1 << 20) is None


def test_read_file_truncated_member_is_none():
    raw = tar_of(reg(data=b'y' * 5000))
    assert copyout.read_file([raw[:1024]], 1 << 20) is None


def test_read_file_stream_error_is_none():
    def broken():
        yield tar_of(reg(data=b'y' * 5000))[:600]
        raise OSError('connection reset')
    assert copyout.read_file(broken(), 1 << 20) is None


def test_read_file_round_trips_through_parse(tmp_path):
    """What puppet._lookups does with an engine's archive."""
    raw = trace([item('tdh::a', 'common.yaml')])
    got = lt.parse(copyout.read_file(chunks(tar_of(reg(data=raw)), 100),
                                     lt.MAX_BYTES), ROOT)
    assert got.files == {'common.yaml': ('yaml', ('tdh::a',))}


# -- the tracer's own text ---------------------------------------------------
def test_script_is_written_once_and_named_by_content(tmp_path):
    state = str(tmp_path / 'state')
    os.makedirs(os.path.join(state, 'puppet'))  # puppet.render makes it
    path = lt.ensure_script(state)
    assert path == lt.script_path(state)
    with open(path, 'rb') as f:
        assert f.read() == lt.RUBY.encode()
    mtime = os.stat(path).st_mtime_ns
    os.utime(path, ns=(1, 1))
    assert lt.ensure_script(state) == path
    assert os.stat(path).st_mtime_ns == 1  # not rewritten
    with open(path, 'w') as f:
        f.write('tampered')
    lt.ensure_script(state)
    with open(path, 'rb') as f:
        assert f.read() == lt.RUBY.encode()
    assert mtime


def test_environment_loads_the_tracer():
    env = dict(lt.environment(ROOT))
    assert env == {'RUBYOPT': f'-r{lt.SCRIPT_TARGET}',
                   'TDH_LOOKUP_TRACE': lt.OUTPUT, 'TDH_HIERADATA': ROOT}


def test_tracer_and_parser_agree_on_the_format():
    """The Ruby writes what parse() reads: format, field names, bound,
    the providers and functions it names."""
    assert "'format' => 1" in lt.RUBY and lt.FORMAT == 1
    for field in ('root', 'lookups', 'opaque'):
        assert f"'{field}' =>" in lt.RUBY
    assert f'MAX = {lt.MAX_LOOKUPS:_}' in lt.RUBY
    assert 'L::DataHashFunctionProvider.prepend' in lt.RUBY
    assert all(p.startswith('Puppet::Pops::Lookup::') for p in lt.PROVIDERS)
    for function in lt.UNDERSTOOD:
        assert f'/puppet/functions/{function}.rb' in lt.RUBY


# -- review: one parse per content, bounded reads ----------------------------
def test_values_parse_each_content_once(tmp_path, monkeypatch):
    """Every volume of a run reads the same data files: each content is
    parsed once, whatever keys each volume asks for; new bytes are parsed
    again."""
    parsed = []
    real = lt._yaml_values
    monkeypatch.setattr(lt, '_yaml_values',
                        lambda data: parsed.append(data) or real(data))
    path = tmp_path / 'common.yaml'
    path.write_text('a: 1\nb: [2]\n:c: 3\n')
    values = lt.Values()
    first = values.read(str(tmp_path), 'common.yaml', 'yaml', ['a', 'x'])
    second = values.read(str(tmp_path), 'common.yaml', 'yaml', ['b', 'c'])
    assert len(parsed) == 1
    assert first.content == second.content == hashlib.sha256(
        path.read_bytes()).hexdigest()
    assert first.keys['x'] == lt.NO_KEY and second.keys['c'] != lt.NO_KEY
    # the same answers as a fresh read of each key set
    assert first.keys == fingerprints(
        str(tmp_path), {'common.yaml': ('yaml', ['a', 'x'])})['common.yaml']
    parsed.clear()
    path.write_text('a: 2\n')
    again = values.read(str(tmp_path), 'common.yaml', 'yaml', ['a'])
    assert len(parsed) == 1 and again.keys['a'] != first.keys['a']


@pytest.mark.parametrize('kind', ['fifo', 'link to a fifo', 'link to a dir'])
def test_what_is_no_regular_file_is_never_read(tmp_path, kind):
    """A FIFO (or a link to one) in the hieradata tree named by a trace:
    open() without O_NONBLOCK waited for a writer forever."""
    os.mkfifo(tmp_path / 'pipe')
    (tmp_path / 'dir').mkdir()
    rel = 'pipe'
    if kind != 'fifo':
        rel = 'common.yaml'
        os.symlink('pipe' if kind == 'link to a fifo' else 'dir',
                   tmp_path / rel)
    got = lt.Values().read(str(tmp_path), rel, 'yaml', ['k'])
    assert got.keys['k'] not in (lt.NO_KEY, '') and not is_value(
        got.keys['k'])


def test_a_hostile_trace_path_never_raises_out_of_the_render_cache(
        tmp_path):
    """Whatever path a trace names, reading its keys gives fingerprints
    (the render cache reads them after the volume was published)."""
    for rel in ('a\0b.yaml', 'a\ud800.yaml', 'x' * 5000):
        got = lt.Values().read(str(tmp_path), rel, 'yaml', ['k'])
        assert got.keys['k'] != ''
