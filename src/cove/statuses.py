"""Resource statuses, as enums whose values are AWS's own strings (botocore's model enums;
a unit test checks they match). StrEnum members compare equal to those strings and are
stored and serialized as them."""

from __future__ import annotations

from enum import StrEnum


class EndpointStatus(StrEnum):
    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"

    @property
    def serving(self) -> bool:
        """Its instances take invocations (an update keeps the old ones serving)."""
        return self in _SERVING

    @property
    def changing(self) -> bool:
        """A deployment step is under way: UpdateEndpoint and friends must wait."""
        return self in _CHANGING


_SERVING = frozenset(
    {EndpointStatus.IN_SERVICE, EndpointStatus.UPDATING, EndpointStatus.SYSTEM_UPDATING}
)
_CHANGING = frozenset(
    {
        EndpointStatus.CREATING,
        EndpointStatus.UPDATING,
        EndpointStatus.DELETING,
        EndpointStatus.SYSTEM_UPDATING,
        EndpointStatus.ROLLING_BACK,
    }
)


class TrainingJobStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    DELETING = "Deleting"  # AWS's DeleteTrainingJob, which Cove does not serve yet

    @property
    def active(self) -> bool:
        return self in (TrainingJobStatus.IN_PROGRESS, TrainingJobStatus.STOPPING)
