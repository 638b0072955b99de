"""The observability SDK for Python: log an agent's runs, steps and artifacts
to the observability server without blocking the agent, losing nothing.

    from observability import ObservabilityProvider
    with ObservabilityProvider() as obs, obs.run("triage", "planner") as run:
        run.log("thought", {"text": "look at the logs first"})

Standard library only. See sdk/README.md ("## Python").
"""

from observability._rules import check_event
from observability.provider import InvalidEvent, InvalidEventType, ObservabilityProvider, Run

__all__ = ["ObservabilityProvider", "Run", "InvalidEvent", "InvalidEventType", "check_event"]
__version__ = "0.1.0"
