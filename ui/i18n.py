"""Every label of the app in English and Simplified Chinese; `t(key, **fields)` picks the session's
language (``st.session_state["lang"]``, set by the sidebar switch `language_switch`).

A key missing from a language falls back to English, and a key missing from English shows the key
itself (tests check that both tables have the same keys and that every key used by the pages exists).
Fields are filled with ``str.format``; callers escape user data (`ui.text.md`) before passing it.
A feature may keep its labels in ``ui/i18n_<feature>.py`` (dicts ``EN`` and ``ZH``); they are merged here.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

LANG_KEY = "lang"
DEFAULT_LANG = "en"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}

EN: dict[str, str] = {
    # navigation and session
    "nav_login": "Log in",
    "nav_register": "Register",
    "nav_photo": "Photo",
    "nav_live": "Live",
    "nav_people": "People",
    "nav_history": "History",
    "nav_settings": "Settings",
    "nav_models": "Models",
    "signed_in_as": "Signed in as **{name}**",
    "logout": "Log out",
    "logged_out": "You have been logged out.",
    "session_expired": "Your session expired after a period of inactivity. Please log in again.",
    "login_required": "Please log in to use this page.",
    "db_unreachable": "The database is unreachable right now, so accounts, people and history are unavailable. "
                      "Please try again in a moment.",
    "db_unreachable_no_recognition": "The database is unreachable: faces are analysed but not recognised.",
    "db_unreachable_not_saved": "The database is unreachable: this result was not saved to your history.",
    "loading_models": "Loading the models (first use only)…",
    # login / register
    "login_title": "Log in",
    "register_title": "Create an account",
    "register_rules": "User name: 3 to 32 characters: letters (any script), digits, dot, dash or underscore, "
                      "no spaces. Password: at least 8 characters.",
    "username": "User name",
    "password": "Password",
    "password_confirm": "Confirm password",
    "login_button": "Log in",
    "register_button": "Create account",
    "no_account_yet": "No account yet?",
    "have_account": "Already registered?",
    "welcome_new": "Welcome, {name}! Your account is ready.",
    # photo
    "photo_title": "Analyse a photo",
    "photo_upload": "Photo (JPG, PNG, WebP or BMP, at most {mb} MB)",
    "photo_hint": "Upload a photo: every face is boxed, named when you enrolled the person, "
                  "and scored on seven emotions.",
    "show_landmarks": "Show the 68 landmarks",
    "save_to_history": "Save results to my history",
    "bad_image": "This file cannot be used: {error}",
    "file_too_big": "the file is larger than {mb} MB",
    "photo_caption": "{n} face(s) found",
    "face_summary": "Face {i}: {name} · {emotion} {score}",
    "no_face": "No face found in this photo. Try a sharper, brighter or more frontal picture.",
    "col_name": "Name",
    "col_emotion": "Emotion",
    "col_score": "Score",
    "col_source": "Source",
    "col_confidence": "Detector confidence",
    "saved_rows": "{n} face(s) saved to your history",
    "classifier_missing": "The emotion model is not available yet (its file in models/ is missing): faces are "
                          "found and recognised, but not scored.",
    "photo_in_history": "This photo is in your history.",
    "download_png": "Download annotated PNG",
    "timings": "Timings: {text}",
    "emo_angry": "angry",
    "emo_disgust": "disgust",
    "emo_fear": "fear",
    "emo_happy": "happy",
    "emo_sad": "sad",
    "emo_surprise": "surprise",
    "emo_neutral": "neutral",
    "unknown": "unknown",
    # people
    "people_title": "People",
    "people_intro": "Enrol the people the app should recognise: a name and one or more photos of them. "
                    "The largest face of each photo is used.",
    "enrol_title": "Enrol a person",
    "person_name": "Name",
    "enrol_photos": "Photos of this person",
    "enrol_button": "Enrol",
    "person_name_required": "Please enter a name.",
    "enrol_need_photo": "Please add at least one photo.",
    "enrol_nothing_usable": "None of the photos could be used, so nobody was enrolled.",
    "file_rejected": "{file}: {error}",
    "file_no_face": "{file}: no face found in this photo.",
    "person_exists": "You already have a person called {name}.",
    "enrolled": "{name} enrolled with {n} photo(s).",
    "people_list": "Your people",
    "no_people": "Nobody enrolled yet: faces are shown as \"unknown\" until you enrol someone.",
    "person_label": "{name} · {n} photo(s)",
    "no_thumbnails": "No photos stored.",
    "add_photos": "Add photos",
    "add_photos_button": "Add",
    "new_name": "New name",
    "rename_button": "Rename",
    "person_gone": "This person no longer exists.",
    "delete_person_confirm": "Yes, delete {name} and their photos",
    "delete_person": "Delete",
    # history
    "history_title": "History",
    "history_empty": "Your history is empty. Analyse a photo or use the live camera with saving switched on, "
                     "and the results will show up here.",
    "history_no_match": "Nothing matches these filters.",
    "history_no_emotions": "None of these records has emotion scores, so there is nothing to chart.",
    "date_range": "Dates (UTC)",
    "filter_people": "People",
    "everyone": "Everyone",
    "filter_source": "Source",
    "all_sources": "All sources",
    "source_photo": "photo",
    "source_camera": "camera",
    "source_video": "video",
    "faces_in_range": "Faces",
    "chart_distribution": "Distribution",
    "chart_timeline": "Timeline",
    "chart_people": "Per person",
    "chart_kind": "Chart",
    "chart_bar": "Bars",
    "chart_pie": "Pie",
    "count": "Count",
    "granularity": "Per",
    "per_minute": "minute",
    "per_hour": "hour",
    "per_day": "day",
    "chart_style": "Style",
    "style_area": "Stacked area",
    "style_lines": "Lines",
    "time_utc": "Time (UTC)",
    "history_table": "Records",
    "page_of": "Page (of {n})",
    "download_csv": "Download CSV",
    "snapshots": "Snapshots",
    "no_snapshots": "No snapshots in this date range.",
    "snapshot_pick": "Snapshot",
    "download_snapshot": "Download snapshot",
    "delete_history_title": "Delete my history",
    "delete_history_warning": "This deletes all your history records and snapshots. It cannot be undone.",
    "delete_history_confirm": "I understand, delete everything",
    "delete_history": "Delete my history",
    "history_deleted": "{n} record(s) deleted.",
    # settings
    "settings_title": "Settings",
    "detector": "Face detector",
    "detector_help": "Only detectors whose weights are available offline are listed.",
    "recognizer": "Recogniser",
    "classifier": "Emotion classifier",
    "recognizer_unavailable": "The face recogniser could not be loaded; the threshold cannot be changed.",
    "threshold": "Recognition threshold (distance)",
    "threshold_help": "Faces closer than this ({metric}) to an enrolled person get their name. Lower is "
                      "stricter. Default: {default:.2f}.",
    "threshold_reset": "Reset to default",
    "save_default": "Save photo results to my history by default",
    "settings_saved": "Settings saved",
    "settings_note": "Settings apply to this session.",
    # models
    "models_title": "Models",
    "models_intro": "The models the app can use, where their weights come from and how well they do.",
    "models_error": "Could not list the models: {error}",
    "col_role": "Role",
    "col_model": "Model",
    "col_weights": "Weights",
    "col_origin": "Origin",
    "col_usable": "Usable",
    "col_accuracy": "Accuracy",
    "col_note": "Notes",
    "models_in_use": "In use",
    "no_cjk_font": "No Chinese font is installed on the server, so labels drawn on images and the live "
                   "video stay in English. To draw them in Chinese: `{command}`.",
    "database": "Database: {url}",
    # live camera (pages/live.py)
    "live_title": "Live camera",
    "live_hint": "Press START and allow the camera: every face is tracked, named when enrolled, and scored "
                 "on seven emotions at camera speed. Nothing leaves this server.",
    "live_mode": "Mode",
    "live_mode_fast": "Fast (BlazeFace)",
    "live_mode_accurate": "Accurate (photo detector)",
    "live_mode_help": "Fast finds faces near the camera in a few milliseconds; Accurate uses the photo "
                      "detector chosen in Settings (slower, also small faces).",
    "live_save": "Save to my history (one row per face per second)",
    "live_capture": "Capture",
    "live_capture_none": "No frame yet: start the camera first.",
    "live_captured": "Captured {n} face(s) to your history.",
    "live_capture_download": "Download the capture (PNG)",
    "live_fps": "Frames per second",
    "live_latency": "Latency p50 / p95",
    "live_faces": "Faces",
    "live_mix_title": "Emotion mix, last 10 s",
    "live_person_title": "Per person, last 10 s",
    "live_waiting": "The chart appears once the camera is running.",
    "live_history_status": "History: {written} row(s) saved, {pending} waiting.",
    "live_db_down": "The database is unreachable: {pending} row(s) are kept and will be saved when it is back.",
    "live_error": "The last frame could not be analysed: {error}",
    "live_no_webrtc": "The live camera needs the streamlit-webrtc package, which is not installed.",
    "live_face_line": "#{track} **{name}**: {emotion} {score}",
    "live_frames": "{n} frames analysed ({mode})",
}

ZH: dict[str, str] = {
    "nav_login": "登录",
    "nav_register": "注册",
    "nav_photo": "照片",
    "nav_live": "实时",
    "nav_people": "人物",
    "nav_history": "历史",
    "nav_settings": "设置",
    "nav_models": "模型",
    "signed_in_as": "已登录：**{name}**",
    "logout": "退出登录",
    "logged_out": "您已退出登录。",
    "session_expired": "由于长时间未操作，会话已过期。请重新登录。",
    "login_required": "请先登录再使用此页面。",
    "db_unreachable": "数据库暂时无法连接，账户、人物和历史记录不可用。请稍后再试。",
    "db_unreachable_no_recognition": "数据库无法连接：已分析人脸，但无法识别身份。",
    "db_unreachable_not_saved": "数据库无法连接：本次结果未保存到历史记录。",
    "loading_models": "正在加载模型（仅首次使用）…",
    "login_title": "登录",
    "register_title": "创建账户",
    "register_rules": "用户名：3 到 32 个字符（任意文字的字母、数字、点、连字符或下划线，不含空格；一个汉字按两个字符计算最小长度）。密码：至少 8 个字符。",
    "username": "用户名",
    "password": "密码",
    "password_confirm": "确认密码",
    "login_button": "登录",
    "register_button": "创建账户",
    "no_account_yet": "还没有账户？",
    "have_account": "已经注册？",
    "welcome_new": "欢迎，{name}！您的账户已创建。",
    "photo_title": "分析照片",
    "photo_upload": "照片（JPG、PNG、WebP 或 BMP，最大 {mb} MB）",
    "photo_hint": "上传一张照片：每张人脸都会被框出，已登记的人会显示姓名，并给出七种情绪的得分。",
    "show_landmarks": "显示 68 个特征点",
    "save_to_history": "将结果保存到我的历史记录",
    "bad_image": "无法使用此文件：{error}",
    "file_too_big": "文件大于 {mb} MB",
    "photo_caption": "找到 {n} 张人脸",
    "face_summary": "人脸 {i}：{name} · {emotion} {score}",
    "no_face": "这张照片中没有找到人脸。请尝试更清晰、更明亮或更正面的照片。",
    "col_name": "姓名",
    "col_emotion": "情绪",
    "col_score": "得分",
    "col_source": "来源",
    "col_confidence": "检测置信度",
    "saved_rows": "已将 {n} 张人脸保存到历史记录",
    "classifier_missing": "情绪模型暂不可用（models/ 中缺少它的文件）：可以检测和识别人脸，但无法给出情绪得分。",
    "photo_in_history": "这张照片已在您的历史记录中。",
    "download_png": "下载标注后的 PNG",
    "timings": "耗时：{text}",
    "emo_angry": "愤怒",
    "emo_disgust": "厌恶",
    "emo_fear": "恐惧",
    "emo_happy": "高兴",
    "emo_sad": "悲伤",
    "emo_surprise": "惊讶",
    "emo_neutral": "平静",
    "unknown": "未知",
    "people_title": "人物",
    "people_intro": "登记需要识别的人：填写姓名并上传一张或多张照片。每张照片使用其中最大的人脸。",
    "enrol_title": "登记人物",
    "person_name": "姓名",
    "enrol_photos": "此人的照片",
    "enrol_button": "登记",
    "person_name_required": "请输入姓名。",
    "enrol_need_photo": "请至少添加一张照片。",
    "enrol_nothing_usable": "没有可用的照片，未登记任何人。",
    "file_rejected": "{file}：{error}",
    "file_no_face": "{file}：照片中没有找到人脸。",
    "person_exists": "已存在名为 {name} 的人物。",
    "enrolled": "已登记 {name}，共 {n} 张照片。",
    "people_list": "我的人物",
    "no_people": "尚未登记任何人：登记之前，所有人脸都显示为“未知”。",
    "person_label": "{name} · {n} 张照片",
    "no_thumbnails": "没有保存的照片。",
    "add_photos": "添加照片",
    "add_photos_button": "添加",
    "new_name": "新姓名",
    "rename_button": "重命名",
    "person_gone": "此人物已不存在。",
    "delete_person_confirm": "是的，删除 {name} 及其照片",
    "delete_person": "删除",
    "history_title": "历史记录",
    "history_empty": "您的历史记录为空。在开启保存的情况下分析照片或使用实时摄像头，结果将显示在这里。",
    "history_no_match": "没有符合筛选条件的记录。",
    "history_no_emotions": "这些记录都没有情绪得分，无法绘制图表。",
    "date_range": "日期（UTC）",
    "filter_people": "人物",
    "everyone": "所有人",
    "filter_source": "来源",
    "all_sources": "所有来源",
    "source_photo": "照片",
    "source_camera": "摄像头",
    "source_video": "视频",
    "faces_in_range": "人脸数",
    "chart_distribution": "分布",
    "chart_timeline": "时间线",
    "chart_people": "按人物",
    "chart_kind": "图表",
    "chart_bar": "柱状图",
    "chart_pie": "饼图",
    "count": "数量",
    "granularity": "统计间隔",
    "per_minute": "分钟",
    "per_hour": "小时",
    "per_day": "天",
    "chart_style": "样式",
    "style_area": "堆叠面积图",
    "style_lines": "折线图",
    "time_utc": "时间（UTC）",
    "history_table": "记录",
    "page_of": "页码（共 {n} 页）",
    "download_csv": "下载 CSV",
    "snapshots": "快照",
    "no_snapshots": "此日期范围内没有快照。",
    "snapshot_pick": "快照",
    "download_snapshot": "下载快照",
    "delete_history_title": "删除我的历史记录",
    "delete_history_warning": "这将删除您所有的历史记录和快照，且无法恢复。",
    "delete_history_confirm": "我明白，全部删除",
    "delete_history": "删除我的历史记录",
    "history_deleted": "已删除 {n} 条记录。",
    "settings_title": "设置",
    "detector": "人脸检测器",
    "detector_help": "仅列出权重可离线使用的检测器。",
    "recognizer": "识别模型",
    "classifier": "情绪分类器",
    "recognizer_unavailable": "无法加载人脸识别模型，不能修改阈值。",
    "threshold": "识别阈值（距离）",
    "threshold_help": "与已登记人物的距离（{metric}）小于此值时显示其姓名。值越小越严格。默认：{default:.2f}。",
    "threshold_reset": "恢复默认",
    "save_default": "默认将照片结果保存到历史记录",
    "settings_saved": "设置已保存",
    "settings_note": "设置在本次会话中有效。",
    "models_title": "模型",
    "models_intro": "应用可使用的模型、其权重来源及准确率。",
    "models_error": "无法列出模型：{error}",
    "col_role": "用途",
    "col_model": "模型",
    "col_weights": "权重",
    "col_origin": "来源",
    "col_usable": "可用",
    "col_accuracy": "准确率",
    "col_note": "说明",
    "models_in_use": "当前使用",
    "no_cjk_font": "服务器上没有安装中文字体，因此图片和实时视频上绘制的标签保持英文。如需中文标签，请运行：`{command}`。",
    "database": "数据库：{url}",
    # live camera (pages/live.py)
    "live_title": "实时摄像头",
    "live_hint": "点击 START 并允许使用摄像头：每张人脸都会被跟踪，已登记的人会显示姓名，并以摄像头的速度给出七种情绪得分。"
                 "画面不会离开本服务器。",
    "live_mode": "模式",
    "live_mode_fast": "快速（BlazeFace）",
    "live_mode_accurate": "精确（照片检测器）",
    "live_mode_help": "快速模式几毫秒内找到靠近摄像头的人脸；精确模式使用设置中选择的照片检测器（较慢，也能找到小脸）。",
    "live_save": "保存到我的历史记录（每张脸每秒一行）",
    "live_capture": "截图",
    "live_capture_none": "还没有画面：请先启动摄像头。",
    "live_captured": "已将 {n} 张人脸保存到历史记录。",
    "live_capture_download": "下载截图（PNG）",
    "live_fps": "每秒帧数",
    "live_latency": "延迟 p50 / p95",
    "live_faces": "人脸",
    "live_mix_title": "最近 10 秒的情绪构成",
    "live_person_title": "最近 10 秒，按人",
    "live_waiting": "摄像头运行后这里会显示图表。",
    "live_history_status": "历史记录：已保存 {written} 行，{pending} 行等待中。",
    "live_db_down": "数据库暂时无法连接：{pending} 行已暂存，恢复后会自动保存。",
    "live_error": "上一帧无法分析：{error}",
    "live_no_webrtc": "实时摄像头需要 streamlit-webrtc 软件包，但它没有安装。",
    "live_face_line": "#{track} **{name}**：{emotion} {score}",
    "live_frames": "已分析 {n} 帧（{mode}）",
}


def _merge_feature_tables() -> None:
    """Add the ``EN``/``ZH`` dicts of every ``ui/i18n_<feature>.py`` (features keep their labels
    in a file of their own, so that two features never edit the same dict). A key defined twice is
    an error: one label, one place."""
    import importlib
    import pkgutil
    from pathlib import Path

    for mod in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
        if not mod.startswith("i18n_"):
            continue
        feature = importlib.import_module(f"ui.{mod}")
        for base, extra in ((EN, getattr(feature, "EN", {})), (ZH, getattr(feature, "ZH", {}))):
            clash = set(base) & set(extra)
            if clash:
                raise RuntimeError(f"ui/{mod}.py redefines labels {sorted(clash)}")
            base.update(extra)


_merge_feature_tables()
STRINGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def current_language() -> str:
    try:
        lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    except Exception:  # outside a Streamlit run (plain imports, unit tests)
        lang = DEFAULT_LANG
    return lang if lang in STRINGS else DEFAULT_LANG


def t(key: str, lang: str | None = None, **fields: Any) -> str:
    """The label `key` in the session's language (or `lang`), with `fields` filled in."""
    table = STRINGS.get(lang or current_language(), EN)
    text = table.get(key) or EN.get(key) or key
    if fields:
        try:
            return text.format(**fields)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def error_text(err: BaseException, lang: str | None = None) -> str:
    """An engine error in the session's language: a typed error (`emotion.errors.EngineError`) by its
    code and params (``err.<code>`` labels, `ui/i18n_errors.py`); anything else as ``str(err)``.
    Params that are user data (a person's name) must be escaped by the caller if shown as Markdown."""
    code = getattr(err, "code", None)
    key = f"err.{code}"
    if code is None or key not in EN:
        return str(err)
    return t(key, lang, **getattr(err, "params", {}))


def drawn_labels(lang: str | None = None) -> dict[str, str] | None:
    """Emotion names and "unknown" for the labels drawn on images and the live video, in the
    session's language; None (English) for English, or when no CJK font is installed to draw them
    (`emotion.draw.can_draw_cjk`; the Models page says so)."""
    lang = lang or current_language()
    if lang == "en":
        return None
    from emotion.draw import can_draw_cjk
    from emotion.records import EMOTIONS

    if not can_draw_cjk():
        return None
    return {**{e: t("emo_" + e, lang) for e in EMOTIONS}, "unknown": t("unknown", lang),
            "too_small": t("sess_too_small_drawn", lang)}


def language_switch() -> str:
    """The sidebar's language selector (its label is bilingual, so its identity never changes)."""
    if st.session_state.get(LANG_KEY) not in STRINGS:
        st.session_state[LANG_KEY] = DEFAULT_LANG
    st.sidebar.selectbox("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key=LANG_KEY)
    return current_language()
