"""The vocabulary pages, ``ui/`` and the CLI show and catch: grade scale, file formats, settings
choices, the records they render, and the errors a face raises with a message for the user.
Each name is defined where its stage keeps it; this module only gathers them for the interfaces."""

from ltrr_core.base.config import DENSE_INDEXES, ENCODER_BACKENDS, Settings
from ltrr_core.base.grades import GRADES, MAX_GRADE, grade_label
from ltrr_core.base.labels import FORMATS as LABEL_FORMATS
from ltrr_core.base.labels import LabelFileError
from ltrr_core.base.palette import badge, color_for, colors_for
from ltrr_core.base.progress import pace
from ltrr_core.base.strategy_depths import base_strategy
from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.catalog.loaders import ENTITY_FIELDS, REQUIRED_FIELDS
from ltrr_core.catalog.schema import CatalogError
from ltrr_core.evaluation.configurations import Configuration, ConfigurationError
from ltrr_core.evaluation.experiments import Experiment, SnapshotError
from ltrr_core.evaluation.verdicts import Verdict, interleaving_verdict, p_value_text
from ltrr_core.feedback.log_import import LOG_FORMATS, LogFileError
from ltrr_core.feedback.store.feedback_store import StoreError
from ltrr_core.ranking.retraining import RetrainDecision
from ltrr_core.results import SearchResult
from ltrr_core.retrieval.indexes.embedder import ModelNotFoundError
from ltrr_core.selection.bandit import POLICIES, PolicyConfig
from ltrr_core.selection.context import Context, UserProfile
from ltrr_core.simulation.intents import DEFAULT_MIX
from ltrr_core.simulation.traffic import INTENT_KINDS

USER_ERRORS = (CatalogError, StoreError, ModelNotFoundError, LabelFileError, LogFileError, ConfigurationError,
               SnapshotError)  # problems a user can fix, each with a message naming what to change

__all__ = [
    "DEFAULT_MIX", "DENSE_INDEXES", "ENCODER_BACKENDS", "ENTITY_FIELDS", "INTENT_KINDS", "GRADES", "HARD_CASES", "LABEL_FORMATS", "LOG_FORMATS", "MAX_GRADE",
    "POLICIES", "REQUIRED_FIELDS", "USER_ERRORS", "CatalogError", "Configuration", "ConfigurationError", "Context",
    "Experiment", "LabelFileError", "LogFileError", "ModelNotFoundError", "PolicyConfig", "RetrainDecision",
    "SearchResult", "Settings", "SnapshotError", "StoreError", "UserProfile", "Verdict", "badge", "base_strategy",
    "color_for", "colors_for", "grade_label", "interleaving_verdict", "p_value_text", "pace",
]
