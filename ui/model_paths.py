"""What the Models and Settings pages say about the emotion model: a measured figure as text, and which
weight files the photo path and the live path (camera and videos) run, each with its own figure."""
from __future__ import annotations

from emotion import registry
from emotion.classify.views import VIEWS
from emotion.model_figures import ClassifierPath, Figure, classifier_paths
from ui.i18n import t
from ui.text import md


def figure_text(figure: Figure | None) -> str:
    if figure is None:
        return t("not_measured")
    n = "" if figure.n is None else t("figure_n", n=f"{figure.n:,}")
    return t("figure_" + figure.metric, value=f"{figure.value:.1%}", n=n)


def files_text(path: ClassifierPath) -> str:
    """"A + B + C x0.25": the files a path averages, with each weight other than 1 (language-neutral)."""
    weights = path.weights if len(path.weights) == len(path.files) else (1.0,) * len(path.files)
    return " + ".join(name + ("" if w == 1 else f" ×{w:g}") for name, w in zip(path.files, weights))


def classifier_paths_text(name: str) -> str | None:
    """"Photos: A + B, each face in 6 views (67.5 % ...). Live camera and videos: ..." for the classifier
    ``name``; None when it cannot be built here or has no weight files of its own (DeepFace)."""
    try:
        paths = {p.role: p for p in classifier_paths(registry.get_classifier(name))}
    except Exception:  # noqa: BLE001 - an unavailable model: the selector's own warning covers it
        return None
    if not all(paths.get(role) and paths[role].files for role in ("photo", "live")):
        return None
    views = paths["photo"].views
    return t("classifier_paths", photo=md(files_text(paths["photo"])),
             photo_views=t("views_" + views) if views in VIEWS and views != "one" else "",
             photo_figure=figure_text(paths["photo"].figure), live=md(files_text(paths["live"])),
             live_figure=figure_text(paths["live"].figure))
