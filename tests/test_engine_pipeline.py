"""verify_video on real recordings: frames kept, annotated video timing, decode errors."""

from __future__ import annotations

import time

import pytest

import liveness  # noqa: F401  (native import order)
from liveness.challenge import Step
from liveness.config import settings
from liveness.media import MediaError, iter_video, probe_video
from liveness.pipeline import prefetched, verify_video
from liveness.policy import DEFAULT_POLICY

DATA = settings().data_dir
# Browser recording: variable frame rate around 18 fps, gaps from 32 to 68 ms.
VARIABLE_RATE = DATA / "pad" / "replay_videos" / "apfol" / "live.webm"
NO_DEADLINE = DEFAULT_POLICY.replace(step_timeout_s=1e9, session_timeout_s=1e9)


@pytest.fixture(scope="module")
def variable_rate_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("annotated") / "session.mp4"
    result = verify_video(VARIABLE_RATE, steps=[Step.SMILE, Step.BLINK], policy=NO_DEADLINE,
                          passive=None, annotated_out=out)
    return result, [f.timestamp_s for f in iter_video(VARIABLE_RATE)]


def test_every_frame_of_a_variable_rate_recording_is_analysed(variable_rate_run):
    result, timestamps = variable_rate_run
    assert result.frames_analysed == result.verdict.scores["frames"] > 100
    # the challenge may end the session before the video does: count the frames it covered
    covered = [t for t in timestamps if t <= timestamps[0] + result.verdict.scores["duration_s"]]
    assert result.frames_analysed == len(covered)


def test_annotated_video_plays_at_the_recording_speed(variable_rate_run):
    result, _ = variable_rate_run
    info = probe_video(result.annotated_path)
    assert info.frame_count == result.frames_analysed
    assert info.duration_s == pytest.approx(result.verdict.scores["duration_s"], abs=0.15)


def test_prefetch_raises_the_decoder_error_in_the_consumer(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_text("not a video at all")
    with pytest.raises(MediaError):
        list(prefetched(iter_video(bad)))


def test_prefetch_stops_its_producer_when_the_consumer_stops_early():
    produced = []

    def numbers():
        for i in range(1000):
            produced.append(i)
            yield i

    for i in prefetched(numbers(), depth=2):
        if i == 3:
            break
    assert len(produced) < 10


def test_prefetch_releases_a_producer_that_finished_into_a_full_buffer():
    """The verdict can come within the last ``depth`` frames: the decoder has finished and
    waits to hand over its end marker when the consumer stops."""
    import threading

    stopped = threading.Event()

    def consume_one():
        items = prefetched(iter(range(9)), depth=8)
        next(items)
        time.sleep(0.3)  # the producer fills the buffer and reaches the end
        items.close()
        stopped.set()

    threading.Thread(target=consume_one, daemon=True).start()
    assert stopped.wait(5), "the consumer's close() waited forever for the producer"
