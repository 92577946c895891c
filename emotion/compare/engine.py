"""Runs the comparison: every detector on every photo, every detector x recogniser on every pair,
every emotion classifier on the same faces - with progress, cancel, and a cache of work units.

Work units, each cached under the digest of the photo's pixels and the model names (`emotion.compare.cache`):

* faces  (photo, detector): detection time and count, the largest face's 150x150 recognition chip
  (68 landmarks -> `align.recognition_chip`, as the pipeline makes it), FER crops of up to
  `MAX_FACES_CLASSIFIED` faces (largest first) for the classifiers;
* embedding (photo, detector, recogniser): the largest face's embedding;
* scores (photo, detector, classifier): 7 probabilities per face.

Pair distances and correct/incorrect decisions are computed from the embeddings each time (cheap), so
changing which photos show the same person recomputes nothing. The whole result is cached too, under
a digest of the photos, their names, the same-person groups and the options.

Models come from `emotion.registry` and `emotion.pipeline.get_analyzer` (built once per process).
A model that cannot run here - weights missing, package missing, or its build fails - is reported
in the result with a reason; no exception
leaves `compare` except `CompareError` for bad input (too few/many photos, unreadable photo, a
same-person name that is not a photo). Timings exclude model loading (reported as `load_s`); each
detector gets one untimed warm-up pass on a small crop first, and each recogniser one untimed
embedding before its timed batch.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from emotion.compare import availability
from emotion.compare.cache import DEFAULT_CACHE, LRUCache, digest_bytes, digest_image
from emotion.compare.results import (REASON_BUILD_FAILED, REASON_DETECTOR_UNUSABLE, REASON_NOT_RUN,
                                     ClassifierComparison, ComboResult, CompareResult, DetectorResult,
                                     FaceScores, ModelStatus, PairResult, PhotoDetection, PhotoInfo)

log = logging.getLogger(__name__)

MIN_PHOTOS = 2
MAX_PHOTOS = 10
#: photos are shrunk to this longer side once, when loaded (bounded memory; faces stay large enough)
MAX_SIDE = 1600
MAX_FACES_CLASSIFIED = 5
MAX_NAME_CHARS = 200

#: progress(done, total, stage, label): stage is "detect", "embed" or "classify"; label names the
#: model(s) and the photo (language-neutral)
ProgressFn = Callable[[int, int, str, str], None]


class CompareError(ValueError):
    """Bad input for a comparison. `code` is stable (the UI translates it), `params` fill its message."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CompareOptions:
    #: None = every model the registries know (those that cannot run are reported, not run)
    detectors: tuple[str, ...] | None = None
    recognizers: tuple[str, ...] | None = None
    classifiers: tuple[str, ...] | None = None
    #: the detector whose faces the classifiers compare on (None: the photo default when it runs)
    classifier_detector: str | None = None
    max_side: int = MAX_SIDE

    def resolved(self) -> "CompareOptions":
        """Names filled in and canonical (detectors lower case, recognisers as the registry spells them,
        classifiers by their current names)."""
        from emotion.classify import canonical_name

        dets = self.detectors or tuple(availability.detector_names())
        recs = self.recognizers or tuple(availability.recognizer_names())
        clss = self.classifiers or tuple(availability.classifier_names())
        canon = {n.lower(): n for n in availability.recognizer_names()}
        return dataclasses.replace(
            self, detectors=tuple(dict.fromkeys(d.strip().lower() for d in dets if d.strip())),
            recognizers=tuple(dict.fromkeys(canon.get(r.strip().lower(), r.strip()) for r in recs if r.strip())),
            classifiers=tuple(dict.fromkeys(canonical_name(c) for c in clss if c.strip())),
            classifier_detector=(self.classifier_detector or "").strip().lower() or None)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


