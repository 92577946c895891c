"""The Streamlit app's pages and their shared helpers (`pages.shared`, `pages.i18n`).

app.py registers the page scripts explicitly with ``st.navigation``; that call switches Streamlit's
automatic ``pages/`` discovery off, so this folder being a package changes nothing there.
"""
