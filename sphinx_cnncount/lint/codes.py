"""The rule table (code, name, default severity) and the finding record.

Kept free of onnx and networkx so that ``cnncount --help`` and the output formats load at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, IntEnum
from typing import Any


class Severity(IntEnum):
    """How bad a finding is; a run fails on findings at or above ``--fail-level``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[str(text).strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (choose from error, warning, info)") from None


class Rule(Enum):
    """Every rule: (code, kebab name, default severity, what it finds). The one source of truth
    for the CLI, the output formats, SARIF metadata and the Sphinx warning subtype."""

    ANALYSIS_ERROR = ("CNC000", "analysis-error", Severity.ERROR,
                      "A model, its expectation file or a document could not be read or "
                      "analysed; nothing about it was checked")
    DECLARED_MISMATCH = ("CNC001", "declared-mismatch", Severity.ERROR,
                         "A declared number or shape does not match the model")
    UNKNOWN_LAYER = ("CNC002", "unknown-layer", Severity.ERROR,
                     "A declaration names a layer the model does not have")
    BAD_DECLARATION = ("CNC003", "bad-declaration", Severity.ERROR,
                       "A declaration or a cnncount directive cannot be read")
    FLOOR_DROP = ("CNC101", "floor-drop", Severity.WARNING,
                  "A conv or pool window does not tile its padded input: the last rows or "
                  "columns are never read")
    WINDOW_TOO_LARGE = ("CNC102", "window-too-large", Severity.ERROR,
                        "A conv or pool window is larger than its padded input (an output side "
                        "below 1)")
    BIAS_BEFORE_NORM = ("CNC103", "bias-before-norm", Severity.WARNING,
                        "A Conv bias feeds a normalization that subtracts the per-channel mean, "
                        "which removes it")
    UNUSED_INITIALIZER = ("CNC104", "unused-initializer", Severity.WARNING,
                          "An initializer no node reads")
    DEAD_NODE = ("CNC105", "dead-node", Severity.WARNING,
                 "Nodes whose outputs reach no graph output")
    PARAM_SHARE = ("CNC106", "param-share", Severity.INFO,
                   "One layer holds more than a set share of all parameters")
    UNKNOWN_SHAPE = ("CNC201", "unknown-shape", Severity.WARNING,
                     "Shape inference could not determine a tensor's shape; what depends on it "
                     "is not counted")
    UNSUPPORTED_OP = ("CNC202", "unsupported-op", Severity.WARNING,
                      "An op the counter has no rule for; its cost is unknown")
    CONTROL_FLOW_ESTIMATE = ("CNC203", "control-flow-estimate", Severity.WARNING,
                             "A control-flow node is counted approximately: an If on data (its "
                             "costlier branch), a Loop whose trip count is not known (one "
                             "iteration)")
    INVALID_NODE = ("CNC204", "invalid-node", Severity.ERROR,
                    "A node's attributes contradict its inputs (kernel_shape, channels, "
                    "strides); its cost is unknown")
    PARTIAL_COUNT = ("CNC205", "partial-count", Severity.WARNING,
                     "The count is partial: some figures could not be counted, or only "
                     "approximately")

    def __init__(self, code: str, kebab: str, severity: Severity, summary: str) -> None:
        self.code = code
        self.kebab = kebab
        self.severity = severity
        self.summary = summary

    @classmethod
    def lookup(cls, text: str) -> list[Rule]:
        """The rules a selector names: a code, a code prefix (``CNC1``, ``CNC``, ``ALL``) or a
        kebab name."""
        key = text.strip()
        if key.upper() == "ALL":
            return list(cls)
        by_name = [r for r in cls if r.kebab == key.lower()]
        if by_name:
            return by_name
        by_code = [r for r in cls if r.code.startswith(key.upper())] if key else []
        if not by_code:
            raise ValueError(f"unknown rule {text!r} (give a code such as CNC101, a prefix such "
                             "as CNC1, or a name such as floor-drop)")
        return by_code


# Diagnostics the counter reports, and the rule each one becomes.
DIAGNOSTIC_RULES = {
    "unknown-shape": Rule.UNKNOWN_SHAPE,
    "unsupported-op": Rule.UNSUPPORTED_OP,
    "control-flow": Rule.CONTROL_FLOW_ESTIMATE,
    "invalid-node": Rule.INVALID_NODE,
    "external-data": Rule.UNKNOWN_SHAPE,  # integer data not read: the shapes it decides
    "annotation-mismatch": Rule.UNKNOWN_SHAPE,
}


@dataclass(frozen=True)
class Finding:
    """One thing the linter found, located in a file (the model, a TOML or an .rst file)."""

    rule: Rule
    message: str
    model: str
    file: str
    line: int | None = None
    layer: str | None = None
    node: str | None = None
    declared: str | None = None
    actual: str | None = None
    severity: Severity | None = None  # None: the rule's default

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def level(self) -> Severity:
        return self.severity if self.severity is not None else self.rule.severity

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code, "name": self.rule.kebab, "severity": self.level.label,
            "model": self.model, "layer": self.layer, "node": self.node,
            "message": self.message, "declared": self.declared, "actual": self.actual,
            "file": self.file, "line": self.line,
        }


# Tunable limits of the rules that have one; [tool.cnncount.thresholds] and --threshold set them.
DEFAULT_THRESHOLDS = {"param-share": 0.5}
