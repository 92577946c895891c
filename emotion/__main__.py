"""``python -m emotion COMMAND``: hands over to `emotion.cli`."""
from emotion.cli import main

raise SystemExit(main())