# ----------------------------------------------------------------------------- input
def load_photos(photos: Sequence[tuple[str, Any]], max_side: int = MAX_SIDE) -> list[tuple[str, np.ndarray]]:
    """(name, anything `load_image` takes) -> (name, BGR shrunk to `max_side`). CompareError on bad input."""
    from emotion.imageio import ImageError, downscale_for_analysis, load_image

    photos = list(photos)
    if len(photos) < MIN_PHOTOS or len(photos) > MAX_PHOTOS:
        raise CompareError("photo_count", f"compare {MIN_PHOTOS} to {MAX_PHOTOS} photos (got {len(photos)})",
                           n=len(photos), min=MIN_PHOTOS, max=MAX_PHOTOS)
    out: list[tuple[str, np.ndarray]] = []
    seen: set[str] = set()
    for name, src in photos:
        name = str(name)[:MAX_NAME_CHARS]
        if name in seen:
            raise CompareError("duplicate_name", f"two photos are named {name!r}; give each photo its own name",
                               name=name)
        seen.add(name)
        try:
            bgr = load_image(src)
        except ImageError as err:
            raise CompareError("bad_photo", f"{name}: {err}", name=name, detail=str(err)) from None
        small, _ = downscale_for_analysis(bgr, max_side)
        out.append((name, np.ascontiguousarray(small)))
    return out


