from emotion.cli import main

raise SystemExit(main())
