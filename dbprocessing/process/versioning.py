"""The version rules (spec section 3): must an output be (re)made, and at which version?

Pure functions over small values, so every rule is tested without a database:

* never made: ``code.output_interface_version``.0.0;
* made before, and the code changed: interface or quality of the code changed
  -> output quality +1; only its revision -> output revision +1;
* an input changed (the newest version of an input is not the one used, or
  the number of inputs differs): interface or quality -> quality +1; revision
  only -> revision +1;
* a forced bump (0 interface, 1 quality, 2 revision) always runs;
* nothing changed: up to date, nothing runs.

The largest bump wins; incrementing resets the lower components, and the new
version is the newest existing version plus the bump.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..Version import Version

INTERFACE, QUALITY, REVISION = 0, 1, 2
_NAMES = {INTERFACE: "interface", QUALITY: "quality", REVISION: "revision"}


@dataclass(frozen=True)
class Decision:
    """Whether to run, at which version, and why (in words for operators)."""

    run: bool
    version: Version | None
    reasons: tuple[str, ...]


def _component_changed(old: Version, new: Version) -> int | None:
    if old.interface != new.interface or old.quality != new.quality:
        return QUALITY
    if old.revision != new.revision:
        return REVISION
    return None


def decide_version(*, output_interface: int, existing: Version | None,
                   old_code: tuple[int, Version] | None, new_code: tuple[int, Version],
                   old_inputs: Mapping[str, Version] | None,
                   new_inputs: Mapping[str, Version], forced: int | None = None) -> Decision:
    """Apply the rules.

    ``old_inputs`` and ``new_inputs`` map an input key (product and date) to
    the version used before and the newest version now; ``old_code`` and
    ``new_code`` are (code_id, code version).
    """
    if existing is None:
        return Decision(True, Version(output_interface, 0, 0), ("new output",))
    bumps: list[int] = []
    reasons: list[str] = []
    if forced is not None:
        bumps.append(forced)
        reasons.append(f"forced {_NAMES[forced]} bump")
    if old_code is None or old_code[0] != new_code[0]:
        old_version = old_code[1] if old_code else None
        change = (QUALITY if old_version is None
                  else _component_changed(old_version, new_code[1]) or REVISION)
        bumps.append(change)
        reasons.append(f"code changed from {old_version or 'unknown'} to {new_code[1]}")
    old_inputs = dict(old_inputs or {})
    if set(old_inputs) != set(new_inputs):
        bumps.append(QUALITY)
        added = sorted(set(new_inputs) - set(old_inputs))
        gone = sorted(set(old_inputs) - set(new_inputs))
        reasons.append("inputs changed" + (f"; new: {', '.join(added)}" if added else "")
                       + (f"; gone: {', '.join(gone)}" if gone else ""))
    for key in sorted(set(old_inputs) & set(new_inputs)):
        input_change = _component_changed(old_inputs[key], new_inputs[key])
        if input_change is not None:
            bumps.append(input_change)
            reasons.append(f"input {key} changed from {old_inputs[key]} to {new_inputs[key]}")
    if not bumps:
        return Decision(False, existing, ("up to date",))
    return Decision(True, existing.bumped(min(bumps)), tuple(reasons))
