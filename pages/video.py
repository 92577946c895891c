"""Video: upload a recording -> per-person emotion timeline, segments, distribution, CSV and an
annotated MP4. The analysis runs as a background job (`ui.video_jobs`): the page polls it every
second in a fragment (progress, ETA, Cancel) and shows the results once it is over."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources, text, user_settings, video_jobs, video_results
from ui.i18n import t

JOB_KEY = "video_job"  # (digest, job id) of this session's current video

user = gate.require_user()
settings = user_settings.get_settings()
st.title(t("video_title"))
mb = video_jobs.max_upload_mb()
uploaded = st.file_uploader(t("video_upload", mb=mb), type=video_jobs.VIDEO_TYPES, key="video_upload",
                            max_upload_size=mb)
rates = [0, 1, 2, 5, 10]
c1, c2 = st.columns(2)
rate = c1.radio(t("video_rate"), rates, index=3, key="video_rate", horizontal=True,
                    format_func=lambda r: t("video_rate_every") if r == 0 else t("video_rate_n", n=r))
mode = c2.radio(t("video_mode"), ["fast", "accurate"], horizontal=True, key="video_mode",
                format_func=lambda m: t("video_mode_" + m))
# a classroom session (not ended) to save the rows into: chosen before the analysis, kept with its job
chosen_session = video_results.session_choice(int(user["id"]))
if uploaded is None:
    st.info(t("video_hint"))
    st.stop()

path, digest = video_jobs.save_upload(uploaded)
runner = video_jobs.jobs()
key = (int(user["id"]), digest)
params = {"rate": rate or None, "mode": mode, "max_duration_s": video_jobs.max_duration_s(),
          "max_bytes": mb * 1024 * 1024}
job_id = runner.find(key)
if st.button(t("video_start"), type="primary", key="video_start", icon="▶️"):
    context = {"analyzer": resources.get_analyzer(settings)}
    with outage.db_guard(show=False) as guard:
        context["gallery"] = resources.get_gallery(user["id"], settings)
    if guard.failed:
        outage.show_db_error(t("db_unreachable_no_recognition"))
    job_id = runner.submit(key, path, params, own_file=True, context=context)
    video_results.remember_session(job_id, chosen_session)

if job_id is None:
    st.stop()


@st.fragment(run_every=1.0)
def progress_panel() -> None:
    view = runner.progress(job_id)
    if view is None or view["state"] in ("done", "cancelled", "failed"):
        if not st.session_state.get("video_shown_final") == job_id:
            st.session_state["video_shown_final"] = job_id
            st.rerun()  # the whole page: show the results
        return
    if view["state"] == "queued":
        st.progress(0.0, text=t("video_queued"))
    else:
        frac = view["fraction"] or 0.0
        if view["eta_s"] is not None:
            label = t("video_progress", done=view["samples"], pos=video_results.clock(view["video_time_s"]),
                      dur=video_results.clock(view["duration_s"]), elapsed=video_results.clock(view["elapsed_s"]),
                      eta=video_results.clock(view["eta_s"]))
        else:
            label = t("video_progress_no_eta", done=view["samples"], pos=video_results.clock(view["video_time_s"]),
                      elapsed=video_results.clock(view["elapsed_s"]))
        st.progress(min(1.0, max(0.0, frac)), text=label)
    if st.button(t("video_cancel"), key="video_cancel", icon="⏹️"):
        runner.cancel(job_id)


view = runner.progress(job_id)
if view is not None and view["state"] not in ("done", "cancelled", "failed"):
    st.session_state.pop("video_shown_final", None)
    progress_panel()
    st.stop()
if view is None:
    st.stop()
if view["state"] == "failed":
    st.error(video_results.error_text(view["error_code"], view["error_params"], view["failure"]), icon="🎞️")
    st.stop()

result = runner.result(job_id)
stem = (uploaded.name.rsplit(".", 1)[0] or "video")[:80]
video_results.show_result(result, digest=digest, file_stem=stem)
# saved once: into the session chosen when the analysis started (or chosen now, for a job found from
# an earlier run), with "save history" on or a session chosen
session_id = video_results.job_session(job_id, chosen_session)
if settings.save_history or session_id is not None:
    with outage.db_guard(t("video_not_saved")):
        n = video_results.save_history(user, result, digest, session_id=session_id)
        if n:
            st.toast(t("video_saved"), icon="💾")
        elif n == 0:
            st.caption(t("video_already_saved"))
