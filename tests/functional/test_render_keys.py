"""Per-key hieradata against the real engine and real Puppet (issue 14).

Puppet's own lookups decide which volumes a hieradata change renders: the
hook loads a tracer into each config run and compares only the keys a
volume looked up (:mod:`tripleo_docker_hook.lookup_trace`).  Four volumes
read one hierarchy (a node file that does not exist yet, ``common.yaml``,
``svc.json``): ``a`` one key, ``b`` a key whose value interpolates
another, ``j`` a key of the JSON file, ``f`` the YAML file through
``file()`` (which no lookup shows: it depends on the whole tree).  Config
containers are counted from the engine's event stream.
"""

import os
import pathlib
import socket
import time

import pytest

from tests import helpers
from tests.functional import test_render_cache as rc

HIERA = """---
version: 5
defaults:
  datadir: {datadir}
  data_hash: yaml_data
hierarchy:
  - name: node
    path: "nodes/%{{::hostname}}.yaml"
  - name: common
    path: common.yaml
  - name: services
    path: svc.json
    data_hash: json_data
"""

COMMON = """tdh::a: a1
tdh::b: "b-%{{hiera('tdh::c')}}"
tdh::c: c1
tdh::unused: {unused}
"""


#: What Puppet and Ruby do inside the config container is the same on
#: either engine: the tests of the tracer itself run on Docker only, the
#: main one (mount, environment, the trace read back through the archive
#: API) on both.
puppet_only = pytest.mark.skipif(
    helpers.ENGINE == 'podman',
    reason='tracer behaviour inside Puppet, engine-independent: covered '
    'by tox -e functional; the podman run keeps '
    'test_a_hieradata_change_renders_only_the_volumes_that_read_it')


def _lookup(volume, key):
    return (f"file {{ '/etc/{volume}.conf':\n"
            f"  content => \"${{lookup('{key}')}}\\n\" }}\n")


MANIFESTS = {
    'a': _lookup('a', 'tdh::a'),
    'b': _lookup('b', 'tdh::b'),
    'j': _lookup('j', 'tdh::j'),
    'f': None,  # set in the test: it names the hieradata path
}


def _config(deployment, manifests):
    return {'puppet_config': [
        {'config_volume': f'{deployment}-{v}', 'config_image': helpers.PUPPET,
         'step_config': manifests[v]} for v in sorted(manifests)]}


def _run(docker_api, deployment, manifests, hook_env):
    start = time.time()
    doc = helpers.make_doc(deployment, _config(deployment, manifests))
    answer, rc_, _ = helpers.run_hook(doc, env=hook_env)
    assert rc_ == 0, answer
    return answer['deploy_stdout'], rc._created(docker_api, deployment,
                                                start, time.time())


def _published(hook_env, deployment, volume):
    return rc._published(hook_env, deployment, volume).strip()


def test_a_hieradata_change_renders_only_the_volumes_that_read_it(
        docker_api, deployment, hook_env, tmp_path):
    conf = helpers.write_puppet_conf(tmp_path, hook_env,
                                     COMMON.format(unused=1))
    hieradata = tmp_path / 'hieradata'
    (tmp_path / 'hiera.yaml').write_text(HIERA.format(datadir=hieradata))
    (hieradata / 'svc.json').write_text('{"tdh::j": "j1", "other": 1}')
    env = dict(hook_env, TRIPLEO_DOCKER_HOOK_CONFIG=str(conf))
    common = hieradata / 'common.yaml'
    manifests = dict(MANIFESTS, f=(
        f"file {{ '/etc/f.conf': content => file('{common}') }}\n"))

    def run():
        return _run(docker_api, deployment, manifests, env)

    def says(out, volume, text):
        assert f'{deployment}-{volume}: {text}' in out, out

    out, created = run()
    assert created == ['a', 'b', 'f', 'j'], out
    assert [_published(env, deployment, v) for v in 'abj'] == [
        'a1', 'b-c1', 'j1']

    # A key nobody looks up: only f (file() reads the whole file) renders;
    # the others say why they did not.
    common.write_text(COMMON.format(unused=2))
    out, created = run()
    assert created == ['f'], out
    # f says why it depends on the whole tree: Puppet's file() read it.
    says(out, 'f', 'hieradata changed: common.yaml (keys not traced: ')
    assert str(common) in out.split(f'render {deployment}-f: ')[1].split(
        '\n')[0], out
    for v in 'abj':
        says(out, v, 'inputs unchanged, render skipped (hieradata changed '
             '(common.yaml), not the keys it looks up)')
    # ... and the next run skips without comparing keys again.
    out, created = run()
    assert created == [], out
    for v in 'abfj':
        says(out, v, 'inputs unchanged, render skipped\n')

    # A key read only through another key's interpolation: b (and f).
    common.write_text(COMMON.format(unused=2).replace('c1', 'c2'))
    out, created = run()
    assert created == ['b', 'f'], out
    says(out, 'b', 'hieradata changed: common.yaml: tdh::c')
    assert _published(env, deployment, 'b') == 'b-c2'

    # A key of the JSON file: j (and f: the whole tree counts for it).
    (hieradata / 'svc.json').write_text('{"tdh::j": "j2", "other": 1}')
    out, created = run()
    assert created == ['f', 'j'], out
    says(out, 'j', 'hieradata changed: svc.json: tdh::j')
    assert _published(env, deployment, 'j') == 'j2'
    # Another key of it, and formatting: nothing but f.
    (hieradata / 'svc.json').write_text(
        '{\n  "tdh::j": "j2",\n  "other": 2\n}\n')
    out, created = run()
    assert created == ['f'], out

    # A hierarchy level that did not exist now overrides a's key: a file
    # Puppet looked for and did not find counts too.
    (hieradata / 'nodes').mkdir()
    node = hieradata / 'nodes' / f'{socket.gethostname().split(".")[0]}.yaml'
    node.write_text('tdh::a: a-node\n')
    out, created = run()
    assert created == ['a', 'f'], out
    says(out, 'a', f'hieradata changed: nodes/{node.name}: tdh::a')
    assert _published(env, deployment, 'a') == 'a-node'
    # Deleting it is a change again.
    os.unlink(node)
    out, created = run()
    assert created == ['a', 'f'], out
    assert _published(env, deployment, 'a') == 'a1'


