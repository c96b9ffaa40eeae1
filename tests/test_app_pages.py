"""Every page under Streamlit's AppTest, against a throwaway store; the live callback called directly."""

from __future__ import annotations

import time
from types import SimpleNamespace
from unittest import mock

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
import av
import streamlit as st
from streamlit.testing.v1 import AppTest

from liveness.challenge import Step
from liveness.config import PROJECT_ROOT, settings
from liveness.media import iter_video
from liveness.pipeline import verify_video
from liveness.store import auth, cases, policies, reviews

PASSWORD = "correct horse battery staple"
CLIP = settings().data_dir / "video" / "cap12_edit_640x480.mjpeg"
PAGES = {"home": "app.py", "verify": "pages/1_Verificação.py", "replay": "pages/2_Replay.py",
         "queue": "pages/3_Fila_de_análise.py", "thresholds": "pages/4_Modelo_e_limiares.py"}


@pytest.fixture(scope="module")
def app_store(tmp_path_factory):
    """The app's cached Store, on a temporary database and evidence folder, with two accounts."""
    var_dir = tmp_path_factory.mktemp("var")
    patch = pytest.MonkeyPatch()
    patch.setenv("LIVENESS_VAR_DIR", str(var_dir))
    patch.setenv("DATABASE_URL", f"sqlite:///{var_dir / 'app.db'}")
    patch.setenv("LIVENESS_MODE", "demo")
    for name in ("LIVENESS_EVIDENCE_DIR", "LIVENESS_EVIDENCE_KEY", "LIVENESS_APP_STEPS", "LIVENESS_APP_STEP_TIMEOUT_S"):
        patch.delenv(name, raising=False)
    st.cache_resource.clear()
    from ui.cases import store
    app_store = store()
    auth.create_user(app_store, "rita", PASSWORD, "reviewer")
    auth.create_user(app_store, "ana", PASSWORD, "admin")
    yield app_store
    st.cache_resource.clear()
    patch.undo()


@pytest.fixture(scope="module")
def live_document():
    """The clip's own person, from its first second, as the ID photo."""
    from ui.resources import document_enroller
    frame = next(f for f in iter_video(CLIP, max_frames=20) if f.index == 15)
    return document_enroller(0.7).enroll(frame.image, policies.DEFAULT_POLICY)


def page(name: str, user=None) -> AppTest:
    # Through the entry point, as a browser would: the menu links resolve against app.py.
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    if name != "home":
        at.switch_page(PAGES[name])
    if user is not None:
        at.session_state["user"] = user
    return at


def no_webrtc_session():
    # AppTest has no runtime session manager for the webrtc component.
    return mock.patch("streamlit_webrtc.component.get_this_session_info", return_value=None)


def test_home_shows_models_policy_and_switches_language(app_store):
    at = page("home").run()
    assert not at.exception
    assert at.title[0].value == "Verificação de identidade facial"
    assert at.metric[0].value == policies.current_policy(app_store).version
    models = at.dataframe[0].value
    # The files the engine decides with; the evaluation-only ones are on the model page.
    assert set(models["Modelo"]) == {"yunet", "sface", "face_landmarker", "passive"} and "Versão" in models.columns
    assert "Detector de rostos YuNet" in " ".join(models["Função"])  # every model's role said in Portuguese
    assert not any(role.startswith("model_role_") for role in models["Função"])
    at.selectbox[0].select("en").run()
    assert at.title[0].value == "Face identity verification"
    assert "YuNet face detector" in " ".join(at.dataframe[0].value["Role"])


def test_verification_page_asks_for_the_document_and_shows_the_camera(app_store):
    with no_webrtc_session():
        at = page("verify").run()
    assert not at.exception
    assert "Envie o documento" in at.info[0].value
    check = at.session_state["live_check"]
    assert len(check.session.steps) >= 2  # random, drawn server-side
    check.close()  # its MediaPipe graph must not outlive the test (it hangs the interpreter's exit)


