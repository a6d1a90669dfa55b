"""Each problem type has a stable slug, is documented, and renders as RFC 9457 problem+json."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import zerotrip
from zerotrip.problems import Problem, ValidationFailed

DOC = Path(__file__).parents[2] / "docs" / "problems.md"


def all_problems() -> dict[str, type[Problem]]:
    for module in pkgutil.walk_packages(zerotrip.__path__, "zerotrip."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return dict(Problem.registry)


def test_every_problem_type_is_documented() -> None:
    documented = set(re.findall(r"^### `([a-z0-9/-]+)`", DOC.read_text(encoding="utf-8"), flags=re.M))
    problems = all_problems()
    assert set(problems) - documented == set(), "document these in docs/problems.md"
    assert documented - set(problems) == set(), "docs/problems.md lists problems that no longer exist"


def test_documented_status_matches_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    for slug, cls in all_problems().items():
        section = text.split(f"### `{slug}`", 1)[1].split("###", 1)[0]
        assert f"Status {cls.status}" in section, slug


def test_validation_problem_shape() -> None:
    body = ValidationFailed.field("resident_id", "check character is wrong").to_dict(instance="/api/x")
    assert body["type"] == "/problems/validation-failed"
    assert body["status"] == 422
    assert body["errors"] == [{"detail": "check character is wrong", "pointer": "#/resident_id"}]
