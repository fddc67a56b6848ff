"""The motion gate of a step model (a GRU): the core gathers each window's motion step by step over the
samples the window's steps read (firmware/host/postprocess_vectors built with a step model's header: the
real InferencePipeline stepping it), and its motion and every decision equal converter/postprocess.py's
window_motion and detections on those samples (converter.gru.stepping.StepSettings.read_windows), bit for
bit, with the gate at one window's own motion."""

from __future__ import annotations

import numpy as np
import pytest

from converter.gru.stepping import StepSettings
from converter.postprocess import PostprocessSettings, detections, window_motion
from run_programs import c_float, header_with, settings_in_header
from test_postprocess_golden import LSM, core_decisions, scores_for_windows, takes_of_counts

WEIGHT = 100.0  # dps per g


def step_header(gru_run, plan: tuple[int, int, int] | None, agreement: int, refractory: int, gate: float) -> str:
    """The small gru run's header with these post-processing constants, its novelty gate and unknown label off (the
    post-processing's golden tests cover those), and (``plan``) other
    samples per step, stride and steps per window: postprocess_vectors scripts the scores, so any plan runs."""
    run_dir, _ = gru_run
    header = (run_dir.parent / "headers" / "model_settings.h").read_text()
    changes = dict(kGateEnabled="false", kUnknownLabelIndex=-1, kAgreement=agreement, kRefractorySamples=f"{refractory}u",
                   kMotionGate=c_float(gate), kMotionAccelWeight=c_float(WEIGHT))
    if plan is not None:
        changes.update(kStepInputSamples=plan[0], kStepStrideSamples=plan[1], kStepsPerWindow=plan[2])
    return header_with(header, **changes)


def plan_of(settings: dict) -> StepSettings:
    return StepSettings(None, settings["step_input_samples"], settings["step_stride_samples"],
                        settings["steps_per_window"])


# None: the run's own (a plain GRU, one sample a step); cnn-gru's front end (16 every 4); overlapping chunks;
# a stride past the chunk (samples no step reads, nor the motion)
PLANS = [None, (16, 4, 6), (3, 2, 20), (1, 2, 30)]


@pytest.mark.parametrize("plan", PLANS)
def test_core_step_path_motion_and_decisions_equal_python(gru_run, plan):
    rng = np.random.default_rng([11, 0 if plan is None else plan[0]])
    base = settings_in_header(step_header(gru_run, plan, 1, 1, 0.0))
    assert base["step_model"]
    step = plan_of(base)
    takes = takes_of_counts(rng, step.window_span_samples)
    motion = [window_motion(step.read_windows(t), *LSM, WEIGHT) for t in takes]
    all_motion = np.concatenate(motion)
    gate = float(np.sort(all_motion)[len(all_motion) // 2])  # a window's own value: the edge
    n_labels = len(base["labels"])
    scores = [scores_for_windows(rng, len(m), n_labels) for m in motion]
    settings = PostprocessSettings(n_labels, base["idle_index"], base["score_threshold"], base["output_scale"],
                                   base["output_zero_point"], 1, 1, gate, WEIGHT)
    # the step path's windows complete at span, span + period, ...: the sample counts a window and hop of those give
    cpp_label, cpp_score, cpp_detected, cpp_motion = core_decisions(
        step_header(gru_run, plan, 1, 1, gate), takes, scores, step.window_span_samples, step.window_period_samples)
    ends = [step.window_ends(len(t)) + 1 for t in takes]
    py_detected = np.concatenate([detections(sc, e, m, settings) for sc, e, m in zip(scores, ends, motion)])
    all_scores = np.concatenate(scores)
    assert len(cpp_label) == len(all_scores) == len(all_motion)
    assert np.array_equal(cpp_label, all_scores.argmax(axis=1))
    assert np.array_equal(cpp_motion, all_motion)  # bit for bit
    assert np.array_equal(cpp_detected, py_detected)
    assert (all_motion == np.float32(gate)).sum() >= 1 and (all_motion < np.float32(gate)).sum() >= 3
    ungated = np.concatenate([detections(sc, e, None, settings) for sc, e in zip(scores, ends)])
    assert ungated.sum() > py_detected.sum() >= 3  # the gate held detections back, and let others through


def test_without_a_motion_gate_the_step_path_measures_nothing_and_decides_as_before(gru_run):
    """A gate of 0: the core gathers no motion (it reports 0) and decides every window as with no measure."""
    rng = np.random.default_rng(12)
    header = step_header(gru_run, None, 1, 1, 0.0)
    base = settings_in_header(header)
    step = plan_of(base)
    takes = takes_of_counts(rng, step.window_span_samples)
    ends = [step.window_ends(len(t)) + 1 for t in takes]
    scores = [scores_for_windows(rng, len(e), len(base["labels"])) for e in ends]
    settings = PostprocessSettings(len(base["labels"]), base["idle_index"], base["score_threshold"],
                                   base["output_scale"], base["output_zero_point"], 1, 1, 0.0, WEIGHT)
    _, _, cpp_detected, cpp_motion = core_decisions(header, takes, scores, step.window_span_samples,
                                                    step.window_period_samples)
    assert not cpp_motion.any()
    assert np.array_equal(cpp_detected, np.concatenate([detections(sc, e, None, settings)
                                                        for sc, e in zip(scores, ends)]))
