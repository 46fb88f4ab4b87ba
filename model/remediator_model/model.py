"""The trained classifier as plain data: feature schema, two linear models and their calibration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from remediator_model.calibrate import Calibration
from remediator_model.features import FeatureConfig
from remediator_model.linear import LinearModel


@dataclass
class TrainedModel:
    features: FeatureConfig
    type_model: LinearModel
    action_model: LinearModel
    calibration: Calibration
    type_scale: float
    metrics: dict[str, Any] = field(default_factory=dict)
    data_hash: str = ""
    train_config: dict[str, Any] = field(default_factory=dict)
