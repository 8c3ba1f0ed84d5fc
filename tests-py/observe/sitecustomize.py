"""Watch mpi4py's test suite, run exactly as its documentation says, test by test.

harness.py runs `mpiexec -n N python test/main.py` (and `python test/main.py` alone, as a
singleton) from the source release's top directory, with this directory first on
PYTHONPATH: Python imports this module at start-up (the standard `sitecustomize` hook), so
the command line is the documented one and nothing of mpi4py is patched. Active only in a
process started on the script TESTS_PY_MAIN names and not spawned by MPI
(PMI_SPAWNED): children that the suite spawns run untouched. Each rank then writes
  $TESTS_PY_OUT/rank<R>.log     its stdout+stderr (unittest's log, native crash messages,
                                     and a faulthandler traceback on a fatal signal or a hang)
  $TESTS_PY_OUT/rank<R>.events  one JSON object per line: {"ev": "start", "id": ...} when
                                     a test starts, {"ev": "end", "id": ..., "outcome": ...}
                                     when it ends, {"ev": "done"} when the run finished,
                                     {"ev": "abort", ...} when main.py raised before the
                                     tests ran (e.g. mpi4py.MPI failed to import).
The harness reads the events: a "start" without its "end" and no "done" names the test
that crashed or hung the process. unittest's TextTestRunner only gets a result class that
also writes the events. TESTS_PY_HANG (seconds) dumps every thread's stack if the run
lasts longer (a hang), shortly before the harness's timeout.
"""

import faulthandler
import json
import os
import sys
import time
import traceback
import unittest
import unittest.runner


def rank_of_env():
    # Read the rank from the launcher's environment, not from MPI: we must know where to
    # write before mpi4py (and so libmpi) is even imported, since that import may fail.
    for name in ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"):
        value = os.environ.get(name)
        if value is not None and value.isdigit():
            return int(value)
    return 0


class EventLog:
    """Append-only JSON-lines file written with unbuffered os.write, so every event is in
    the kernel before the next test starts, even if the process is killed."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)

    def emit(self, **event):
        event["t"] = round(time.monotonic(), 3)
        os.write(self.fd, (json.dumps(event) + "\n").encode())


EVENTS = None

# Worst outcome wins when a test reports several (sub-tests).
RANK = {"ok": 0, "skip": 1, "xfail": 1, "xpass": 2, "fail": 3, "error": 4}


def mpi4py_frame(tb):
    """The innermost frame of mpi4py's compiled MPI module (e.g. 'mpi4py.MPI.Comm.Dup'):
    it names the MPI call that failed, which a bare NotImplementedError (mpi4py's fallback
    for a function the MPI library lacks) does not."""
    name = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name.startswith("mpi4py.MPI.") or "MPI.src" in code.co_filename:
            name = code.co_name
        tb = tb.tb_next
    return name


def short(err):
    """One line from an exc_info triple: 'ExcType: message [in mpi4py.MPI.X.y]'."""
    etype, value, tb = err
    text = str(value).strip().splitlines()
    first = text[0] if text else ""
    where = mpi4py_frame(tb)
    suffix = f" [in {where}]" if where else ""
    return f"{etype.__name__}: {first[:240]}{suffix}"


class RecordingResult(unittest.runner.TextTestResult):
    """TextTestResult that also writes start/end events (see module doc)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._outcome = {}

    def _note(self, test, outcome, msg=""):
        tid = test.id()
        old = self._outcome.get(tid)
        if old is None or RANK[outcome] > RANK[old[0]]:
            self._outcome[tid] = (outcome, msg)

    def startTest(self, test):
        EVENTS.emit(ev="start", id=test.id())
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        tid = test.id()
        outcome, msg = self._outcome.pop(tid, ("ok", ""))
        EVENTS.emit(ev="end", id=tid, outcome=outcome, msg=msg)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._note(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._note(test, "fail", short(err))

    def addError(self, test, err):
        super().addError(test, err)
        if isinstance(test, unittest.case.TestCase):
            self._note(test, "error", short(err))
        else:
            # setUpClass/setUpModule failures come with an _ErrorHolder, outside any
            # startTest/stopTest pair: record them as a test of their own.
            EVENTS.emit(ev="end", id=str(test), outcome="error", msg=short(err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._note(test, "skip", str(reason)[:300])

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._note(test, "xfail")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._note(test, "xpass")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._note(test, "fail" if failed else "error", short(err))


class DoneRecordingResult(RecordingResult):
    """Also writes "done" once the whole run is over (main.py exits right after)."""

    def stopTestRun(self):
        super().stopTestRun()
        EVENTS.emit(ev="done")


def _excepthook(etype, value, tb):
    # main.py raised before or outside the tests: report it (the harness shows it).
    text = "".join(traceback.format_exception(etype, value, tb))
    EVENTS.emit(ev="abort", msg=f"{etype.__name__}: {value}"[:2000], traceback=text[-4000:])
    sys.__excepthook__(etype, value, tb)


def _active():
    main_py = os.environ.get("TESTS_PY_MAIN")
    if not main_py or os.environ.get("PMI_SPAWNED") == "1" or not sys.argv:
        return False
    try:
        return os.path.samefile(sys.argv[0], main_py)
    except OSError:
        return False


def _start():
    global EVENTS
    outdir = os.environ["TESTS_PY_OUT"]
    hang_secs = float(os.environ.get("TESTS_PY_HANG", "0"))
    rank = rank_of_env()
    os.makedirs(outdir, exist_ok=True)

    # Send both streams (including what native code writes to fds 1 and 2) to this rank's log.
    log_fd = os.open(
        os.path.join(outdir, f"rank{rank}.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    EVENTS = EventLog(os.path.join(outdir, f"rank{rank}.events"))

    # A fatal signal (SIGSEGV, SIGABRT, ...) prints the Python stack of every thread; a hang
    # prints it once, shortly before the harness's timeout kills the job.
    faulthandler.enable(file=sys.stderr, all_threads=True)
    if hang_secs > 0:
        faulthandler.dump_traceback_later(hang_secs, repeat=False, file=sys.stderr)

    unittest.runner.TextTestRunner.resultclass = DoneRecordingResult
    sys.excepthook = _excepthook
    EVENTS.emit(ev="begin", rank=rank, argv=sys.argv)


if _active():
    _start()
