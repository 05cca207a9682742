"""``interface.quality.revision`` versions (frozen plugin API, spec section 6).

Plugins of the original do ``from dbprocessing import Version`` and then
``Version.Version(1, 0, 0)`` or ``Version.Version.fromString("1.2.3")``; this
module keeps those spellings.  Comparison is numeric per component, so
1.10.0 > 1.9.0.  Incrementing a component resets the lower ones.
"""
from __future__ import annotations

import functools
import re

from .errors import VersionError

__all__ = ["Version", "VersionError"]

_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)\.(\d+)\s*$")


@functools.total_ordering
class Version:
    """A file, code or inspector version: interface.quality.revision."""

    __slots__ = ("interface", "quality", "revision")

    def __init__(self, interface: int, quality: int, revision: int) -> None:
        try:
            self.interface = int(interface)
            self.quality = int(quality)
            self.revision = int(revision)
        except (TypeError, ValueError):
            raise VersionError(
                f"version components must be integers, got "
                f"{interface!r}.{quality!r}.{revision!r}") from None
        self._check()

    def _check(self) -> None:
        if self.interface < 1:
            raise VersionError(f"interface version must be >= 1, got {self}")
        if self.quality < 0 or self.revision < 0:
            raise VersionError(f"version components must be >= 0, got {self}")

    @classmethod
    def fromString(cls, text: str) -> Version:  # noqa: N802 (frozen API)
        """Parse ``"1.2.3"`` (an optional leading ``v`` is accepted)."""
        match = _VERSION_RE.match(str(text))
        if match is None:
            raise VersionError(f"not a version (expected x.y.z): {text!r}")
        return cls(*(int(g) for g in match.groups()))

    def incInterface(self) -> Version:  # noqa: N802 (frozen API)
        """Interface +1; quality and revision reset to 0."""
        self.interface += 1
        self.quality = 0
        self.revision = 0
        return self

    def incQuality(self) -> Version:  # noqa: N802 (frozen API)
        """Quality +1; revision resets to 0."""
        self.quality += 1
        self.revision = 0
        return self

    def incRevision(self) -> Version:  # noqa: N802 (frozen API)
        """Revision +1."""
        self.revision += 1
        return self

    def bumped(self, component: int) -> Version:
        """A new Version with component 0 (interface), 1 or 2 incremented."""
        new = Version(self.interface, self.quality, self.revision)
        (new.incInterface, new.incQuality, new.incRevision)[component]()
        return new

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.interface, self.quality, self.revision)

    def __sub__(self, other: Version) -> list[int]:
        return [self.interface - other.interface,
                self.quality - other.quality,
                self.revision - other.revision]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.as_tuple() == other.as_tuple()

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.as_tuple() < other.as_tuple()

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __str__(self) -> str:
        return f"{self.interface}.{self.quality}.{self.revision}"

    def __repr__(self) -> str:
        return f"Version({self.interface}, {self.quality}, {self.revision})"