@puppet_only
def test_lookup_tracing_off_renders_every_reader(docker_api, deployment,
                                                 hook_env, tmp_path):
    """``[puppet] trace_lookups = false``: the whole tree counts again."""
    conf = helpers.write_puppet_conf(tmp_path, hook_env,
                                     COMMON.format(unused=1),
                                     puppet__trace_lookups='false')
    hieradata = tmp_path / 'hieradata'
    (tmp_path / 'hiera.yaml').write_text(HIERA.format(datadir=hieradata))
    (hieradata / 'svc.json').write_text('{"tdh::j": "j1"}')
    env = dict(hook_env, TRIPLEO_DOCKER_HOOK_CONFIG=str(conf))
    manifests = {'a': MANIFESTS['a'], 'j': MANIFESTS['j']}
    out, created = _run(docker_api, deployment, manifests, env)
    assert created == ['a', 'j'], out
    (hieradata / 'common.yaml').write_text(COMMON.format(unused=2))
    out, created = _run(docker_api, deployment, manifests, env)
    assert created == ['a', 'j'], out
    assert f'render {deployment}-j: hieradata changed: common.yaml' in out


def _template(volume, ruby):
    """A config file whose content is what ``ruby`` returns in a template
    (single-quoted in Puppet: no interpolation)."""
    code = f'<%= {ruby} %>'.replace('\\', '\\\\').replace("'", "\\'")
    return (f"file {{ '/etc/{volume}.conf':\n"
            f"  content => inline_template('{code}') }}\n")


