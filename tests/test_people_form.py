"""The People form after an enrolment (real app.py under AppTest, real SQLite, the real engine):
it starts empty again, and a name that already exists offers to add the photos to that person."""
from __future__ import annotations

import os

import pytest

pytest.importorskip("streamlit.testing.v1")

from tests.test_app import _navigation_mode, app, astronaut_png, button, ok, register, texts  # noqa: E402,F401
from ui.i18n import t  # noqa: E402

PASSWORD = "correct horse 1"
PHOTO = ("astronaut.png", "image/png")


def _uploader(at):
    [up] = [u for u in at.file_uploader if u.key.startswith("enrol_photos")]
    return up


def _embeddings(uid: int) -> dict[str, int]:
    from emotion.store import open_store

    store = open_store(os.environ["DATABASE_URL"])
    try:
        return {p.name: p.embedding_count for p in store.list_people(uid)}
    finally:
        store.close()


def test_form_clears_after_enrolment_and_offers_the_existing_person(app):
    at = app()
    register(at, "erin", PASSWORD)
    uid = at.session_state["auth_user"]["id"]
    at.switch_page("pages/people.py").run()

    at.text_input(key="enrol_name").set_value("Eileen")
    _uploader(at).set_value([(PHOTO[0], astronaut_png(), PHOTO[1])])
    button(at, t("enrol_button")).click().run()
    ok(at)
    assert t("enrolled", name="Eileen", n=1) in texts(at, "success")
    # the form is empty again: no name, a fresh uploader without files
    assert at.text_input(key="enrol_name").value == ""
    assert _uploader(at).key != "enrol_photos" and not _uploader(at).value
    assert _embeddings(uid) == {"Eileen": 1}

    # the same name again (other letter case): no second person; an offer to add to her instead
    at.text_input(key="enrol_name").set_value(" eileen ")
    _uploader(at).set_value([(PHOTO[0], astronaut_png(), PHOTO[1])])
    button(at, t("enrol_button")).click().run()
    ok(at)
    assert t("person_exists_offer", name="Eileen", n=1) in texts(at, "warning")
    assert at.text_input(key="enrol_name").value == " eileen "  # nothing typed is lost
    assert _embeddings(uid) == {"Eileen": 1}
    button(at, t("add_to_existing", name="Eileen", n=1)).click().run()
    ok(at)
    assert t("photos_added", name="Eileen", n=1) in texts(at, "success")
    assert _embeddings(uid) == {"Eileen": 2}
    assert at.text_input(key="enrol_name").value == ""
    assert not [b for b in at.button if b.key == "enrol_add_existing"]


def test_cancelling_the_offer_adds_nothing(app):
    at = app()
    register(at, "fred", PASSWORD)
    uid = at.session_state["auth_user"]["id"]
    at.switch_page("pages/people.py").run()
    for _ in range(2):
        at.text_input(key="enrol_name").set_value("Eileen")
        _uploader(at).set_value([(PHOTO[0], astronaut_png(), PHOTO[1])])
        button(at, t("enrol_button")).click().run()
        ok(at)
    button(at, t("add_cancel")).click().run()
    ok(at)
    assert not [b for b in at.button if b.key == "enrol_add_existing"]
    assert _embeddings(uid) == {"Eileen": 1}
