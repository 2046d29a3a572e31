"""Options: the generated sample is current; the environment source works."""

import os

from oslo_config import cfg

from tripleo_docker_hook import opts

SAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                      'tripleo-docker-hook.conf.sample')


def test_sample_lists_every_option_with_its_default():
    with open(SAMPLE) as f:
        text = f.read()
    for group, options in opts.list_opts():
        assert f'[{group}]' in text
        for opt in options:
            default = opt.default
            if isinstance(default, list):
                default = ','.join(default)
            elif isinstance(default, bool):
                default = str(default).lower()
            shown = '<None>' if default is None else default
            assert f'#{opt.dest} = {shown}'.rstrip() in text, \
                f'{group}.{opt.dest}: run tox -e genconfig'


def test_environment_overrides_file(tmp_path, monkeypatch):
    conf_file = tmp_path / 'hook.conf'
    conf_file.write_text('[DEFAULT]\nstate_dir = /from/file\nworkers = 3\n'
                         '[puppet]\nworkers = 5\n')
    monkeypatch.setenv('TRIPLEO_DOCKER_HOOK_CONFIG', str(conf_file))
    monkeypatch.setenv('OS_DEFAULT__STATE_DIR', '/srv/hook-state')
    monkeypatch.setenv('OS_PUPPET__WORKERS', '2')
    conf = opts.load([], conf=cfg.ConfigOpts())
    assert conf.state_dir == '/srv/hook-state'
    assert conf.workers == 3
    assert conf.puppet.workers == 2


def test_missing_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv('TRIPLEO_DOCKER_HOOK_CONFIG', str(tmp_path / 'none'))
    monkeypatch.delenv('OS_DEFAULT__STATE_DIR', raising=False)
    conf = opts.load([], conf=cfg.ConfigOpts())
    assert conf.state_dir == '/var/lib/tripleo-docker-hook'
    assert conf.config_data_dir == '/var/lib/config-data'
