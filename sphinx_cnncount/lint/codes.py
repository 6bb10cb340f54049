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
    """Every rule: (code, kebab name, default severity, on by default, what it finds). The one
    source of truth for the CLI, the output formats, SARIF metadata and the Sphinx warning
    subtype.

    The defaults follow ruff's: a run with no configuration fails only on what is certainly
    wrong (a declared number the model contradicts or that cannot be checked, a model or a
    declaration that cannot be read, a node or a window no run could have: errors); what the
    counter could not count is said as a warning, which does not fail at the default
    ``fail-level`` (error); architecture observations are opt-in (``--extend-select``)."""

    ANALYSIS_ERROR = ("CNC000", "analysis-error", Severity.ERROR, True,
                      "A model, its expectation file or a document could not be read or "
                      "analysed; nothing about it was checked")
    DECLARED_MISMATCH = ("CNC001", "declared-mismatch", Severity.ERROR, True,
                         "A declared number or shape does not match the model")
    UNKNOWN_LAYER = ("CNC002", "unknown-layer", Severity.ERROR, True,
                     "A declaration names a layer the model does not have")
    BAD_DECLARATION = ("CNC003", "bad-declaration", Severity.ERROR, True,
                       "A declaration or a cnncount directive or role cannot be read")
    UNCHECKED_DECLARATION = ("CNC004", "unchecked-declaration", Severity.ERROR, True,
                             "A declared number the counter could not count (an op with no "
                             "rule, an unknown shape), so it cannot be checked")
    FLOOR_DROP = ("CNC101", "floor-drop", Severity.WARNING, False,
                  "A conv or pool window does not tile its padded input: the last rows or "
                  "columns are never read")
    WINDOW_TOO_LARGE = ("CNC102", "window-too-large", Severity.ERROR, True,
                        "A conv or pool window is larger than its padded input (an output side "
                        "below 1)")
    BIAS_BEFORE_NORM = ("CNC103", "bias-before-norm", Severity.WARNING, False,
                        "A Conv bias feeds a normalization that subtracts the per-channel mean, "
                        "which removes it")
    UNUSED_INITIALIZER = ("CNC104", "unused-initializer", Severity.WARNING, True,
                          "An initializer no node reads")
    DEAD_NODE = ("CNC105", "dead-node", Severity.WARNING, True,
                 "Nodes whose outputs reach no graph output")
    PARAM_SHARE = ("CNC106", "param-share", Severity.INFO, False,
                   "One layer holds more than a set share of all parameters")
    UNKNOWN_SHAPE = ("CNC201", "unknown-shape", Severity.WARNING, True,
                     "Shape inference could not determine a tensor's shape; what depends on it "
                     "is not counted")
    UNSUPPORTED_OP = ("CNC202", "unsupported-op", Severity.WARNING, True,
                      "An op the counter has no rule for; its cost is unknown")
    CONTROL_FLOW_ESTIMATE = ("CNC203", "control-flow-estimate", Severity.WARNING, True,
                             "A control-flow node is counted approximately: an If on data (its "
                             "costlier branch), a Loop whose trip count is not known (one "
                             "iteration)")
    INVALID_NODE = ("CNC204", "invalid-node", Severity.ERROR, True,
                    "A node's attributes contradict its inputs (kernel_shape, channels, "
                    "strides); its cost is unknown")
    PARTIAL_COUNT = ("CNC205", "partial-count", Severity.WARNING, True,
                     "The count is partial: some figures could not be counted, or only "
                     "approximately")
    UNBOUND_INPUT = ("CNC206", "unbound-input", Severity.WARNING, True,
                     "A model input has a dim nobody bound (a sequence length, an image side), "
                     "so the model was not counted; bind it with --dim or --input-shape, or in "
                     "[tool.cnncount]")

    def __init__(self, code: str, kebab: str, severity: Severity, default: bool,
                 summary: str) -> None:
        self.code = code
        self.kebab = kebab
        self.severity = severity
        self.default = default  # checked by a run that selects nothing
        self.summary = summary

    @classmethod
    def defaults(cls) -> list[Rule]:
        """The rules a run with no ``select`` checks."""
        return [r for r in cls if r.default]

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
