"""Labels of issue 18's fixes (settings kept per user, history time zone and timeline, group photo
results, People form, Models table, Live), merged into ui.i18n."""
from __future__ import annotations

EN: dict[str, str] = {
    # settings
    "recognizer_help": "The model that turns a face into numbers to recognise enrolled people. "
                       "Faces are enrolled per recogniser: after a change, enrol people again.",
    "classifier_help": "The model that scores the seven emotions.",
    "classifier_paths": "Photos: {photo}{photo_views} ({photo_figure}). Live camera and videos: {live}, one pass "
                        "a frame ({live_figure}).",
    "views_mirror": ", each face also mirrored",
    "views_mirror_zoom": ", each face in 6 views (mirrored, zoomed in and out)",
    "settings_note_saved": "Your settings are saved to your account and restored whenever you sign in.",
    "settings_not_saved": "The database is unreachable: your settings apply to this session but were not saved.",
    "settings_not_restored": "The database is unreachable: your saved settings could not be loaded, the defaults "
                             "apply for now.",
    # history
    "per_auto": "auto ({bucket})",
    "per_week": "week",
    "per_month": "month",
    "style_bars": "Stacked bars",
    "time_local": "Time ({tz})",
    "date_range_local": "Dates ({tz})",
    "csv_utc_note": "Times in the CSV file are in UTC.",
    # photo results
    "col_face_help": "The number drawn next to the face on the image.",
    "col_scores": "All emotions",
    "col_scores_help": "The seven emotion scores as one bar, in the colours of the legend below the table.",
    "all_scores": "All scores as numbers",
    # people
    "person_exists_offer": "You already have a person called {name}. Add the {n} new photo(s) to them instead?",
    "add_to_existing": "Add {n} photo(s) to {name}",
    "add_cancel": "Cancel",
    "photos_added": "{n} photo(s) added to {name}.",
    # models
    "models_all": "All models",
    "col_measured": "Measured",
    "col_command": "Measured by",
    "col_command_help": "The command (run in the project folder) that prints this figure.",
    "not_measured": "not measured",
    "figure_accuracy_fer2013": "{value} accuracy on FER2013 PublicTest{n}",
    "figure_n": " ({n} faces)",
    "role_detector": "Face detector",
    "role_landmarks": "Landmarks",
    "role_recognizer": "Recogniser",
    "role_classifier": "Emotion classifier",
    # live
    "live_save_short": "Save to my history",
}

ZH: dict[str, str] = {
    # settings
    "recognizer_help": "把人脸转换为数字以识别已登记人物的模型。每个识别模型分别登记人脸：更换后请重新登记。",
    "classifier_help": "为七种情绪打分的模型。",
    "classifier_paths": "照片：{photo}{photo_views}（{photo_figure}）。实时摄像头和视频：{live}，每帧运行一次（{live_figure}）。",
    "views_mirror": "，每张脸另加镜像",
    "views_mirror_zoom": "，每张脸取 6 个视图（镜像、放大和缩小）",
    "settings_note_saved": "您的设置保存在账户中，每次登录时自动恢复。",
    "settings_not_saved": "数据库无法连接：设置在本次会话中有效，但未保存。",
    "settings_not_restored": "数据库无法连接：无法加载您保存的设置，暂时使用默认设置。",
    # history
    "per_auto": "自动（{bucket}）",
    "per_week": "周",
    "per_month": "月",
    "style_bars": "堆叠柱状图",
    "time_local": "时间（{tz}）",
    "date_range_local": "日期（{tz}）",
    "csv_utc_note": "CSV 文件中的时间为 UTC。",
    # photo results
    "col_face_help": "图片上人脸旁标注的编号。",
    "col_scores": "全部情绪",
    "col_scores_help": "七种情绪得分合成一条色带，颜色与表格下方的图例一致。",
    "all_scores": "查看全部得分数值",
    # people
    "person_exists_offer": "已存在名为 {name} 的人物。要把这 {n} 张新照片添加给此人吗？",
    "add_to_existing": "添加 {n} 张照片给 {name}",
    "add_cancel": "取消",
    "photos_added": "已为 {name} 添加 {n} 张照片。",
    # models
    "models_all": "全部模型",
    "col_measured": "实测结果",
    "col_command": "测量命令",
    "col_command_help": "在项目目录中运行、输出该结果的命令。",
    "not_measured": "未测量",
    "figure_accuracy_fer2013": "FER2013 PublicTest 准确率 {value}{n}",
    "figure_n": "（{n} 张人脸）",
    "role_detector": "人脸检测",
    "role_landmarks": "面部关键点",
    "role_recognizer": "人脸识别",
    "role_classifier": "情绪分类",
    # live
    "live_save_short": "保存到我的历史记录",
}
