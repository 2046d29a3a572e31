"""Masking of secrets, and the answer's shape and size cap."""

import json
import logging

import pytest

from tripleo_docker_hook import document
from tripleo_docker_hook.masking import Masker, MaskingFilter
from tripleo_docker_hook.report import Report, ReportHandler


def test_longest_secret_masked_whole():
    m = Masker(['abc', 'abcdef'])
    assert m.mask('x abcdef y abc') == 'x *** y ***'


def test_environment_values_by_key_and_length():
    m = Masker()
    m.add_environment([('DB_PASSWORD', 'pw'), ('DEBUG', 'True'),
                       ('KOLLA_CONFIG_STRATEGY', 'COPY_ALWAYS')])
    assert m.mask('pw True COPY_ALWAYS') == '*** True ***'


def test_regex_characters_in_secrets():
    m = Masker(['a.b*c', '(x)'])
    assert m.mask('a.b*c axbbc (x)') == '*** axbbc ***'


def test_logging_filter_masks_args_and_tracebacks():
    m = Masker(['SENTINEL-1'])
    record = logging.LogRecord('t', logging.ERROR, __file__, 1,
                               'value %s', ('SENTINEL-1',), None)
    try:
        raise RuntimeError('boom SENTINEL-1')
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    MaskingFilter(m).filter(record)
    text = logging.Formatter().format(record)
    assert 'SENTINEL' not in text
    assert 'value ***' in text and 'boom ***' in text


def test_answer_caps_head_and_keeps_status():
    r = Report(Masker(['s3cr3t']), max_bytes=1024)
    for i in range(500):
        r.info(f'line {i} s3cr3t')
    r.fail('it broke', 4)
    answer = json.loads(r.dumps())
    assert answer['deploy_status_code'] == 4
    assert len(answer['deploy_stdout'].encode()) < 1100
    assert answer['deploy_stdout'].startswith('[... ')
    assert answer['deploy_stdout'].rstrip().endswith('line 499 ***')
    assert 's3cr3t' not in json.dumps(answer)


def test_declared_outputs():
    r = Report(Masker(['pw']))
    r.outputs['result'] = 'got pw'
    declared = (document.Output('result'), document.Output('err', True),
                document.Output('unknown'))
    assert r.answer(declared)['result'] == 'got ***'
    assert 'err' not in r.answer(declared)
    r.fail('bad')
    assert r.answer(declared)['err'] == 'bad'


def test_report_handler_collects_warnings_only():
    r = Report(Masker())
    log = logging.getLogger('tdh-test-report')
    log.propagate = False
    handler = ReportHandler(r)
    log.addHandler(handler)
    try:
        log.info('quiet')
        log.warning('careful')
    finally:
        log.removeHandler(handler)
    assert r.stderr == ['WARNING: careful']


def test_secret_command_line_options():
    from tripleo_docker_hook import masking
    argv = ['keystone-manage', 'bootstrap', '--bootstrap-password', 's1',
            '--token=t1', '--debug', '--passwd', '--other', 'x',
            '--db_password', 's2']
    assert masking.argv_secrets(argv) == ['s1', 't1', 's2']
    assert masking.argv_secrets('x --password s3') == ['s3']
    assert masking.argv_secrets(None) == []


def test_keystone_bootstrap_exec_password_is_masked():
    """The THT keystone exec puts the admin password on a command line."""
    from tripleo_docker_hook import definitions
    config = {'step_3': {'keystone_bootstrap': {
        'action': 'exec',
        'command': ['keystone', 'keystone-manage', 'bootstrap',
                    '--bootstrap-password', 'SENTINEL-admin-pw']}}}
    m = Masker()
    m.add_environment(definitions.environment_values(config))
    assert m.mask('ran with SENTINEL-admin-pw') == 'ran with ***'


# -- issue 11: every encoding, mask then cut, capped answers ---------------
@pytest.mark.parametrize('secret', ['pässwörd-1', 'quo"te-secret',
                                    'back\\slash-secret', 'tab\tsecret',
                                    'multi\nline-secret-value'])
