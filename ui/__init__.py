"""The Streamlit side of the dashboard: helpers the thin page scripts in pages/ and app.py call.

Streamlit is imported only here, in pages/ and in app.py; never in `emotion/`.
"""
from __future__ import annotations