@puppet_only
def test_what_hiera_does_not_show_still_renders(docker_api, deployment,
                                                hook_env, tmp_path):
    """Holes an adversarial review found in the tracer, each one a volume
    whose output depends on hieradata that the trace did not show, so a
    change of it was skipped:

    * ``p``: a subprocess through a ``'|cmd'`` read (``IO.read``), which
      Ruby starts without ``Process.spawn``;
    * ``o``: ``Kernel.open(path)`` (only ``open(path)`` was hooked);
    * ``g``: a glob whose fixed prefix ends inside a name
      (``.../hierad*/*.yaml``: the prefix was not under the tree);
    * ``f``: a custom fact (in ``modules_dir``) that runs ``cat`` on a
      hieradata file: every subprocess under Facter was trusted;
    * ``m``: module data whose ``data`` directory is a symlink into the
      tree: the data file's path was outside it, so its key was not
      compared (this one stays per-key: it renders only for its key).

    ``k`` looks up one key and opens a file with open-uri: it still
    skips what it does not read (stdlib's ``root_home`` fact runs
    ``getent``, a harmless Facter subprocess), and ``URI.open`` of a path
    works under the tracer (it failed: the tracer made every object
    answer ``respond_to?(:open)``).
    """
    conf = helpers.write_puppet_conf(tmp_path, hook_env,
                                     COMMON.format(unused=1))
    hieradata = tmp_path / 'hieradata'
    (tmp_path / 'hiera.yaml').write_text(HIERA.format(datadir=hieradata))
    (hieradata / 'svc.json').write_text('{"tdh::j": "j1"}')
    (hieradata / 'tdhm.yaml').write_text('tdhm::x: m1\n')
    common = hieradata / 'common.yaml'
    modules = tmp_path / 'modules'
    fact = modules / 'tdhf' / 'lib' / 'facter'
    fact.mkdir(parents=True)
    (fact / 'tdh_hd.rb').write_text(
        "Facter.add(:tdh_hd) do\n"
        f"  confine {{ ENV['NAME'] == '{deployment}-f' }}\n"
        f"  setcode 'cat {common}'\n"
        "end\n")
    module = modules / 'tdhm'
    (module / 'manifests').mkdir(parents=True)
    (module / 'manifests' / 'init.pp').write_text(
        "class tdhm($x) {\n"
        "  file { '/etc/m.conf': content => \"${x}\\n\" }\n}\n")
    (module / 'hiera.yaml').write_text(
        'version: 5\ndefaults: {datadir: data, data_hash: yaml_data}\n'
        'hierarchy: [{name: m, path: tdhm.yaml}]\n')
    os.symlink(hieradata, module / 'data')
    env = dict(hook_env, TRIPLEO_DOCKER_HOOK_CONFIG=str(conf))
    manifests = {
        'k': ("$u = inline_template(\"<%= require 'open-uri'; "
              "URI.open('/etc/os-release').read.empty? %>\")\n"
              "file { '/etc/k.conf': content => \"${lookup('tdh::a')} "
              "${u}\\n\" }\n"),
        'p': _template('p', f"IO.read('|cat {common}')"),
        'o': _template('o', f"Kernel.open('{common}').read"),
        'g': _template('g', f"Dir.glob('{tmp_path}/hierad*/*.yaml')"
                            ".sort.join(',')"),
        'f': "file { '/etc/f.conf': content => \"${facts['tdh_hd']}\" }\n",
        'm': 'include tdhm\n',
    }

    def run():
        return _run(docker_api, deployment, manifests, env)

    out, created = run()
    assert created == ['f', 'g', 'k', 'm', 'o', 'p'], out
    assert _published(env, deployment, 'k') == 'a1 false'
    assert 'tdh::unused: 1' in _published(env, deployment, 'f')
    assert _published(env, deployment, 'm') == 'm1'

    # A key nobody looks up, and a new file: every volume that read the
    # tree outside hiera renders; k and m do not.
    common.write_text(COMMON.format(unused=2))
    (hieradata / 'extra.yaml').write_text('other: 1\n')
    out, created = run()
    assert created == ['f', 'g', 'o', 'p'], out
    assert 'tdh::unused: 2' in _published(env, deployment, 'f')
    assert 'tdh::unused: 2' in _published(env, deployment, 'p')
    # p says which program it ran, never its arguments (they may hold a
    # secret; the reason reaches deploy_stdout).
    line = out.split(f'render {deployment}-p: ')[1].split('\n')[0]
    assert '(keys not traced: ' in line and ' cat)' in line, line
    assert str(common) not in line, line
    assert 'extra.yaml' in _published(env, deployment, 'g')

    # The module's key, changed in the file its data directory links to.
    (hieradata / 'tdhm.yaml').write_text('tdhm::x: m2\n')
    out, created = run()
    assert sorted(set(created) - {'f', 'g', 'o', 'p'}) == ['m'], out
    assert f'render {deployment}-m: hieradata changed: tdhm.yaml: ' \
        'tdhm::x' in out, out
    assert _published(env, deployment, 'm') == 'm2'


@pytest.fixture
def etc_puppet_hieradata(deployment):
    """A hieradata dir under /etc/puppet on the host, as on a real node
    (created for the test, removed after it, /etc/puppet too if the test
    made it; nothing that was there before)."""
    with helpers.new_dir(f'/etc/puppet/{deployment}',
                         parents=('/etc/puppet',)) as path:
        root = pathlib.Path(path, 'hieradata')
        root.mkdir()
        yield root


@puppet_only
def test_a_node_path_under_etc_puppet_is_traced(
        docker_api, deployment, hook_env, tmp_path, etc_puppet_hieradata):
    """Puppet and Facter probe /etc and /etc/puppet in every run: the
    tracer counted those probes of the tree's ancestors as reads of the
    tree, so with TripleO's /etc/puppet/hieradata every trace was opaque
    and every hieradata change rendered every volume."""
    hieradata = etc_puppet_hieradata
    (tmp_path / 'modules').mkdir()
    (tmp_path / 'hiera.yaml').write_text(HIERA.format(datadir=hieradata))
    conf = helpers.write_conf(
        tmp_path / 'hook.conf', state_dir=hook_env['TDH_STATE_DIR'],
        config_data_dir=hook_env['TDH_CONFIG_DATA_DIR'],
        kolla_config_dir=hook_env['TDH_KOLLA_CONFIG_DIR'],
        puppet__modules_dir=tmp_path / 'modules',
        puppet__hieradata_dir=hieradata,
        puppet__hiera_config=tmp_path / 'hiera.yaml')
    common = hieradata / 'common.yaml'
    common.write_text(COMMON.format(unused=1))
    env = dict(hook_env, TRIPLEO_DOCKER_HOOK_CONFIG=str(conf))
    manifests = {'a': MANIFESTS['a']}
    out, created = _run(docker_api, deployment, manifests, env)
    assert created == ['a'], out
    assert _published(env, deployment, 'a') == 'a1'
    common.write_text(COMMON.format(unused=2))
    out, created = _run(docker_api, deployment, manifests, env)
    assert created == [], out
    assert f'{deployment}-a: inputs unchanged, render skipped (hieradata ' \
        'changed (common.yaml), not the keys it looks up)' in out, out