def test_escaped_forms_are_masked(secret):
    from tripleo_docker_hook import errors as errs_mod
    m = Masker([secret])
    err = errs_mod.FieldError('env', 'Invalid value', secret, 'bad')
    for text in (str(err), json.dumps(secret), repr(secret), secret):
        masked = m.mask(text)
        for form in (secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]):
            assert form not in masked


def test_mask_then_cut():
    r = Report(Masker(['SECRET-LEAKED-TAIL']), max_bytes=100)
    r.outputs['task'] = 'x' * 95 + 'SECRET-LEAKED-TAIL' + 'y' * 3
    r.info('x' * 95 + 'SECRET-LEAKED-TAIL' + 'y' * 3)
    answer = r.answer([document.Output('task')])
    dumped = json.dumps(answer)
    assert 'TAIL' not in dumped and 'LEAKED' not in dumped


def test_many_error_outputs_stay_below_heat_limit():
    from tripleo_docker_hook.report import MAX_ANSWER_BYTES
    r = Report(Masker())
    for i in range(6000):
        r.error(f'step_1.svc{i}.image: Invalid value: "BAD IMAGE {i}"')
    r.fail('invalid deployment:', 2)
    declared = [document.Output(f'out{i}', error_output=(i % 2 == 0))
                for i in range(50)]
    text = r.dumps(declared)
    assert len(text.encode()) <= MAX_ANSWER_BYTES
    answer = json.loads(text)
    assert answer['deploy_status_code'] == 2
    assert answer['out0']          # an error output still marks FAILED


def test_thousands_of_declared_outputs_fit():
    from tripleo_docker_hook.report import MAX_ANSWER_BYTES
    r = Report(Masker())
    r.fail('x' * 200000, 2)
    declared = [document.Output('o' * 200 + str(i), error_output=True)
                for i in range(6000)]
    text = r.dumps(declared)
    assert len(text.encode()) <= MAX_ANSWER_BYTES
    assert json.loads(text)['deploy_status_code'] == 2


def test_non_string_output_capped():
    r = Report(Masker(['s3cr3t']), max_bytes=50)
    r.outputs['o'] = {'k': ['s3cr3t'] * 100}
    value = r.answer([document.Output('o')])['o']
    assert 's3cr3t' not in value and len(value.encode()) < 90


LONG_SECRET = 'Long-Secret-' + 'x' * 300 + '-end'


@pytest.mark.parametrize('value, secret', [
    # longer than the quote: the cut removed its tail, the head showed
    (LONG_SECRET, LONG_SECRET),
    # straddling the cut of a list, raw and JSON-escaped
    (['h' * 190, 'Str4ddling-Secret'], 'Str4ddling-Secret'),
    (['h' * 190, 'Str4ddling-Sécret"q'], 'Str4ddling-Sécret"q'),
    ({'k' * 185: 'Str4ddling-Secret'}, 'Str4ddling-Secret'),
    # a number straddling the cut
    (['h' * 190, 987654321012345], '987654321012345'),
])
def test_quoted_values_masked_before_the_cut(value, secret):
    """An error quoting a secret is masked before the quote is cut to
    200 characters: no head of a secret shows."""
    from tripleo_docker_hook import errors
    masker = Masker([secret])
    report = Report(masker)
    report.fail_with(errors.ValidationError(
        [errors.FieldError('svc.net', 'Invalid value', value)]))
    text = json.dumps(report.answer())
    head = json.dumps(secret)[1:12]
    assert secret[:11] not in text and head not in text, text
    assert '***' in text


def test_declared_output_masked_before_its_cut():
    """A one-shot task's output as a declared output: masked, then cut to
    its share; cut first, the tail of a secret straddling the cut showed."""
    secret = 'Straddle-Secret-0123456789'
    report = Report(Masker([secret]), max_bytes=100)
    report.outputs['task'] = 'a' * 50 + secret + 'b' * 90
    answer = report.answer([document.Output('task')])
    assert '***' in answer['task']
    assert secret[-12:] not in answer['task'], answer['task']
