"""``cnncount lint`` and ``cnncount diff``: declared numbers, architecture rules, budgets.

* :mod:`.codes`: the rule table (code, name, severity) and the finding record;
* :mod:`.rules`: the architecture checks;
* :mod:`.expect`: ``MODEL.cnncount.toml`` expectation files;
* :mod:`.docs`: the ``.. cnncount::`` directives of a Sphinx source tree;
* :mod:`.config`: ``[tool.cnncount]`` in pyproject.toml;
* :mod:`.formats`: text, json, github and sarif output;
* :mod:`.diff`: two models compared, with budgets;
* :mod:`.cli`: the subcommands (``register(subparsers)``).
"""

from __future__ import annotations

from .codes import Finding, Rule, Severity

__all__ = ["Finding", "Rule", "Severity"]
