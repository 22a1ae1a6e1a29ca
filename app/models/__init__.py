"""ORM models: every table the migrator manages is declared here."""

from app.models.datasets import PublishedDataset
from app.models.gbfs import (
    GbfsFeed,
    GbfsFeedFile,
    GbfsStation,
    GbfsStationHistory,
    GbfsVehicle,
    GbfsZone,
)
from app.models.maps import MapArrangementVersion
from app.models.osm import OsmRoad, OsmStop
from app.models.pipelines import Pipeline, PipelineRun
from app.models.rides import PrivacyZone, Ride, RideEvent, RideSnaps, RoadStats, RoadUsage
from app.models.sensors import (
    SensorDevice,
    SensorInvalidMessage,
    SensorMeasurement,
    SensorSignal,
)
from app.models.stops import (
    OfficialStopRecord,
    StopDecision,
    StopMatch,
    StopProblem,
    StopPublication,
)
from app.models.usage import UsageDaily
from app.models.users import User
from app.models.workspaces import (
    Workspace,
    WorkspaceClient,
    WorkspaceDatapoint,
    WorkspaceDataset,
    WorkspaceMap,
    WorkspaceMember,
)

__all__ = ["GbfsFeed", "GbfsFeedFile", "GbfsStation", "GbfsStationHistory", "GbfsVehicle",
           "GbfsZone", "MapArrangementVersion", "OfficialStopRecord", "OsmRoad", "OsmStop",
           "Pipeline", "PipelineRun",
           "PrivacyZone", "PublishedDataset", "RoadStats", "RoadUsage", "SensorDevice",
           "SensorInvalidMessage", "SensorMeasurement", "SensorSignal", "StopDecision",
           "StopMatch", "StopProblem", "StopPublication", "Ride", "RideEvent", "RideSnaps",
           "UsageDaily", "User", "Workspace", "WorkspaceClient", "WorkspaceDatapoint",
           "WorkspaceDataset", "WorkspaceMap", "WorkspaceMember"]
