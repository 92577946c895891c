"""The face as a second sign-in factor (issue 14): liveness challenge, enrolment, recovery codes.

Engine only (never imports Streamlit). Modules:
* `geometry`   - face-shape measures from the 68 landmarks (EAR, yaw, mouth width, brow height);
* `detectors`  - per-user baseline and the actions those measures show over frames;
* `challenge`  - the random challenge and its state machine (`ChallengeRun.feed(observation)`);
* `probe`      - camera frame -> `Observation` (landmarks + embedding) through the shared models;
* `enrol`      - the enrolment quality gate and guided pose collection (embeddings only);
* `recovery`   - one-time recovery codes (argon2id hashes);
* `policy`     - the match threshold and where it comes from.
"""
