"""Labels of the low-light enhancement setting (Settings page), English and Simplified Chinese."""
from __future__ import annotations

EN: dict[str, str] = {
    "enh_label": "Low-light enhancement of photos",
    "enh_help": "Brightens dark photos (gamma, contrast on luminance, colour-cast removal) before faces are "
                "searched for. Auto: only photos that are dark on average. Off by default: on our darkened "
                "test photos the face detector found more faces without it.",
    "enh_auto": "Auto",
    "enh_on": "On",
    "enh_off": "Off",
}

ZH: dict[str, str] = {
    "enh_label": "照片低光增强",
    "enh_help": "在查找人脸之前提亮较暗的照片（伽马校正、亮度对比度增强、去除偏色）。自动：仅处理整体偏暗的照片。"
                "默认关闭：在我们调暗的测试照片上，不增强时检测器找到的人脸更多。",
    "enh_auto": "自动",
    "enh_on": "开启",
    "enh_off": "关闭",
}
