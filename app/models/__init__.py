"""ORM models: every table the migrator manages is declared here."""

from app.models.osm import OsmRoad, OsmStop
from app.models.pipelines import Pipeline, PipelineRun
from app.models.stops import (
    OfficialStopRecord,
    StopDecision,
    StopMatch,
    StopProblem,
    StopPublication,
)
from app.models.tracks import PrivacyZone, RoadStats, RoadUsage, Track, TrackEvent, TrackSnaps
from app.models.usage import UsageDaily
from app.models.users import User

__all__ = ["OfficialStopRecord", "OsmRoad", "OsmStop", "Pipeline", "PipelineRun", "PrivacyZone",
           "RoadStats", "RoadUsage", "StopDecision", "StopMatch", "StopProblem",
           "StopPublication", "Track", "TrackEvent", "TrackSnaps", "UsageDaily", "User"]