def test_a_file_that_is_no_image_is_explained_and_the_check_goes_on_without_it(app_store):
    not_a_photo = SimpleNamespace(getvalue=lambda: b"plain text, not a photo of a document")
    with no_webrtc_session(), mock.patch.object(st, "file_uploader", return_value=not_a_photo):
        at = page("verify").run()
    assert not at.exception
    assert any("não é uma imagem aceita" in e.value for e in at.error), [e.value for e in at.error]
    assert any("Prova de vida" in h.value for h in at.subheader)  # the live check is still offered
    check = at.session_state["live_check"]
    assert at.session_state["document_digest"] is None  # compared with no earlier document
    check.close()


def test_a_document_the_page_no_longer_holds_is_not_used_by_the_next_check(app_store):
    """Back on the page after another one, the upload widget is empty again: the check must not
    still compare with the earlier document (nor show the earlier result) while the page asks for one."""
    frame = next(f for f in iter_video(CLIP, max_frames=20) if f.index == 15)
    photo = SimpleNamespace(getvalue=lambda: cv2.imencode(".jpg", frame.image)[1].tobytes())
    with no_webrtc_session(), mock.patch.object(st, "file_uploader", return_value=photo):
        at = page("verify").run()
    first = at.session_state["live_check"]
    assert at.session_state["document_digest"] is not None and first.session.document is not None
    with no_webrtc_session(), mock.patch.object(st, "file_uploader", return_value=None):
        at.run()
    assert not at.exception and "Envie o documento" in at.info[0].value
    check = at.session_state["live_check"]
    assert check is not first and check.session.document is None
    check.close()


def _stream_keys(at: AppTest) -> set[str]:
    return {key for key in at.session_state if key.startswith("verification-") and ":frontend" not in key}


def test_verification_stream_survives_a_run_count_counted_late(app_store):
    """A render seeing the session's run count two ahead of the last one must not reset the stream.

    Streamlit counts a finished run when its message leaves the event loop, so a run may read
    the count before the previous run is counted, and the next render sees a jump of two.
    streamlit-webrtc 0.79 takes such a jump for a page change and stops the worker that has
    just answered the browser's offer: the second browser on a busy server never connected.
    """
    from streamlit_webrtc import component

    session = SimpleNamespace(script_run_count=3)
    with mock.patch("streamlit_webrtc.component.get_this_session_info", return_value=session), \
            mock.patch("streamlit_webrtc.component._reset_context", wraps=component._reset_context) as reset:
        at = page("verify").run()
        (key,) = _stream_keys(at)
        assert at.session_state[key]._last_rendered_run_count == 3  # the check the page turns off
        session.script_run_count = 5
        at.run()
    assert not at.exception
    reset.assert_not_called()
    at.session_state["live_check"].close()


def test_verification_stream_is_new_on_each_visit(app_store):
    """Back from another page, the iframe is new: the stream must not reuse the last visit's context."""
    with no_webrtc_session():
        at = page("verify").run()
        first = _stream_keys(at)
        at.run()
        assert _stream_keys(at) == first  # a rerun on the page keeps the stream
        at.switch_page("app.py").run()
        at.switch_page(PAGES["verify"]).run()
    assert not at.exception
    assert len(_stream_keys(at) - first) == 1
    at.session_state["live_check"].close()


def test_live_callback_draws_and_records_the_case(app_store, live_document):
    """The video_frame_callback on the real clip: overlays, a verdict, a case in the store."""
    from ui.cases import open_grant, record
    from liveness.live import LiveCheck

    grant = open_grant("customer-live-test")
    check = LiveCheck(live_document, policies.DEFAULT_POLICY.replace(step_timeout_s=30, session_timeout_s=60),
                      [Step.SMILE], "pt", True, session_id=grant.session_id, nonce=grant.nonce,
                      on_verdict=lambda s, v: record(app_store, s.id, s.nonce, v.to_dict(), s.evidence()))
    changed = 0
    started = time.monotonic()
    for frame in iter_video(CLIP):  # paced like a camera: the engine keeps the server's clock
        time.sleep(max(0.0, frame.timestamp_s - (time.monotonic() - started)))
        video_frame = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
        out = check.on_frame(video_frame).to_ndarray(format="bgr24")
        changed += bool((out != frame.image).any())
        if check.verdict is not None:
            break
    else:
        check.finish()
    assert changed > 10  # boxes and instructions drawn on the frames
    assert check.wait_recorded(10) and check.record_error is None
    verdict = check.verdict
    assert "smile_not_detected" not in verdict.reasons and "document_mismatch" not in verdict.reasons
    # The prompt's time is when the first frame showing it was sent, a little after it was scheduled.
    prompt = next(e for e in verdict.timeline if e["event"] == "prompt")
    shown = next(e for e in verdict.timeline if e["event"] == "shown")
    print(f"\nprompt scheduled at {prompt['t']:.3f} s, first sent at {shown['t']:.3f} s; reasons {verdict.reasons}")
    assert prompt["t"] <= shown["t"] < prompt["t"] + 1.0
    case = cases.get_case(app_store, check.recorded.id)
    assert case.verdict == verdict.decision and case.has_evidence
    check.close()