def person_groups(names: Sequence[str], same: Sequence[Sequence[str]]) -> list[int]:
    """Group index per photo: photos named together in one `same` group (or linked through shared
    photos) get one index; every other photo is its own person."""
    index = {n: i for i, n in enumerate(names)}
    parent = list(range(len(names)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for group in same:
        ids = []
        for n in group:
            if n not in index:
                raise CompareError("unknown_photo", f"{n!r} in a same-person group is not one of the photos",
                                   name=str(n)[:MAX_NAME_CHARS])
            ids.append(index[n])
        for i in ids[1:]:
            parent[find(i)] = find(ids[0])
    roots: dict[int, int] = {}
    return [roots.setdefault(find(i), len(roots)) for i in range(len(names))]


# ----------------------------------------------------------------------------- work units
@dataclass
class _Faces:
    n: int
    ms: float
    error: str = ""
    chip: np.ndarray | None = None
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    crops: np.ndarray | None = None


def _face_unit(analyzer, bgr: np.ndarray) -> _Faces:
    t0 = time.perf_counter()
    dets = analyzer.detect(bgr)
    ms = (time.perf_counter() - t0) * 1e3
    if not dets:
        return _Faces(0, ms)
    dets = sorted(dets, key=lambda d: d.box.area, reverse=True)
    shapes: list[Any] = []
    for d in dets[:MAX_FACES_CLASSIFIED]:
        try:
            shapes.append(analyzer.landmarks(bgr, d.box))
        except (ValueError, RuntimeError):  # a face at the very border: frame it on the detection
            shapes.append(None)
    chip = None
    shape = shapes[0]
    if shape is None:
        try:
            shape = analyzer.five_points(bgr, dets[0].box)
        except (ValueError, RuntimeError):
            shape = None
    if shape is not None:
        chip = analyzer.recognition_chips(bgr, [shape])[0]
    crops = np.stack([analyzer.fer_crop(bgr, s if s is not None else d)
                      for d, s in zip(dets[:MAX_FACES_CLASSIFIED], shapes)])
    return _Faces(len(dets), ms, "", chip, tuple(d.box.as_tuple() for d in dets[:MAX_FACES_CLASSIFIED]), crops)


class _Run:
    """One call of `compare`: the cache, progress counting and cancel checks."""

    def __init__(self, cache: LRUCache, progress: ProgressFn | None, cancel: Any, total: int) -> None:
        self.cache = cache
        self.progress = progress
        self.cancel = cancel
        self.total = total
        self.done = 0
        self.computed = 0
        self.cached = 0
        self.warmed: set[str] = set()

    def cancelled(self) -> bool:
        c = self.cancel
        if c is None:
            return False
        if isinstance(c, threading.Event):
            return c.is_set()
        return bool(c())

    def step(self, stage: str, label: str, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        if self.progress is not None:
            try:
                self.progress(self.done, self.total, stage, label)
            except Exception:  # a broken progress display must not stop the comparison
                log.exception("progress callback failed")

    def unit(self, key: tuple, compute: Callable[[], Any]) -> tuple[Any, bool]:
        value = self.cache.get(key)
        if value is not None:
            self.cached += 1
            return value, True
        value = compute()
        self.cache.put(key, value)
        self.computed += 1
        return value, False


def _build(role: str, name: str, build: Callable[[], Any]) -> tuple[Any, ModelStatus | None, float]:
    """Build (or fetch) a model from the registry; a failure becomes a status, never an exception."""
    t0 = time.perf_counter()
    try:
        model = build()
    except Exception as err:  # noqa: BLE001 - any failure to build means "cannot run here"
        log.info("%s %s cannot run: %s", role, name, err)
        missing = getattr(err, "filename", None)
        return None, ModelStatus(role, name, False, REASON_BUILD_FAILED, f"{type(err).__name__}: {err}",
                                 missing_file=None if missing is None else str(missing)), 0.0
    return model, None, time.perf_counter() - t0


# ----------------------------------------------------------------------------- the comparison
def compare(photos: Sequence[tuple[str, Any]], same: Sequence[Sequence[str]] = (),
            options: CompareOptions | None = None, *, progress: ProgressFn | None = None,
            cancel: threading.Event | Callable[[], bool] | None = None,
            cache: LRUCache | None = None) -> CompareResult:
    """Compare every model on `photos` ((name, image source) pairs, 2..10). `same`: groups of photo
    names that show one person. `cancel`: an Event or a callable; when it fires the result so far
    comes back with ``cancelled=True`` and the combinations not reached marked ``not_run``."""
    from emotion import registry
    from emotion.classify import DEFAULT_CLASSIFIER
    from emotion.detect import DEFAULT_DETECTOR
    from emotion.pipeline import get_analyzer
    from emotion.recognize.gallery import distances

    t_start = time.perf_counter()
    cache = DEFAULT_CACHE if cache is None else cache
    opts = (options or CompareOptions()).resolved()
    loaded = load_photos(photos, opts.max_side)
    names = [n for n, _ in loaded]
    groups = person_groups(names, same)
    digests = [digest_image(bgr) for _, bgr in loaded]
    infos = [PhotoInfo(n, d, int(b.shape[1]), int(b.shape[0]), g) for (n, b), d, g in zip(loaded, digests, groups)]
    set_digest = digest_bytes(*(f"{n}\0{d}" for n, d in zip(names, digests)), json.dumps(groups),
                              json.dumps(opts.to_dict(), sort_keys=True))
    whole = cache.get(("result", set_digest))
    if whole is not None:
        return dataclasses.replace(whole, computed=0, cached=whole.computed + whole.cached,
                                   seconds=time.perf_counter() - t_start)

    det_status = availability.detector_statuses(opts.detectors)
    rec_status = {r: availability.recognizer_status(r) for r in opts.recognizers}
    cls_status = {c: availability.classifier_status(c) for c in opts.classifiers}
    usable_dets = [d for d in opts.detectors if det_status[d].usable]
    usable_recs = [r for r in opts.recognizers if rec_status[r].usable]
    usable_cls = [c for c in opts.classifiers if cls_status[c].usable]
    cls_det = opts.classifier_detector or (DEFAULT_DETECTOR if DEFAULT_DETECTOR in usable_dets
                                           else (usable_dets[0] if usable_dets else None))
    total = (len(usable_dets) * len(loaded) + len(usable_dets) * len(usable_recs)
             + (len(usable_cls) * len(loaded) if cls_det in usable_dets else 0))
    run = _Run(cache, progress, cancel, max(total, 1))
    result = CompareResult(set_digest, infos, opts.to_dict())

    # 1. detectors: time per photo, faces found, chips and crops
    faces: dict[str, list[_Faces | None]] = {}
    for det in opts.detectors:
        status = det_status[det]
        dres = DetectorResult(status)
        result.detectors.append(dres)
        if not status.usable or run.cancelled():
            if status.usable:
                status.usable, status.reason_code, status.reason = False, REASON_NOT_RUN, "cancelled before it ran"
            continue
        analyzer, failed, load_s = _build("detector", det, lambda: get_analyzer(det, "Dlib", DEFAULT_CLASSIFIER))
        if failed is not None:
            dres.status = failed
            run.step("detect", det, len(loaded))
            continue
        status.load_s = round(load_s, 3)
        warmed = False
        per_photo: list[_Faces | None] = []
        for (name, bgr), digest in zip(loaded, digests):
            if run.cancelled():
                per_photo.append(None)
                continue
            key = ("faces", digest, det, MAX_FACES_CLASSIFIED)
            if not warmed and key not in cache:
                _warm_up(analyzer, bgr)
                warmed = True
            try:
                unit, hit = run.unit(key, lambda: _face_unit(analyzer, bgr))
            except Exception as err:  # noqa: BLE001 - one photo failing must not end the comparison
                log.warning("detector %s failed on %s: %s", det, name, err)
                unit, hit = _Faces(0, 0.0, f"{type(err).__name__}: {err}"), False
            per_photo.append(unit)
            dres.photos.append(PhotoDetection(name, unit.n, unit.ms, unit.error, hit))
            run.step("detect", f"{det} · {name}")
        faces[det] = per_photo
        if len(dres.photos) < len(loaded):
            status.reason_code = REASON_NOT_RUN
            status.reason = "cancelled before every photo was analysed"

    # 2. recognisers on each detector's largest faces: embeddings, pair distances, decisions
    recognizers: dict[str, Any] = {}
    for rec in opts.recognizers:
        st = rec_status[rec]
        if st.usable:
            model, failed, load_s = _build("recognizer", rec, lambda: registry.get_recognizer(rec))
            if failed is not None:
                rec_status[rec] = st = failed
            else:
                recognizers[rec] = model
                st.load_s = round(load_s, 3)
                st.metric = getattr(model, "metric", st.metric)
                st.threshold = float(getattr(model, "threshold", st.threshold))
        result.recognizers.append(st)
    pair_index = [(i, j) for i in range(len(loaded)) for j in range(i + 1, len(loaded))]
    for det in opts.detectors:
        for rec in opts.recognizers:
            st = rec_status[rec]
            combo = ComboResult(det, rec, False, metric=st.metric, threshold=st.threshold)
            result.combos.append(combo)
            dst = next(d.status for d in result.detectors if d.name == det)
            if not st.usable:
                combo.reason_code, combo.reason = st.reason_code, st.reason
                combo.missing_file, combo.place_in = st.missing_file, st.place_in
                continue
            if det not in faces or not dst.usable:
                combo.reason_code = REASON_NOT_RUN if dst.reason_code == REASON_NOT_RUN else REASON_DETECTOR_UNUSABLE
                combo.reason = f"detector {det}: {dst.reason}"
                combo.missing_file, combo.place_in = dst.missing_file, dst.place_in
                continue
            if run.cancelled():
                combo.reason_code, combo.reason = REASON_NOT_RUN, "cancelled before it ran"
                continue
            _embed_combo(run, combo, recognizers[rec], faces[det], digests, names)
            for i, j in pair_index:
                ea, eb = combo.embeddings.get(names[i]), combo.embeddings.get(names[j])
                dist = None if ea is None or eb is None else float(distances(ea, eb, combo.metric or "euclidean_l2")[0, 0])
                combo.pairs.append(PairResult(names[i], names[j], groups[i] == groups[j], dist))
            combo.usable = True
            run.step("embed", f"{det} × {rec}")

    # 3. emotion classifiers side by side on the same faces
    result.classifiers = _classify(run, cls_det, faces, cls_status, usable_cls, loaded, digests)
    result.cancelled = run.cancelled()
    result.computed, result.cached = run.computed, run.cached
    result.seconds = time.perf_counter() - t_start
    if not result.cancelled:
        cache.put(("result", set_digest), result)
    return result


def _warm_up(analyzer, bgr: np.ndarray) -> None:
    """One untimed pass on a small centre crop, so lazy initialisation is not counted as a photo's time."""
    h, w = bgr.shape[:2]
    s = min(h, w, 160)
    y, x = (h - s) // 2, (w - s) // 2
    try:
        analyzer.detect(np.ascontiguousarray(bgr[y:y + s, x:x + s]))
    except Exception:  # noqa: BLE001 - a failing warm-up shows up on the real photo
        pass


def _embed_combo(run: _Run, combo: ComboResult, model: Any, det_faces: list[_Faces | None],
                 digests: list[str], names: list[str]) -> None:
    todo: list[int] = []
    for k, (unit, digest) in enumerate(zip(det_faces, digests)):
        if unit is None or unit.chip is None:
            combo.embeddings[names[k]] = None
            continue
        emb = run.cache.get(("embedding", digest, combo.detector, combo.recognizer))
        if emb is None:
            todo.append(k)
        else:
            run.cached += 1
            combo.embeddings[names[k]] = emb
    if not todo:
        return
    chips = np.stack([det_faces[k].chip for k in todo])
    if combo.recognizer not in run.warmed:  # untimed first pass: lazy initialisation is not a face's time
        run.warmed.add(combo.recognizer)
        try:
            model.embed(chips[:1])
        except Exception:  # noqa: BLE001 - a failing model shows up on the timed pass below
            pass
    t0 = time.perf_counter()
    try:
        embs = np.asarray(model.embed(chips), dtype=np.float32)
    except Exception as err:  # noqa: BLE001 - a model failing at run time is reported, not raised
        combo.reason_code, combo.reason = REASON_BUILD_FAILED, f"{type(err).__name__}: {err}"
        for k in todo:
            combo.embeddings[names[k]] = None
        return
    combo.ms_per_face = (time.perf_counter() - t0) * 1e3 / len(todo)
    for k, emb in zip(todo, embs):
        run.cache.put(("embedding", digests[k], combo.detector, combo.recognizer), emb)
        run.computed += 1
        combo.embeddings[names[k]] = emb


def _classify(run: _Run, det: str | None, faces: dict[str, list[_Faces | None]],
              cls_status: dict[str, ModelStatus], usable: list[str], loaded, digests) -> ClassifierComparison:
    from emotion import registry

    comp = ClassifierComparison(det or "")
    per_face: dict[tuple[str, int], FaceScores] = {}
    for name, st in cls_status.items():
        comp.models.append(st)
        if name not in usable:
            continue
        if det is None or det not in faces:
            st.usable, st.reason_code, st.reason = False, REASON_DETECTOR_UNUSABLE, f"detector {det} did not run"
            continue
        model, failed, load_s = _build("classifier", name, lambda: registry.get_classifier(name))
        if failed is not None:
            comp.models[-1] = failed
            continue
        st.load_s = round(load_s, 3)
        times: list[float] = []
        for (photo, _), digest, unit in zip(loaded, digests, faces[det]):
            if run.cancelled():
                st.reason_code, st.reason = REASON_NOT_RUN, "cancelled before every photo was classified"
                break
            if unit is None or unit.crops is None or not len(unit.crops):
                run.step("classify", f"{name} · {photo}")
                continue
            key = ("scores", digest, det, name, MAX_FACES_CLASSIFIED)
            scores = run.cache.get(key)
            if scores is None:
                t0 = time.perf_counter()
                try:
                    scores = np.asarray(model.predict(unit.crops), dtype=np.float32)
                except Exception as err:  # noqa: BLE001
                    st.reason_code, st.reason = REASON_BUILD_FAILED, f"{type(err).__name__}: {err}"
                    break
                times.append((time.perf_counter() - t0) * 1e3 / len(unit.crops))
                run.cache.put(key, scores)
                run.computed += 1
            else:
                run.cached += 1
            for k, (box, s) in enumerate(zip(unit.boxes, scores)):
                per_face.setdefault((photo, k), FaceScores(photo, k, box)).scores[name] = s
            run.step("classify", f"{name} · {photo}")
        comp.ms_per_face[name] = float(np.mean(times)) if times else None
    order = {p: i for i, (p, _) in enumerate(loaded)}
    comp.faces = sorted(per_face.values(), key=lambda f: (order[f.photo], f.index))
    return comp
