"""The heat-config hook: one JSON document in, exactly one JSON object out.

heat-config's ``55-heat-config`` runs this with the deployment on stdin and
sends whatever JSON we print to Heat verbatim (hook-contract.md §5), so
nothing but that one object may ever reach stdout: the real stdout is set
aside at start-up and fd 1 is pointed at stderr, so stray prints, library
warnings or child output land in the log instead.
"""

import logging
import os
import re
import sys

from tripleo_docker_hook import errors
from tripleo_docker_hook.masking import Masker, MaskingFilter
from tripleo_docker_hook.report import Report, ReportHandler

LOG = logging.getLogger('tripleo_docker_hook')


def _protect_stdout() -> int:
    """Duplicate fd 1 for the answer and send everything else to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return saved


#: Loggers quietened besides oslo.log's own defaults.
EXTRA_LOG_LEVELS = ['docker=WARN', 'urllib3=WARN']

#: LogRecord fields the stdlib formatter knows; a format string using
#: anything else (oslo context fields) needs oslo.log's formatter.
_STDLIB_FIELDS = frozenset({
    'asctime', 'created', 'filename', 'funcName', 'levelname', 'levelno',
    'lineno', 'message', 'module', 'msecs', 'name', 'pathname', 'process',
    'processName', 'relativeCreated', 'thread', 'threadName'})
_FIELD = re.compile(r'%\((\w+)\)')


def _plain_format(conf):
    """The stdlib format for stderr-only logging, None if oslo.log is needed.

    oslo.log is only worth its import time when it adds something: a log
    file, journal, syslog, JSON, colour, a logging config file, or a format
    with oslo context fields.  The default case, stderr (which 55-heat-config
    captures), gets the same line format from the stdlib.
    """
    if (conf.log_config_append or conf.log_file or conf.log_dir or
            conf.use_journal or conf.use_syslog or conf.use_json or
            conf.log_color or conf.publish_errors):
        return None
    fmt = conf.logging_default_format_string.replace('%(instance)s', '')
    if not set(_FIELD.findall(fmt)) <= _STDLIB_FIELDS:
        return None
    return fmt


def _setup_logging(conf, masker: Masker, report: Report) -> None:
    from oslo_log import _options
    from oslo_config import cfg
    cfg.set_defaults(_options.log_opts, default_log_levels=list(
        _options.DEFAULT_LOG_LEVELS) + EXTRA_LOG_LEVELS)
    if not conf.log_file and not conf.use_journal:
        conf.set_override('use_stderr', True)
    fmt = _plain_format(conf)
    root = logging.getLogger()
    if fmt is None:
        from oslo_log import log as oslo_logging
        # opts.load registered the options; setup hands the conf to the
        # formatters itself.
        oslo_logging.setup(conf, 'tripleo-docker-hook')
    else:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(fmt, conf.log_date_format))
        root.addHandler(stream)
        root.setLevel(logging.DEBUG if conf.debug else logging.INFO)
        for pair in conf.default_log_levels:
            name, _, level = pair.partition('=')
            try:
                logging.getLogger(name).setLevel(level.upper())
            except ValueError:
                pass  # oslo.log ignores unknown level names too
        logging.captureWarnings(True)
    masking = MaskingFilter(masker)
    for handler in root.handlers:
        handler.addFilter(masking)
    handler = ReportHandler(report)
    handler.addFilter(masking)
    root.addHandler(handler)


def run(stdin_text: str, argv=()) -> Report:
    """Run one deployment; the report holds the answer (never raises)."""
    from tripleo_docker_hook import document
    masker = Masker()
    report = Report(masker)
    doc = None
    try:
        doc = document.loads(stdin_text)
        masker.add(doc.secrets)
        from tripleo_docker_hook import opts
        conf = opts.load(argv)
        report.max_bytes = conf.max_output_bytes
        _setup_logging(conf, masker, report)
        from tripleo_docker_hook import deploy
        deploy.run(doc, conf, report, masker)
    except errors.HookError as exc:
        report.fail_with(exc)
    except Exception as exc:  # report, never crash without an answer
        LOG.exception('unexpected error')
        report.fail(f'unexpected error: {type(exc).__name__}: '
                    f'{errors.first_line(exc)}')
    report.declared = doc.outputs if doc else ()
    return report


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == '--validate':
        # Offline check of definition files (same as `-ctl validate`).
        from tripleo_docker_hook import cli
        return cli.main(['validate'] + list(argv[1:]))
    saved = _protect_stdout()
    text = sys.stdin.read()
    report = run(text, argv)
    answer = report.dumps(report.declared) + '\n'
    with os.fdopen(saved, 'w') as out:
        out.write(answer)
    return report.status


if __name__ == '__main__':
    sys.exit(main())