def test_pages_for_reviewers_need_a_login(app_store):
    at = page("replay").run()
    assert not at.exception
    assert at.text_input.len == 2 and "analistas" in at.info[0].value
    at.text_input[0].input("rita")
    at.text_input[1].input("wrong password!")
    at.button[0].click().run()
    assert "incorretos" in at.error[0].value
    at.text_input[0].input("rita")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception and at.session_state["user"].username == "rita"
    assert any("Analisar" in b.label for b in at.button)


def test_replay_shows_a_result_and_saves_it_as_a_case(app_store, tmp_path):
    outcome = verify_video(CLIP, steps=[Step.SMILE], annotated_out=tmp_path / "annotated.mp4")
    at = page("replay", auth.get_user(app_store, "rita"))
    at.session_state["replay_result"] = {"outcome": outcome, "annotated": outcome.annotated_path.read_bytes(),
                                  "case": None}
    at.run()
    assert not at.exception
    shown = [e.value for e in (*at.warning, *at.success)]
    assert any(outcome.verdict.decision == "review" and "Enviado para análise" in text
               or outcome.verdict.accepted and "Cadastro aceito" in text for text in shown)
    [timeline] = [d.value for d in at.dataframe if "Evento" in d.value.columns]
    assert len(timeline) and not any(str(v).startswith(("event_", "step_"))
                                     for v in (*timeline["Evento"], *timeline["Etapa"]))
    [save] = [b for b in at.button if b.label == "Salvar caso"]
    save.click().run()  # without the customer reference: refused, saying what is missing
    assert any("Informe a referência do cliente" in e.value for e in at.error)
    assert at.session_state["replay_result"]["case"] is None
    at.text_input[0].input("customer-replay-1")
    [save] = [b for b in at.button if b.label == "Salvar caso"]
    save.click().run()
    assert not at.exception
    saved = at.session_state["replay_result"]["case"]
    assert cases.get_case(app_store, saved.id).customer_ref == "customer-replay-1"


def test_queue_lists_review_cases_and_records_a_decision(app_store):
    queue = reviews.review_queue(app_store)
    assert queue, "the previous tests recorded cases in review"
    at = page("queue", auth.get_user(app_store, "rita")).run()
    assert not at.exception
    assert f"{len(queue)} caso(s)" in at.caption[0].value
    [scores] = [d.value for d in at.dataframe if "Medida" in d.value.columns]  # a table, not raw JSON
    decimals = [len(repr(v).split(".")[1]) for v in scores["Valor"] if isinstance(v, float)]
    assert len(scores) > 3 and decimals and max(decimals) <= 3
    at.radio[0].set_value("reject")
    at.text_area[0].input("printed photo held up to the camera")
    [submit] = [b for b in at.button if b.label == "Registrar decisão"]
    submit.click().run()
    assert not at.exception
    decided = cases.get_case(app_store, queue[0].id)
    assert decided.status == "rejected" and decided.decision.reviewer == "rita"
    assert [c.case_id for c in reviews.labelled_cases(app_store)] == [queue[0].id]


