"""Measure the Dlib recogniser's distances, for the threshold in emotion.recognize.dlib_resnet.

    python -m tools.measure_threshold [--n 150]

Prints distances only (no image is written): the astronaut photo vs modified copies of itself
(genuine), FER2013 PublicTest faces vs the astronaut and vs each other (impostors; pessimistic,
the faces are 48 px), and each FER face vs its mirror image (genuine at low resolution).
"""
from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=150)
    args = ap.parse_args(argv)
    import numpy as np, cv2
    from skimage import data
    from emotion.pipeline import Analyzer
    from emotion.records import Box
    from emotion.config import FER2013_DIR
    from emotion.train.data import load_npz_xz as load_split
    from emotion.recognize.gallery import distances
    a = Analyzer(detector="blazeface_full")
    bgr = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    ref = a.embed_faces(bgr)[0].embedding
    variants = {"flip": bgr[:, ::-1], "x0.6": cv2.resize(bgr, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA),
                "x0.3": cv2.resize(bgr, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA),
                "x2": cv2.resize(bgr, None, fx=2, fy=2), "rot10": cv2.warpAffine(bgr, cv2.getRotationMatrix2D((256,256), 10, 1), (512,512)),
                "jpeg30": cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 30])[1], 1),
                "gray": cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR),
                "dark": (bgr * 0.5).astype(np.uint8)}
    gen = {}
    for k, v in variants.items():
        f = a.embed_faces(np.ascontiguousarray(v))
        gen[k] = float(distances(f[0].embedding, ref, "euclidean_l2")[0, 0]) if f else None
    print("genuine astronaut", {k: None if v is None else round(v, 3) for k, v in gen.items()})
    imgs, _ = load_split(FER2013_DIR / "PublicTest.npz.xz")
    idx = np.random.default_rng(0).choice(len(imgs), args.n, replace=False)
    embs, embs_flip = [], []
    for i in idx:
        up = cv2.resize(imgs[i], None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
        up = cv2.cvtColor(cv2.copyMakeBorder(up, 24, 24, 24, 24, cv2.BORDER_REPLICATE), cv2.COLOR_GRAY2BGR)
        box = Box(24 + 8, 24 + 8, 192 - 16, 192 - 16)
        lm = a.landmarks(up, box)
        embs.append(a.embed(up, lm))
        upf = np.ascontiguousarray(up[:, ::-1]); lmf = a.landmarks(upf, Box(up.shape[1] - box.x2, box.y, box.w, box.h))
        embs_flip.append(a.embed(upf, lmf))
    E, F = np.array(embs), np.array(embs_flip)
    d_ast = distances(E, ref, "euclidean_l2")[:, 0]
    D = distances(E, E, "euclidean_l2"); iu = np.triu_indices(len(E), 1); imp = D[iu]
    gen_fer = np.diag(distances(E, F, "euclidean_l2"))
    q = lambda x: np.round(np.percentile(x, [0, 1, 5, 50]), 3)
    print("FER vs astronaut: min/1/5/50%", q(d_ast))
    print("FER impostor pairs (note: some PublicTest images show the same person):", q(imp), "n", len(imp))
    print("FER genuine (image vs its mirror): 50/95/99/100%", np.round(np.percentile(gen_fer, [50, 95, 99, 100]), 3))
    for t in (0.35, 0.4, 0.45, 0.5, 0.6):
        print(t, "FAR pairs", round(float((imp <= t).mean()), 4), "FAR ast", round(float((d_ast <= t).mean()), 4), "FRR fer-mirror", round(float((gen_fer > t).mean()), 4))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
