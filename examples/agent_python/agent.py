#!/usr/bin/env python3
"""A controller and three workers, instrumented with the observability SDK.

    scripts/run &                                  # the server on 127.0.0.1:8000
    python3 examples/agent_python/agent.py         # OBS_URL / OBS_API_KEY to point elsewhere

One provider for the process, shared by every node's thread; the controller's
run is a context manager (run_started, then run_finished succeeded/failed);
each worker's run is a child run. log() never waits for the server: if it is
away, the events are delivered when it is back (give --spool DIR to keep them
across a crash of this process too).
"""

import argparse
import os
import sys
import threading

try:
    import observability  # noqa: F401  (installed with pip install ./sdk/python)
except ImportError:  # run from the checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

from observability import ObservabilityProvider  # noqa: E402

import nodes  # noqa: E402


def spawn(state):
    """Runs worker nodes side by side, as the graph would, and waits for them."""
    def run_all(jobs):
        errors = []

        def run_one(fn, n, part):
            try:
                fn(state, n, part)
            except Exception as e:  # its run already logged the error and finished as failed
                errors.append(e)
        threads = [threading.Thread(target=run_one, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    return run_all


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the server (default: OBS_URL, then http://127.0.0.1:8000)")
    parser.add_argument("--spool", help="a folder that keeps events until the server has them")
    args = parser.parse_args()
    with ObservabilityProvider(args.url, spool_dir=args.spool) as obs:
        with obs.run("wheel speed", "controller", tags=["example", "gears"]) as run:
            state = {"obs": obs, "run": run, "results": {}}
            speed = nodes.controller(state, spawn(state))
        delivered = obs.flush(10)
        print("run %s: wheel at %.2f m/s; %s" % (run.id, speed, obs.stats()))
        print("see it: curl -s %s/observability/runs/%s/steps" % (obs.url, run.id))
        return 0 if delivered else 1


if __name__ == "__main__":
    sys.exit(main())
