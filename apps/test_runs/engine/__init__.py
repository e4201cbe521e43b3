"""The browser execution engine: runs a test's steps in a fresh headless Chromium and traces them.

- worker.py: one result from claim to outcome (the body of the `test_runs.execute_result` task)
- driver.py: launching browsers, one pre-warmed per worker process, device emulation
- locate.js / locators.py: every locator of a target evaluated in one script round trip
- interpreter.py: the DSL actions, waiting by polling, failures vs errors
- recorder.py: StepResult rows, screenshots, DOM snapshots and live deltas, off the critical path
- monitor.py: heartbeat and cancel watch for a running result
- reaper.py: re-queues or fails results whose worker died
"""
