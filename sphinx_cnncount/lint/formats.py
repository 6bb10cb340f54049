"""Output formats of ``cnncount lint``: text (ruff-like), json, GitHub workflow commands, SARIF."""

from __future__ import annotations

import json
from urllib.parse import quote
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path

from ..version import __version__
from ..escape import message as line
from ..escape import printable
from .codes import Finding, Rule, Severity


class Format(str, Enum):
    """The value is what ``--format`` takes."""

    TEXT = "text"
    JSON = "json"
    GITHUB = "github"
    SARIF = "sarif"


def location(f: Finding) -> str:
    """``path`` or ``path:line``."""
    return f"{f.file}:{f.line}" if f.line else f.file


def text(findings: Sequence[Finding]) -> str:
    """One line per finding, ``path[:line]: CODE [severity] message``, then a count."""
    out = [line(f"{location(f)}: {f.code} [{f.level.label}] {f.message}") for f in findings]
    if findings:
        by = {s: sum(1 for f in findings if f.level is s) for s in Severity}
        parts = [f"{n} {s.label}{'s' if n != 1 and s is not Severity.INFO else ''}"
                 for s, n in sorted(by.items(), reverse=True) if n]
        out.append(f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} "
                   f"({', '.join(parts)}).")
    else:
        out.append("All checks passed.")
    return "\n".join(out) + "\n"


def as_json(findings: Sequence[Finding]) -> str:
    """A list of finding records (code, name, severity, model, layer, node, message, declared,
    actual, file, line)."""
    return json.dumps([f.to_json() for f in findings], indent=2) + "\n"


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(s: str) -> str:
    """A workflow command's text: printable first (C1 controls, line and paragraph separators,
    bidirectional overrides, zero-width characters and the BOM written as escapes), then
    GitHub's own escapes."""
    return printable(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: annotations on the file (and line) of each finding."""
    out = []
    for f in findings:
        props = [f"file={_escape_property(f.file)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f'{f.code} {f.rule.kebab}')}")
        out.append(f"::{_GITHUB_LEVEL[f.level]} {','.join(props)}::{_escape_data(f.message)}")
    return "".join(line + "\n" for line in out)


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_log(findings: Sequence[Finding]) -> dict:
    """A SARIF 2.1.0 log with one run, every rule's metadata and one result per finding."""
    rules = list(Rule)
    index = {r: i for i, r in enumerate(rules)}
    failures = [f for f in findings if f.rule is Rule.ANALYSIS_ERROR]
    results = []
    for f in findings:
        p = Path(f.file)
        artifact = ({"uri": p.as_uri()} if p.is_absolute()
                    else {"uri": quote(p.as_posix()), "uriBaseId": "%SRCROOT%"})
        physical: dict = {"artifactLocation": artifact}
        if f.line:
            physical["region"] = {"startLine": f.line}
        result = {
            "ruleId": f.code,
            "ruleIndex": index[f.rule],
            "level": _SARIF_LEVEL[f.level],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": physical}],
        }
        logical = [{"name": n, "kind": k}
                   for n, k in ((f.layer, "module"), (f.node, "member")) if n]
        if logical:
            result["locations"][0]["logicalLocations"] = logical
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cnncount",
                "version": __version__,
                "rules": [{
                    "id": r.code,
                    "name": r.kebab,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.summary},
                    "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity],
                                             "enabled": r.default},
                    "properties": {"tags": ["cnncount"]},
                } for r in rules],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            # Code scanning shows a run with a model it could not read as failed, not clean.
            "invocations": [{
                "executionSuccessful": not failures,
                "toolExecutionNotifications": [{
                    "level": "error",
                    "message": {"text": f"{f.file}: {f.message}"},
                    "descriptor": {"id": f.code},
                } for f in failures],
            }],
            "results": results,
        }],
    }


def sarif(findings: Sequence[Finding]) -> str:
    return json.dumps(sarif_log(findings), indent=2) + "\n"


RENDERERS: dict[Format, Callable[[Sequence[Finding]], str]] = {
    Format.TEXT: text,
    Format.JSON: as_json,
    Format.GITHUB: github,
    Format.SARIF: sarif,
}


def render(findings: Sequence[Finding], fmt: Format) -> str:
    return RENDERERS[fmt](findings)
