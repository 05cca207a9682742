"""The version rules of spec section 3, as a table."""
from __future__ import annotations

import pytest

from dbprocessing.process.versioning import INTERFACE, QUALITY, REVISION, decide_version
from dbprocessing.Version import Version

V = Version.fromString
CODE = (1, V("1.0.0"))
INPUTS = {"a 2025-01-01": V("1.0.0"), "b 2025-01-01": V("2.3.4")}

# existing, old code, new code, old inputs, new inputs, forced -> (run, version)
CASES = {
    "new output": (None, None, CODE, None, INPUTS, None, True, "3.0.0"),
    "up to date": ("1.2.3", CODE, CODE, INPUTS, INPUTS, None, False, "1.2.3"),
    "code interface changed": ("1.2.3", CODE, (2, V("2.0.0")), INPUTS, INPUTS, None, True, "1.3.0"),
    "code quality changed": ("1.2.3", CODE, (2, V("1.1.0")), INPUTS, INPUTS, None, True, "1.3.0"),
    "code revision changed": ("1.2.3", CODE, (2, V("1.0.1")), INPUTS, INPUTS, None, True, "1.2.4"),
    "input interface changed": ("1.2.3", CODE, CODE, INPUTS,
                                {**INPUTS, "a 2025-01-01": V("2.0.0")}, None, True, "1.3.0"),
    "input quality changed": ("1.2.3", CODE, CODE, INPUTS,
                              {**INPUTS, "b 2025-01-01": V("2.4.0")}, None, True, "1.3.0"),
    "input revision changed": ("1.2.3", CODE, CODE, INPUTS,
                               {**INPUTS, "b 2025-01-01": V("2.3.5")}, None, True, "1.2.4"),
    "an input more": ("1.2.3", CODE, CODE, INPUTS,
                      {**INPUTS, "a 2025-01-02": V("1.0.0")}, None, True, "1.3.0"),
    "an input fewer": ("1.2.3", CODE, CODE, INPUTS, {"a 2025-01-01": V("1.0.0")}, None,
                       True, "1.3.0"),
    "largest bump wins": ("1.2.3", CODE, (2, V("1.0.1")), INPUTS,
                          {**INPUTS, "a 2025-01-01": V("1.1.0")}, None, True, "1.3.0"),
    "forced interface": ("1.2.3", CODE, CODE, INPUTS, INPUTS, INTERFACE, True, "2.0.0"),
    "forced quality": ("1.2.3", CODE, CODE, INPUTS, INPUTS, QUALITY, True, "1.3.0"),
    "forced revision": ("1.2.3", CODE, CODE, INPUTS, INPUTS, REVISION, True, "1.2.4"),
    "forced revision and code quality": ("1.2.3", CODE, (2, V("1.1.0")), INPUTS, INPUTS,
                                         REVISION, True, "1.3.0"),
    "no record of the old code": ("1.2.3", None, CODE, INPUTS, INPUTS, None, True, "1.3.0"),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_rule_table(case):
    existing, old_code, new_code, old_inputs, new_inputs, forced, run, version = case
    decision = decide_version(output_interface=3, existing=V(existing) if existing else None,
                              old_code=old_code, new_code=new_code, old_inputs=old_inputs,
                              new_inputs=new_inputs, forced=forced)
    assert decision.run is run
    assert str(decision.version) == version
    assert decision.reasons


def test_reasons_name_what_changed():
    decision = decide_version(output_interface=1, existing=V("1.0.0"), old_code=CODE,
                              new_code=(2, V("1.1.0")), old_inputs=INPUTS,
                              new_inputs={**INPUTS, "a 2025-01-01": V("1.0.1")})
    assert "code changed from 1.0.0 to 1.1.0" in decision.reasons
    assert "input a 2025-01-01 changed from 1.0.0 to 1.0.1" in decision.reasons
