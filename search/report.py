"""The results of a search: the Pareto front, its table and SEARCH_DIR/pareto.png."""

from __future__ import annotations

from pathlib import Path

from search.space import describe
from search.trial import Budgets, fits


def finished(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def pareto_front(trials: list, budgets: Budgets) -> list:
    """Trials that fit the budgets and that no other fitting trial beats on int8 accuracy, model bytes
    and latency at once (at least as good on all three, better on one); sorted by model bytes."""
    ok = [t for t in trials if fits(t.user_attrs, budgets)]

    def key(t):
        a = t.user_attrs
        return (-a["accuracy_int8"], a["model_bytes"], a["latency_ms"])

    front = []
    for t in ok:
        k = key(t)
        if not any(all(o <= s for o, s in zip(key(u), k)) and key(u) != k for u in ok):
            front.append(t)
    return sorted(front, key=lambda t: (t.user_attrs["model_bytes"], -t.user_attrs["accuracy_int8"], t.number))


def best_fitting(trials: list, budgets: Budgets):
    """The most accurate trial that fits (ties: the smaller, then the faster, then the earlier)."""
    ok = [t for t in trials if fits(t.user_attrs, budgets)]
    if not ok:
        return None
    return min(ok, key=lambda t: (-t.user_attrs["accuracy_int8"], t.user_attrs["model_bytes"],
                                  t.user_attrs["latency_ms"], t.number))


def smallest_seen(trials: list):
    """The trial with the smallest model among all that got as far as a conversion (any state)."""
    sized = [t for t in trials if "model_bytes" in t.user_attrs]
    return min(sized, key=lambda t: (t.user_attrs["model_bytes"], t.user_attrs["ram_bytes"], t.number)) if sized else None


def trial_row(t, confirmed: dict | None = None) -> dict:
    """What the summary says of trial ``t``; with ``confirmed`` (search/confirm.py ``confirm``) its
    confirmed score and number of scorings too, when it was confirmed."""
    a = t.user_attrs
    row = {"trial": t.number, "accuracy_int8": round(a["accuracy_int8"], 4), "accuracy_float": round(a["accuracy_float"], 4),
           "folds_run": a["folds_run"], "model_bytes": a["model_bytes"], "arena_bytes": a["arena_bytes"],
           "ram_bytes": a["ram_bytes"], "latency_ms": round(a["latency_ms"], 3),
           "rate_hz": t.params.get("rate_hz"), "params": dict(t.params),
           "describe": describe(t.params), "baseline": bool(a.get("baseline"))}
    c = (confirmed or {}).get(t.number)
    if c:
        row.update({k: c.get(k) for k in ("confirmed_accuracy_int8", "scorings", "confirmed_stderr", "confirm_accuracy_int8",
                                           "not_chosen")})
    return row


def _confirmed_cell(number: int, confirmed: dict | None) -> str:
    c = (confirmed or {}).get(number)
    return f"{c['confirmed_accuracy_int8']:.3f} ({c['scorings']})" if c else "-"


def _mark(t, chosen_number: int | None) -> str:
    return (" (fit's default)" if t.user_attrs.get("baseline") else "") + (" **(chosen)**" if t.number == chosen_number else "")


def front_table(front: list, chosen_number: int | None, confirmed: dict | None = None) -> str:
    """The front as a Markdown table (what the command prints on stderr): the search's score (folds run)
    and, for confirmed trials, the mean over every scoring (scorings)."""
    lines = ["| trial | int8 accuracy (folds) | confirmed (scorings) | model bytes | arena bytes | est. ms / window | candidate |",
             "|---|---|---|---:|---:|---:|---|"]
    for t in front:
        a = t.user_attrs
        lines.append(f"| {t.number} | {a['accuracy_int8']:.3f} ({a['folds_run']}) | {_confirmed_cell(t.number, confirmed)} | "
                     f"{a['model_bytes']:,} | {a['ram_bytes']:,} | {a['latency_ms']:.2f} | {describe(t.params)}{_mark(t, chosen_number)} |")
    return "\n".join(lines)


def confirm_table(trials: list, confirmed: dict, chosen_number: int | None) -> str:
    """The confirmed trials, best confirmed mean first: the search's score, each further seed's, the mean."""
    seeds = sorted({int(s) for n in confirmed for s in confirmed[n]["confirm_accuracy_int8"]})
    lines = ["| trial | int8, search's seed | " + " | ".join(f"seed {s}" for s in seeds)
             + " | confirmed mean (scorings) | model bytes | est. ms / window | candidate |",
             "|---|---|" + "---|" * len(seeds) + "---|---:|---:|---|"]
    for t in trials:
        c = confirmed[t.number]
        cells = " | ".join(f"{c['confirm_accuracy_int8'][str(s)]:.3f}" if str(s) in c["confirm_accuracy_int8"] else "-"
                           for s in seeds)
        why = f" (not chosen: {c['not_chosen']})" if c.get("not_chosen") else ""
        lines.append(f"| {t.number} | {t.user_attrs['accuracy_int8']:.3f} | {cells} | {c['confirmed_accuracy_int8']:.3f} "
                     f"({c['scorings']}) | {t.user_attrs['model_bytes']:,} | {t.user_attrs['latency_ms']:.2f} | "
                     f"{describe(t.params)}{_mark(t, chosen_number)}{why} |")
    return "\n".join(lines)


def plot_pareto(trials: list, front: list, budgets: Budgets, path: Path, chosen_number: int | None) -> None:
    """Accuracy against model bytes and against latency: every finished trial, the front joined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    ok = [t for t in trials if fits(t.user_attrs, budgets)]
    over = [t for t in trials if "model_bytes" in t.user_attrs and not fits(t.user_attrs, budgets)]
    for ax, key, label, budget in ((axes[0], "model_bytes", "model bytes (int8 flatbuffer)", budgets.flash_kb * 1024),
                                   (axes[1], "latency_ms", "estimated ms per window (64 MHz)", budgets.latency_ms)):
        ax.scatter([t.user_attrs[key] for t in over], [t.user_attrs["accuracy_int8"] for t in over], marker="x",
                   color="0.6", label="infeasible (a budget, or the converter refused)")
        ax.scatter([t.user_attrs[key] for t in ok], [t.user_attrs["accuracy_int8"] for t in ok], color="tab:blue",
                   label="fits")
        pts = sorted((t.user_attrs[key], t.user_attrs["accuracy_int8"], t.number) for t in front)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="tab:red", label="Pareto front")
        for x, y, n in pts:
            ax.annotate(f"#{n}" + (" chosen" if n == chosen_number else ""), (x, y), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)
        seen = [t.user_attrs[key] for t in trials if key in t.user_attrs]
        if budget is not None and seen and budget <= 3 * max(seen):  # a far budget would squash the points
            ax.axvline(budget, color="tab:orange", linestyle="--", label="budget")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("int8 (TFLM) accuracy, mean over folds")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"search: {len(trials)} finished trials, {len(front)} on the front (of accuracy, bytes and latency "
                 f"at once); budgets {budgets.flash_kb:g} KB model, {budgets.arena_kb:g} KB arena"
                 + (f", {budgets.latency_ms:g} ms" if budgets.latency_ms else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
