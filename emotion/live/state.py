"""What the live analyser remembers about one tracked face between frames (`TrackState`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emotion.records import UNKNOWN, Box, Identity

__all__ = ["TrackState", "state_of"]


@dataclass
class TrackState:
    """Per-track memory, kept on ``Track.data["live"]`` (see `state_of`)."""

    #: the detector's confidence on the last frame
    confidence: float = 0.0
    #: the frame number of the last real detection (a rolling scan carries the track in between)
    detected_frame: int = -(10**9)
    #: the frame phase at which this track refits its landmarks (spreads refits of several faces)
    phase: int = 0
    #: the last 68 points, the box they were fitted on, and how many frames they have only followed it
    landmarks: np.ndarray | None = None
    landmarks_box: Box | None = None
    landmarks_age: int = 0
    #: the last embedding and the stream time it was computed at
    embedding: np.ndarray | None = None
    embedded_at: float = -1e18
    #: stream time an embedding was asked for and has not arrived yet
    embed_pending: float | None = None
    #: the embedding matched against the current gallery (None: match again)
    identity: Identity | None = None
    #: how often each name matched this track (see `vote`), and the identity per name
    votes: dict = field(default_factory=dict)
    #: names matched at least once well inside the threshold (shown without waiting, see `vote`)
    sure: set = field(default_factory=set)
    #: smoothed emotion scores (EMOTIONS order)
    ema: np.ndarray | None = None
    #: stream time of the last history row, and its (dominant, name)
    row_at: float | None = None
    row_state: tuple[str | None, str] | None = None

    def vote(self, identity: Identity, *, reset: bool = False, confirm: int = 1, sure: bool = False) -> Identity:
        """The track's name: the name matched most often so far ("unknown" counts half and loses
        ties), so one poor match of a small face does not rename the track. `reset` (the gallery
        changed: people renamed or removed) forgets the earlier matches. `confirm`: a name is shown
        only once it has matched that many times, or once with a `sure` match (well inside the
        threshold); "unknown" until then, so a first borderline match of a small face - the wrong
        ones are borderline - is not shown and then replaced."""
        if reset:
            self.votes.clear()
            self.sure.clear()
        if sure and identity.name != UNKNOWN:
            self.sure.add(identity.name)
        count, _ = self.votes.get(identity.name, (0, identity))
        self.votes[identity.name] = (count + 1, identity)
        # "unknown" counts half: a small face's poor match says little against a name matched before
        best = max(self.votes.items(), key=lambda kv: (kv[1][0] / (2 if kv[0] == UNKNOWN else 1),
                                                       kv[0] != UNKNOWN))
        if best[0] != UNKNOWN and best[1][0] < confirm and best[0] not in self.sure:
            return Identity()
        return best[1][1]

    def settled(self) -> int:
        """How many times the track's leading name (or "unknown") has matched with no other name
        matching at all: 0 as soon as two names compete."""
        if len(self.votes) != 1:
            return 0
        return next(iter(self.votes.values()))[0]

    def unconfirmed(self, confirm: int) -> bool:
        """True while some name has matched but fewer than `confirm` times (look again soon)."""
        return confirm > 1 and any(name != UNKNOWN and 0 < n < confirm and name not in self.sure
                                   for name, (n, _) in self.votes.items())

    def embed_key(self, now: float, *, every: float, settle_after: int = 0, settled_factor: float = 1.0,
                  confirm: int = 1, confirm_after: float = 1.0) -> tuple[bool, bool, float] | None:
        """None when no embedding is due now; else its sort key: new tracks first, then names waiting
        for their confirmation (due `confirm_after` s after the last look), then the stalest. A track
        that gave the same answer `settle_after` times is refreshed every ``every * settled_factor``."""
        if self.embed_pending is not None and now - self.embed_pending > 10.0:  # a lost job: ask again
            self.embed_pending = None
        if self.embed_pending is not None:
            return None
        if settle_after and self.settled() >= settle_after:
            every *= settled_factor
        waiting = self.unconfirmed(confirm)
        if waiting:
            every = min(every, confirm_after)
        if self.embedding is not None and now - self.embedded_at < every:
            return None
        return (self.embedding is not None, not waiting, self.embedded_at)

    def accept_embedding(self, result: tuple[np.ndarray | None, float]) -> None:
        """Take a finished embedding job's ``(embedding or None, asked_at)``."""
        self.embed_pending = None
        if result[0] is not None:
            self.embedding, self.embedded_at = result
            self.identity = None  # matched again against the current gallery


def state_of(track: Any) -> TrackState:
    """The `TrackState` of a `emotion.tracking.Track`, made on first use."""
    state = track.data.get("live")
    if state is None:
        state = track.data["live"] = TrackState(phase=track.track_id)
    return state
