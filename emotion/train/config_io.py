"""The JSON round trip shared by the training configurations (Keras `TrainConfig`, PyTorch
`TorchTrainConfig`): every hyper-parameter to a dict / JSON and back, lists read back as tuples."""
from __future__ import annotations

import dataclasses
import json


class JsonConfig:
    """Mixin for a dataclass of hyper-parameters."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)

    @classmethod
    def _from_dict(cls, d: dict, *, strict: bool):
        """`strict`: refuse keys the class does not know (else they are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - names)
        if strict and unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names})
