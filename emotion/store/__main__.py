"""``python -m emotion.store [upgrade|current|head]``."""
from __future__ import annotations
from emotion.store import main

raise SystemExit(main())
