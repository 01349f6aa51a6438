"""A training job's own process: `python -m cove.jobs.training.worker <job dir>`.

Runs the algorithm named in the job dir's config on the channels already downloaded
there, writes the model into model/ and the final metrics into output/metrics.json.
On failure it writes output/failure (the job's FailureReason) and exits 1, as a
SageMaker training container does."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from pathlib import Path

from cove.host.limits import confine, die_with_parent
from cove.jobs.training.environment import TrainingEnv
from cove.jobs.training.errors import ClientError, failure_reason

ALGORITHM_MODULES = {
    "linear-learner": "cove.jobs.training.algorithms.linear_learner",
    "xgboost": "cove.jobs.training.algorithms.xgboost",
}


def _confine() -> None:
    """The instance type's CPUs, and its memory as a hard rlimit where no cgroup holds
    the job (COVE_JOB_MEMORY_BYTES is set only then)."""
    cpus = [int(c) for c in os.environ.get("COVE_JOB_CPUS", "").split(",") if c]
    confine(cpus or None, int(os.environ.get("COVE_JOB_MEMORY_BYTES") or 0) or None)


def check_channels(env: TrainingEnv, channels: dict[str, bool]) -> None:
    """Required channels present, no unknown ones (the algorithm toolkit's wording)."""
    for name, required in channels.items():
        if required and name not in env.channels:
            raise ClientError(
                f"Missing required channel: {name}. Add an InputDataConfig entry with "
                f"ChannelName '{name}' pointing at your training data"
            )
    for name in env.channels:
        if name not in channels:
            raise ClientError(
                f"Extraneous channel found: {name}. This algorithm reads the channels "
                f"{', '.join(channels)}"
            )


def run(root: Path) -> int:
    env = TrainingEnv.load(root)
    try:
        module = importlib.import_module(ALGORITHM_MODULES[env.algorithm])
        check_channels(env, module.CHANNELS)
        module.train(env)
    except (ClientError, MemoryError) as exc:
        reason = (
            failure_reason(exc)
            if not isinstance(exc, MemoryError)
            else ("AlgorithmError: out of memory; use a larger instance type or less data")
        )
        env.log(reason)
        env.write_failure(reason)
        return 1
    except Exception as exc:
        traceback.print_exc()
        env.write_failure(failure_reason(exc) + f" ({type(exc).__name__})")
        return 1
    env.write_metrics()
    env.log("Training complete")
    return 0


def main() -> int:
    parent = int(os.environ.get("COVE_PARENT_PID") or 0)
    if parent:  # 0: the sandbox's PID namespace dies with the server instead
        die_with_parent(parent, signal.SIGTERM)
    # SIGTERM (StopTrainingJob) ends the job at once, like a container receiving it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _confine()
    return run(Path(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
