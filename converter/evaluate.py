"""`python -m converter evaluate`: float and int8 (TFLM) scores on every window of a dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contract.input import normalize
from converter import ConverterError
from converter.int8 import tflm
from converter.path import model_kind
from converter.run_dir import check_run_dir, load_contract, load_model
from training import TrainingError
from training.data import load_dataset, take_windows


def dataset_windows(data_dir: Path, contract) -> tuple[np.ndarray, np.ndarray, int]:
    """Raw windows and label indices of every take, cut with the run's contract (as training did)."""
    try:
        takes = load_dataset(data_dir)
    except TrainingError as e:
        raise ConverterError(str(e)) from None
    unknown = sorted({t.meta.label for t in takes} - set(contract.labels))
    if unknown:
        raise ConverterError(
            f"{data_dir}: label(s) {', '.join(unknown)} are not in the run's contract {contract.labels}; "
            "the model cannot be scored on gestures it was not trained on"
        )
    index = {label: i for i, label in enumerate(contract.labels)}
    xs, ys = [], []
    for take in takes:
        w = take_windows(take, contract)
        xs.append(w)
        ys.append(np.full(len(w), index[take.meta.label], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys), len(takes)


def per_class(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recall, precision and F1 per class (0 where undefined); classes absent from y_true get NaN recall."""
    recall = np.full(n_labels, np.nan)
    precision = np.zeros(n_labels)
    f1 = np.zeros(n_labels)
    for c in range(n_labels):
        tp = np.sum((y_pred == c) & (y_true == c))
        n_true = np.sum(y_true == c)
        n_pred = np.sum(y_pred == c)
        if n_true:
            recall[c] = tp / n_true
        precision[c] = tp / n_pred if n_pred else 0.0
        r = recall[c] if n_true else 0.0
        f1[c] = 2 * precision[c] * r / (precision[c] + r) if (precision[c] + r) > 0 else 0.0
    return recall, precision, f1


def board_predictions(scores_int8: np.ndarray, x: np.ndarray, contract, model_bytes: bytes) -> np.ndarray:
    """The top-1 the board reports for normalized windows ``x``: the int8 scores after the contract's
    novelty gate (converter/gate.py), which a step model's board gathers over the samples its steps read."""
    from converter.gate import gated_scores
    from converter.gru.stepping import step_settings
    from converter.int8.flatbuffer import read_io

    if contract.novelty_gate is None:
        return scores_int8.argmax(axis=1)
    step = step_settings(model_bytes, contract)
    inp = read_io(model_bytes)[0] if step is None else step.io.x
    q = tflm.quantize_input(x, inp)
    if step is not None:
        q = q[:, step.window_samples]
    return gated_scores(scores_int8, q, contract, (inp.scale, inp.zero_point)).argmax(axis=1)


def evaluate_run(run_dir: Path, data_dir: Path) -> dict:
    run_dir, data_dir = Path(run_dir), Path(data_dir)
    check_run_dir(run_dir)
    contract = load_contract(run_dir)
    tflite_path = run_dir / "model_int8.tflite"
    if not tflite_path.is_file():
        raise ConverterError(f"{run_dir}: has no model_int8.tflite; run `nanogest convert {run_dir}` first")
    x_raw, y, n_takes = dataset_windows(data_dir, contract)
    model = load_model(run_dir, contract)

    x = normalize(x_raw, contract)
    model_bytes = tflite_path.read_bytes()
    pred_float = tflm.predict_float(model, x).argmax(axis=1)
    scores_int8 = model_kind(contract, model).int8_scores(model_bytes, model, contract, x)
    pred_int8 = scores_int8.argmax(axis=1)
    pred_board = board_predictions(scores_int8, x, contract, model_bytes)
    present = np.unique(y)
    recall, _, f1 = per_class(y, pred_int8, len(contract.labels))
    return {
        "run_dir": str(run_dir),
        "data_dir": str(data_dir),
        "n_takes": n_takes,
        "n": int(len(y)),
        "accuracy_float": float(np.mean(pred_float == y)),
        "accuracy_int8": float(np.mean(pred_int8 == y)),
        # what the board reports: the int8 model's top-1 after the novelty gate (a rejected window is unknown)
        "accuracy_board": float(np.mean(pred_board == y)),
        "novelty_gate_rejected": None if contract.novelty_gate is None else float(np.mean(pred_board != pred_int8)),
        "top1_agreement": float(np.mean(pred_float == pred_int8)),
        "macro_f1_int8": float(np.mean(f1[present])),
        "recall_int8": {label: (None if np.isnan(recall[i]) else float(recall[i])) for i, label in enumerate(contract.labels)},
        "windows_per_label": {label: int(np.sum(y == i)) for i, label in enumerate(contract.labels)},
    }
