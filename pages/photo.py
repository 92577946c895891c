"""Photo: upload a picture -> every face boxed with its 68 landmarks, the recognised name (or
"unknown") and the seven emotion scores; download the annotated PNG; saved to the history once per
file (keyed by the file's digest, so reruns never save twice)."""
from __future__ import annotations

import streamlit as st

from ui import charts, gate, outage, resources, text, uploads, user_settings
from ui.i18n import drawn_labels, error_text, t

user = gate.require_user()
settings = user_settings.get_settings()

st.title(t("photo_title"))
flash = gate.pop_flash()
if flash:
    st.success(flash)

uploaded = st.file_uploader(t("photo_upload", mb=uploads.MAX_UPLOAD_MB), type=uploads.IMAGE_TYPES,
                            key="photo_upload", max_upload_size=uploads.MAX_UPLOAD_MB)
c1, c2 = st.columns(2)
show_landmarks = c1.toggle(t("show_landmarks"), value=settings.show_landmarks, key="photo_landmarks")
save = c2.checkbox(t("save_to_history"), value=settings.save_history, key="photo_save")

if uploaded is None:
    st.info(t("photo_hint"))
    st.stop()

data = uploaded.getvalue()
result = uploads.analyze_upload(data, user, settings)
if result.error:
    st.error(t("bad_image", error=error_text(result.error)), icon=":material/broken_image:")
    st.stop()

from emotion.draw import annotate, to_png  # noqa: E402 - only needed once there is a picture

faces = result.faces
classifier_error = getattr(resources.get_analyzer(settings), "classifier_error", None)
if classifier_error:
    st.warning(t("classifier_missing"), icon=":material/warning:")
annotated = annotate(result.bgr, faces, landmarks=show_landmarks, labels=drawn_labels())
shown = uploads.displayable(annotated)
if charts.photo_width(shown.shape[1]) > shown.shape[1]:  # a small photo: enlarged, at most twice
    import cv2

    scale = charts.photo_width(shown.shape[1]) / shown.shape[1]
    shown = cv2.resize(shown, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
# its own size, never wider than the column (an integer width would overflow a phone's screen)
st.image(shown, channels="BGR", caption=t("photo_caption", n=len(faces)), width="content")

if not faces:
    st.info(t("no_face"))
else:
    from emotion.records import EMOTIONS

    table = charts.faces_table(faces)  # numbered as on the image
    st.dataframe(table[["face", "name", "emotion", "score", "scores"]], hide_index=True, width="stretch",
                 key="photo_results", column_config={
                     "face": st.column_config.NumberColumn("#", width="small", help=t("col_face_help")),
                     "name": st.column_config.TextColumn(t("col_name")),
                     "emotion": st.column_config.TextColumn(t("col_emotion")),
                     "score": st.column_config.ProgressColumn(t("col_score"), min_value=0.0, max_value=1.0,
                                                              format="percent", width="small"),
                     "scores": st.column_config.ImageColumn(t("col_scores"), help=t("col_scores_help")),
                 })
    st.image(charts.scores_legend())
    with st.expander(t("all_scores"), icon=":material/table_chart:"):
        config = {"face": st.column_config.NumberColumn("#", width="small"), "name": t("col_name")}
        config.update({e: st.column_config.NumberColumn(t("emo_" + e), format="%.2f") for e in EMOTIONS})
        st.dataframe(table[["face", "name", *EMOTIONS]], hide_index=True, width="stretch", column_config=config,
                     key="photo_all_scores")
    # the same in words (screen readers, copy and paste): name, dominant emotion and its score per face
    for row in table.itertuples(index=False):
        score = "" if row.score != row.score else f"{row.score:.0%}"
        st.markdown(t("face_summary", i=row.face, name=text.md(row.name), emotion=row.emotion, score=score))

    if save:
        with outage.db_guard(t("db_unreachable_not_saved")):
            new = uploads.save_photo_history(user, result, uploads.displayable(annotated), filename=uploaded.name)
            if new:
                st.toast(t("saved_rows", n=new), icon=":material/save:")
    if result.digest in st.session_state.get(uploads.PHOTO_SAVED_KEY, set()):
        st.caption(t("photo_in_history"))

stem = (uploaded.name.rsplit(".", 1)[0] or "photo")[:80]
st.download_button(t("download_png"), data=to_png(annotated), file_name=f"{stem}-annotated.png",
                   mime="image/png", icon=":material/download:", key="photo_download", on_click="ignore")
if result.timings:
    st.caption(t("timings", text=", ".join(f"{k} {v:.0f} ms" for k, v in result.timings.items())))