def test_the_chosen_case_stays_chosen_when_the_reviewer_switches_language(app_store, tmp_path):
    """The picker's labels change with the language: unkeyed, it went back to the first case."""
    outcome = verify_video(CLIP, steps=[Step.SMILE])
    for customer in ("customer-replay-2", "customer-replay-3"):  # two more cases in the queue
        replay = page("replay", auth.get_user(app_store, "rita"))
        replay.session_state["replay_result"] = {"outcome": outcome, "annotated": None, "case": None}
        replay.run()
        replay.text_input[0].input(customer)
        [save] = [b for b in replay.button if b.label == "Salvar caso"]
        save.click().run()
    queue = reviews.review_queue(app_store)
    assert len(queue) >= 2
    at = page("queue", auth.get_user(app_store, "rita")).run()
    at.selectbox(key="queue_case").select_index(1).run()
    at.sidebar.selectbox[0].set_value("en").run()
    assert not at.exception and at.selectbox(key="queue_case").value.id == queue[1].id
    assert any(queue[1].customer_ref in h.value for h in at.subheader)  # "Evidence of case …"


def test_thresholds_page_is_for_admins_and_saves_a_policy_version(app_store):
    at = page("thresholds", auth.get_user(app_store, "rita")).run()
    assert "admin" in at.error[0].value
    at = page("thresholds", auth.get_user(app_store, "ana")).run()
    assert not at.exception
    assert any(m.label == "APCER" for m in at.metric)  # a labelled case exists
    assert "dlib_resnet" in at.dataframe[0].value["Modelo"].tolist()  # the evaluation-only files too
    # The case the queue test labelled was recorded with its trace: it is replayed, not approximated.
    assert any("Redecididos exatamente: 1." in c.value for c in at.caption)
    # The results across sources, one row per source left out, each recipe with its summary.
    summaries = [c.value for c in at.caption if "Cada linha: a fonte deixada de fora" in c.value]
    per_source = [d.value for d in at.dataframe if "Fonte deixada de fora" in d.value.columns]
    assert summaries and len(per_source) == len(summaries)
    for table in per_source:  # rates in percent; a dash for a source with one class only
        assert len(table) >= 5 and table["ACER"].str.endswith(" %").sum() >= len(table) - 1
        assert all(v == "—" or v.endswith(" %") for v in table["ACER"])
    at.slider[0].set_value(0.6).run()
    [smile] = [s for s in at.slider if s.label == "Sorriso: intensidade mínima"]
    smile.set_value(0.5).run()
    assert not at.exception
    expected_version = policies.next_version(app_store)  # the shipped version's last number + 1
    [save] = [b for b in at.button if b.label == "Salvar versão"]
    save.click().run()  # the note says why, in the audit log: it is required
    assert any("Escreva uma observação" in e.value for e in at.error), [e.value for e in at.error]
    assert policies.next_version(app_store) == expected_version  # nothing saved
    at.text_area[0].input("stricter liveness after the rejected photo case")
    [save] = [b for b in at.button if b.label == "Salvar versão"]
    save.click().run()
    assert not at.exception
    current = policies.current_policy(app_store)
    assert current.version == expected_version and current.policy.passive_threshold == 0.6
    assert current.policy.smile_min == 0.5 and current.policy.blink_closed == policies.DEFAULT_POLICY.blink_closed


def test_production_mode_shows_the_customer_only_the_outcome(app_store, monkeypatch):
    from ui.app_config import app_config
    monkeypatch.setenv("LIVENESS_MODE", "production")
    with no_webrtc_session():
        at = page("verify").run()
    assert not at.exception
    assert any("Modo produção" in c.value for c in at.sidebar.caption)
    assert not any("Etapas do desafio" in c.value for c in at.caption)  # the challenge stays server-side
    assert at.session_state["live_check"].show_scores is False
    assert st.get_option("client.showErrorDetails") == "none"  # no traceback for the bank's customers
    at.session_state["live_check"].close()
    monkeypatch.setenv("LIVENESS_APP_STEPS", "smile")
    with pytest.raises(RuntimeError, match="production"):
        app_config(policies.DEFAULT_POLICY)


def test_every_key_frame_caption_is_said_in_each_language():
    """Key frames are labelled ``step:event`` by the session; the queue shows them in words."""
    from liveness.i18n import LANGUAGES, t
    from ui.charts import key_frame_caption

    labels = ["first_face", "first_low_live_score"] + [
        f"{step}:{event}" for step in ("baseline", *(s.value for s in Step))
        for event in ("measured", "started", "prompt", "shown", "held", "passed", "failed")]
    for lang in LANGUAGES:
        with mock.patch("ui.charts.tr", lambda key, **values: t(key, lang, **values)):
            captions = [key_frame_caption(label) for label in labels]
        assert not [c for c in captions if "step_" in c or "event_" in c or "key_frame_" in c], lang
    with mock.patch("ui.charts.tr", lambda key, **values: t(key, "pt", **values)):
        assert key_frame_caption("turn_left:failed") == "Virar à esquerda: reprovada"


