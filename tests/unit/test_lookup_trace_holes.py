"""Inputs an adversarial review found the per-key hieradata cache got
wrong (issue 14), kept as tests of the pure parts.  The tracer's holes
(reads, probes and subprocesses it did not see) are proven against real
Puppet in ``tests/functional/test_render_keys.py``.
"""

import json
import os

from tripleo_docker_hook import lookup_trace as lt
from tripleo_docker_hook import render_cache

ROOT = '/etc/puppet/hieradata'
DHF = 'Puppet::Pops::Lookup::DataHashFunctionProvider'


def trace(*paths):
    return json.dumps({'format': 1, 'root': ROOT, 'opaque': [],
                       'lookups': [['k', p, 'yaml_data', DHF]
                                   for p in paths]}).encode()


def test_a_datadir_written_with_a_leading_double_slash_is_the_tree():
    # '//etc/...' is '/etc/...' to the kernel; posixpath.normpath keeps
    # the two slashes, so the lookup was taken for one outside the tree
    # and its key was never compared.
    got = lt.parse(trace('//etc/puppet/hieradata/common.yaml'), ROOT)
    assert got == lt.Trace({'common.yaml': ('yaml', ('k',))})


def test_dot_dot_into_the_tree_is_opaque():
    # 'nodes/../common.yaml' does not exist while nodes/ does not: Puppet
    # found nothing where normpath says common.yaml (with its key) is,
    # and creating nodes/ later changes what Puppet reads.
    for path in (f'{ROOT}/nodes/../common.yaml',
                 '/etc/puppet/other/../hieradata/common.yaml'):
        got = lt.parse(trace(path), ROOT)
        assert got.opaque.startswith('lookup in '), path


def test_dot_dot_that_stays_outside_the_tree_is_ignored():
    got = lt.parse(trace('/etc/puppet/modules/m/../n/data/x.yaml'), ROOT)
    assert got == lt.Trace({})


def test_the_tree_under_another_name_in_proc_is_opaque():
    for path in ('/proc/self/root/etc/puppet/hieradata/common.yaml',
                 '/proc/1/cwd/common.yaml'):
        assert lt.parse(trace(path), ROOT).opaque.startswith('lookup in ')


def test_a_module_data_file_linked_into_the_tree_counts_its_target():
    # The tracer reports a data file reached through a symlink twice: as
    # hiera named it and by its real path.
    got = lt.parse(trace('/etc/puppet/modules/m/data/common.yaml',
                         f'{ROOT}/common.yaml'), ROOT)
    assert got == lt.Trace({'common.yaml': ('yaml', ('k',))})


def test_tracer_keeps_kernel_hooks_private():
    # Public Kernel#open made every object respond_to?(:open): open-uri's
    # URI.open('/a/path') then called "path".open and failed.
    assert "private(:open) if private" in lt.RUBY
    assert "private(*names) if private" in lt.RUBY
    assert 'Kernel.prepend(spawning(true), opening(true))' in lt.RUBY


def _tree_changes(tmp_path, root):
    cache = str(tmp_path / 'cache')
    first = render_cache.TreeCache(cache, root)
    before = first.digest()[0]
    first.save()
    return before, lambda: render_cache.TreeCache(cache, root).digest()


def test_a_hieradata_dir_that_is_a_symlink_is_walked(tmp_path):
    # The walk took the link's text for the whole tree: no hieradata
    # change was ever seen through a linked hieradata_dir.
    real = tmp_path / 'real'
    real.mkdir()
    (real / 'common.yaml').write_text('a: 1\n')
    os.symlink(real, tmp_path / 'hieradata')
    before, now = _tree_changes(tmp_path, str(tmp_path / 'hieradata'))
    (real / 'common.yaml').write_text('a: 2\n')
    digest, changed = now()
    assert digest != before
    assert changed == ['common.yaml']


def test_a_hiera_config_that_is_a_symlink_is_read(tmp_path):
    (tmp_path / 'hiera-real.yaml').write_text('version: 5\n')
    os.symlink(tmp_path / 'hiera-real.yaml', tmp_path / 'hiera.yaml')
    before, now = _tree_changes(tmp_path, str(tmp_path / 'hiera.yaml'))
    (tmp_path / 'hiera-real.yaml').write_text('version: 5\nhierarchy: []\n')
    assert now()[0] != before


def test_a_dangling_root_link_is_still_a_state(tmp_path):
    os.symlink(tmp_path / 'nowhere', tmp_path / 'hieradata')
    before, now = _tree_changes(tmp_path, str(tmp_path / 'hieradata'))
    assert before != 'absent'
    os.unlink(tmp_path / 'hieradata')
    os.symlink(tmp_path / 'elsewhere', tmp_path / 'hieradata')
    assert now()[0] != before
