"""People: enrol someone (a name and one or more photos; the largest face of each photo is kept),
see their face thumbnails, add photos, rename, delete (with confirmation). Every change
invalidates the cached gallery so recognition picks it up at once."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources, text, uploads, user_settings
from ui.i18n import error_text, t

user = gate.require_user()
settings = user_settings.get_settings()
uid = user["id"]

st.title(t("people_title"))
st.caption(t("people_intro"))


def show_errors(errors: list[str]) -> None:
    for e in errors:
        st.error(text.md(e))


# ---- enrol -----------------------------------------------------------------------------------------
# After a successful enrolment the form starts empty: the name through its session key (set before the
# widget exists), the photos through a new uploader key (an uploader's files cannot be set from code).
PENDING_KEY = "enrol_pending"  # (name, person id, embedding items) waiting for "add to that person"
CLEAR_KEY = "enrol_clear"
VERSION_KEY = "enrol_form_version"
flash = st.session_state.pop("people_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
if st.session_state.pop(CLEAR_KEY, False):
    st.session_state["enrol_name"] = ""
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1
version = st.session_state.get(VERSION_KEY, 0)
photos_key = "enrol_photos" if version == 0 else f"enrol_photos_{version}"


def enrolled(message: str) -> None:
    """Done: say so on the next run, with an empty form."""
    st.session_state.pop(PENDING_KEY, None)
    st.session_state["people_flash"] = message
    st.session_state[CLEAR_KEY] = True
    resources.invalidate_gallery(uid)
    st.rerun()


with st.form("enrol_form", clear_on_submit=False):
    st.subheader(t("enrol_title"))
    new_name = st.text_input(t("person_name"), key="enrol_name", max_chars=100)
    photos = st.file_uploader(t("enrol_photos"), type=uploads.IMAGE_TYPES, accept_multiple_files=True,
                              key=photos_key, max_upload_size=uploads.MAX_UPLOAD_MB)
    enrol = st.form_submit_button(t("enrol_button"), type="primary")

if enrol:
    st.session_state.pop(PENDING_KEY, None)
    name = (new_name or "").strip()
    if not name:
        st.error(t("person_name_required"))
    elif not photos:
        st.error(t("enrol_need_photo"))
    else:
        from emotion.store import NameTaken

        items, errors = uploads.embed_uploads(settings, photos)
        show_errors(errors)
        if not items:
            st.error(t("enrol_nothing_usable"))
        else:
            done = None
            with outage.db_guard():
                store = resources.get_store()
                try:
                    person = store.add_person(uid, name)
                except NameTaken:
                    existing = store.find_person(uid, name)
                    if existing is None:  # deleted in between: nothing to add to
                        st.error(t("person_exists", name=text.md(name)))
                    else:
                        st.session_state[PENDING_KEY] = (existing.name, existing.id, items)
                except ValueError as err:
                    st.error(text.md(error_text(err)))
                else:
                    store.add_embeddings(uid, person.id, items)
                    done = t("enrolled", name=text.md(person.name), n=len(items))
            if done:
                enrolled(done)

pending = st.session_state.get(PENDING_KEY)
if pending:
    p_name, p_id, p_items = pending
    with st.container(border=True):
        st.warning(t("person_exists_offer", name=text.md(p_name), n=len(p_items)), icon=":material/person_search:")
        b1, b2 = st.columns(2)
        if b1.button(t("add_to_existing", name=text.md(p_name), n=len(p_items)), key="enrol_add_existing", type="primary",
                     icon=":material/add_photo_alternate:"):
            from emotion.store import PersonNotFound

            done = None
            with outage.db_guard():
                try:
                    resources.get_store().add_embeddings(uid, p_id, p_items)
                except PersonNotFound:
                    st.session_state.pop(PENDING_KEY, None)
                    st.error(t("person_gone"))
                else:
                    done = t("photos_added", name=text.md(p_name), n=len(p_items))
            if done:
                enrolled(done)
        if b2.button(t("add_cancel"), key="enrol_add_cancel", icon=":material/close:"):
            st.session_state.pop(PENDING_KEY, None)
            st.rerun()

# ---- the people ------------------------------------------------------------------------------------
st.subheader(t("people_list"))
people = []
with outage.db_guard() as guard:
    people = resources.get_store().list_people(uid)
if guard.failed:
    st.stop()
if not people:
    st.info(t("no_people"))
    st.stop()

for person in people:
    pid = person.id
    with st.expander(t("person_label", name=text.md(person.name), n=person.embedding_count)):
        thumbs = []
        with outage.db_guard():
            thumbs = [e.thumbnail for e in resources.get_store().list_embeddings(uid, pid) if e.thumbnail]
        if thumbs:
            st.image(thumbs[:24], width=80)
        else:
            st.caption(t("no_thumbnails"))

        with st.form(f"add_photos_{pid}"):
            more = st.file_uploader(t("add_photos"), type=uploads.IMAGE_TYPES, accept_multiple_files=True,
                                    key=f"more_{pid}", max_upload_size=uploads.MAX_UPLOAD_MB)
            if st.form_submit_button(t("add_photos_button")) and more:
                from emotion.store import PersonNotFound

                items, errors = uploads.embed_uploads(settings, more)
                show_errors(errors)
                if items:
                    with outage.db_guard():
                        try:
                            resources.get_store().add_embeddings(uid, pid, items)
                        except PersonNotFound:
                            st.error(t("person_gone"))
                        else:
                            resources.invalidate_gallery(uid)
                            st.rerun()

        with st.form(f"rename_{pid}"):
            renamed = st.text_input(t("new_name"), value=person.name, key=f"rename_name_{pid}", max_chars=100)
            if st.form_submit_button(t("rename_button")):
                from emotion.store import NameTaken

                with outage.db_guard():
                    try:
                        ok = resources.get_store().rename_person(uid, pid, renamed)
                    except NameTaken:
                        st.error(t("person_exists", name=text.md(renamed)))
                    except ValueError as err:
                        st.error(text.md(error_text(err)))
                    else:
                        if not ok:
                            st.error(t("person_gone"))
                        else:
                            resources.invalidate_gallery(uid)
                            st.rerun()

        confirm = st.checkbox(t("delete_person_confirm", name=text.md(person.name)), key=f"del_ok_{pid}")
        if st.button(t("delete_person"), key=f"del_{pid}", disabled=not confirm, type="primary"):
            with outage.db_guard():
                resources.get_store().delete_person(uid, pid)
                resources.invalidate_gallery(uid)
                st.rerun()