def test_sampled_scores_are_joined_between_their_samples_on_the_chart():
    """The live probability is scored on every n-th face only: with gaps, the chart drew no line."""
    from ui.charts import timeline_frame

    frame = timeline_frame({"passive": [None, 0.8, None, None, 0.5, None], "smile": [0.1] * 6},
                           [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    passive = frame["passive"].tolist()
    assert passive[1:5] == pytest.approx([0.8, 0.7, 0.6, 0.5])
    assert np.isnan(passive[0]) and np.isnan(passive[5])  # nothing made up before or after the samples
    assert frame["smile"].tolist() == [0.1] * 6


def test_the_chart_says_what_the_similarity_is_compared_with():
    """Without a usable document the identity samples are compared with the first face, not a document."""
    from liveness.i18n import t
    from ui.charts import series_labels

    with mock.patch("ui.charts.tr", lambda key, **values: t(key, "pt", **values)):
        assert series_labels(["spoof_suspected"])["similarity"] == "Semelhança com o documento"
        for reason in ("no_document", "document_no_face", "document_multiple_faces"):
            assert series_labels(["spoof_suspected", reason])["similarity"] == "Semelhança com o primeiro rosto"


def test_the_customer_reference_and_the_language_follow_the_menu_and_a_reload():
    """The menu's links drop the query: a bank's ?customer= (the attempt limit's key) would be lost."""
    at = page("home")
    at.query_params["customer"] = "bank-7"
    at.run()
    at.sidebar.selectbox[0].set_value("en").run()
    at.switch_page(PAGES["verify"])
    at.query_params.clear()  # the menu's link: the new page's URL has no query
    with no_webrtc_session():
        at.run()
    assert not at.exception
    assert at.query_params["customer"] in ("bank-7", ["bank-7"]) and at.query_params["lang"] in ("en", ["en"])
    assert at.title[0].value == "Verification"
    # A reload is a new session: the URL it keeps brings the language back.
    reloaded = page("verify")
    reloaded.query_params.update({"customer": "bank-7", "lang": "en"})
    with no_webrtc_session():
        reloaded.run()
    assert reloaded.title[0].value == "Verification"


def test_every_score_of_a_verdict_is_said_in_words_in_each_language():
    from liveness.challenge import Step
    from liveness.i18n import LANGUAGES, t
    from liveness.verdict import SessionMeasurements, scores_of
    from liveness.policy import DEFAULT_POLICY
    from ui.verdict_view import score_label

    m = SessionMeasurements(frames=40, frames_with_face=40, similarities=[0.6], passive_scores=[0.8],
                            challenge_peaks={s.value: 0.9 for s in Step},
                            turn_residuals={"turn_left": 0.03, "turn_right": 0.04})
    names = list(scores_of(m, DEFAULT_POLICY))
    assert {"peak_smile", "planar_residual_turn_left", "similarity"} <= set(names)
    for lang in LANGUAGES:
        with mock.patch("ui.verdict_view.tr", lambda key, **values: t(key, lang, **values)):
            labels = [score_label(name) for name in names]
        assert not [label for label in labels if "score_" in label or "gesture_" in label or "_" in label], labels
        assert len(set(labels)) == len(labels), labels


def test_every_committed_evaluation_and_plot_has_a_title_in_each_language():
    from liveness.i18n import LANGUAGES, t
    from liveness.passive import PASSIVE_MODEL_PATH
    from ui.model_info import evaluation_title, plot_caption

    folders = sorted(p.parent for p in PASSIVE_MODEL_PATH.parent.glob("evaluation/*/report.json"))
    plots = {p.stem for folder in folders for p in folder.rglob("*.png")}
    assert folders and plots
    for lang in LANGUAGES:
        with mock.patch("ui.model_info.tr", lambda key, **values: t(key, lang, **values)):
            assert all(evaluation_title(f.name) != f.name for f in folders), lang
            assert all(plot_caption(stem) != stem for stem in plots), (lang, plots)
