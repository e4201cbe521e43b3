"""A stuck worker can be asked where it waits without stopping it (argus/celery.py)."""

import time


def test_sigusr2_prints_every_worker_process_stacks_and_the_worker_keeps_running(celery_worker):
    worker = celery_worker(queues="default")
    deadline = time.monotonic() + 60
    while " ready." not in worker.log():
        assert time.monotonic() < deadline and worker.process.poll() is None, worker.log()[-3000:]
        time.sleep(0.2)
    report = worker.stuck_report()
    # The main process and its pool child each print their threads.
    assert report.count("Current thread") + report.count("Thread 0x") >= 2, report
    assert "File " in report
    assert worker.process.poll() is None
