"""The heat-config hook: one JSON document in, exactly one JSON object out.

heat-config's ``55-heat-config`` runs this with the deployment on stdin and
sends whatever JSON we print to Heat verbatim (hook-contract.md §5), so
nothing but that one object may ever reach stdout: the real stdout is set
aside at start-up and fd 1 is pointed at stderr, so stray prints, library
warnings or child output land in the log instead.
"""

import logging
import os
import sys
import threading

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


class DeferredOsloLog(logging.Handler):
    """The operator log, set up through oslo.log at the first record worth
    writing, its imports done off the main thread.

    A run that only reads (a no-op) logs nothing at INFO or above, so it
    never imports oslo.log (≈ 30–130 ms with its dependencies).  A run
    that does something logs early: that first record starts one
    background thread that imports docker-py (the writes about to follow
    need it; the main thread waits for that import on Python's module
    lock rather than competing for the GIL) and then oslo.config's full
    parse and oslo.log, while the main thread is already waiting on the
    engine.  Records are queued, in order, until then; the set-up itself
    (≈ 1 ms) and the flush happen at the next record once the imports are
    done, or at :meth:`finish`, which ``run`` calls before answering.  The
    root logger's level is what oslo.log would give it, so no record is
    dropped that oslo.log would have written.
    """

    def __init__(self, conf, masking: logging.Filter, report=None):
        super().__init__(logging.DEBUG)
        self.conf = conf
        self.masking = masking
        self.report = report
        self.targets = None
        # The handler's own lock, which emit() already holds: one lock,
        # so no order between two can be inverted.
        self.setup_lock = self.lock
        #: records waiting for oslo.log, oldest first (also those logged
        #: by oslo.log's own set-up)
        self.pending = []
        self.configuring = False
        self.prefetch = None
        #: the real ConfigOpts once imported, or what stopped it
        self.prepared = None

    def _prepare(self) -> None:
        try:
            import docker  # noqa: F401  (the engine's writes need it)
        except Exception:  # the engine reports that itself, typed
            pass
        try:
            conf = self.conf
            if hasattr(conf, 'real'):  # a confcache.Snapshot
                conf = conf.real()
            from oslo_log import log  # noqa: F401
            self.prepared = conf
        except Exception as exc:  # never fail a run for its log
            self.prepared = exc
        except SystemExit as exc:  # oslo.config refused the file
            self.prepared = RuntimeError(f'oslo.config exited {exc.code}')

    def _start(self) -> None:
        if self.prefetch is None:
            self.prefetch = threading.Thread(
                target=self._prepare, name='tdh-log-setup')
            self.prefetch.start()

    def setup(self) -> None:
        """Set oslo.log up now (waiting for the imports) and flush."""
        with self.setup_lock:
            if self.targets is not None or self.configuring:
                return
            self._start()
        self.prefetch.join()
        with self.setup_lock:
            if self.targets is None and not self.configuring:
                self._configure()

    def finish(self) -> None:
        """Wait for a set-up that was started and flush what is queued
        (a run that logged nothing worth writing loads nothing)."""
        if self.prefetch is not None:
            self.setup()

    def _configure(self) -> None:
        """oslo.log's set-up proper (setup_lock held, imports done)."""
        self.configuring = True
        root = logging.getLogger()
        ours = list(root.handlers)
        targets = []
        try:
            conf = self.prepared
            if isinstance(conf, BaseException):
                raise conf
            from oslo_log import log as oslo_logging
            oslo_logging.set_defaults(
                default_log_levels=oslo_logging.get_default_log_levels()
                + EXTRA_LOG_LEVELS)
            if not conf.log_file and not conf.use_journal:
                conf.set_override('use_stderr', True)
            oslo_logging.setup(conf, 'tripleo-docker-hook')
            targets = [h for h in root.handlers if h not in ours]
            for handler in targets:
                handler.addFilter(self.masking)
        except Exception as exc:  # never fail a run for its log
            if self.report is not None:
                self.report.error(
                    'WARNING: the operator log could not be set up: '
                    f'{type(exc).__name__}: {errors.first_line(exc)}')
        finally:
            # oslo.log replaced root's handlers: put ours back, in
            # place (the list may be being iterated by this record).
            root.handlers[:] = ours
            self.targets = targets
            self.configuring = False
        pending, self.pending = self.pending, []
        for record in pending:
            self._forward(record)

    def emit(self, record: logging.LogRecord) -> None:
        if self.targets is None:
            with self.setup_lock:
                if self.targets is None:
                    self.pending.append(record)
                    if self.configuring:
                        return  # logged by oslo.log's set-up
                    self._start()
                    if not self.prefetch.is_alive():
                        self._configure()
                    return
        self._forward(record)

    def _forward(self, record: logging.LogRecord) -> None:
        if not logging.getLogger(record.name).isEnabledFor(record.levelno):
            return  # oslo.log's per-logger levels say no
        for handler in self.targets:
            if record.levelno >= handler.level:
                handler.handle(record)


def _setup_logging(conf, masker: Masker, report: Report) -> None:
    """oslo.log to stderr (which 55-heat-config captures) or ``log_file``,
    set up at the first record that must be written (DeferredOsloLog).

    Every handler masks secrets; warnings and errors are also copied into
    ``deploy_stderr``.
    """
    root = logging.getLogger()
    masking = MaskingFilter(masker)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    # oslo.log's root level: DEBUG with debug, else INFO.
    root.setLevel(logging.DEBUG if conf.debug else logging.INFO)
    handler = ReportHandler(report)
    handler.addFilter(masking)
    root.addHandler(handler)
    deferred = DeferredOsloLog(conf, masking, report)
    root.addHandler(deferred)
    if conf.log_config_append:
        deferred.setup()  # a logging config file decides levels itself
    return deferred


def run(stdin_text, argv=()) -> Report:
    """Run one deployment (stdin as text or bytes); the report holds the
    answer (never raises)."""
    from tripleo_docker_hook import document
    masker = Masker()
    report = Report(masker)
    doc = deferred = None
    try:
        if isinstance(stdin_text, bytes):
            stdin_text = document.decode(stdin_text)
        doc = document.loads(stdin_text)
        masker.add(doc.secrets)
        from tripleo_docker_hook import confcache
        conf = confcache.load_options(argv)
        report.max_bytes = conf.max_output_bytes
        deferred = _setup_logging(conf, masker, report)
        from tripleo_docker_hook import deploy
        deploy.run(doc, conf, report, masker)
    except errors.HookError as exc:
        report.fail_with(exc)
    except SystemExit as exc:  # oslo.config refused the command line
        report.fail(f'invalid command line (exit {exc.code}); the usage '
                    f'is in the log', 2)
    except Exception as exc:  # report, never crash without an answer
        LOG.exception('unexpected error')
        report.fail(f'unexpected error: {type(exc).__name__}: '
                    f'{errors.first_line(exc)}')
    if deferred is not None:
        deferred.finish()  # before answering: its warnings go in it
    report.declared = doc.outputs if doc else ()
    return report


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == '--validate':
        # Offline check of definition files (same as `-ctl validate`).
        from tripleo_docker_hook import offline
        return offline.validate_files(list(argv[1:]))
    saved = _protect_stdout()
    from tripleo_docker_hook.document import MAX_DOCUMENT_BYTES
    data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
    report = run(data, argv)
    answer = report.dumps(report.declared) + '\n'
    with os.fdopen(saved, 'w') as out:
        out.write(answer)
    return report.status


if __name__ == '__main__':
    sys.exit(main())
