"""What ``nanogest check`` found: each ``Finding``, the per-label counts and the ``CheckReport`` that
renders them (a table or JSON) and stops ``fit`` on errors. The rules that find them are training/check.py."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from training import TrainingError

ERROR = "error"
WARNING = "warning"
NOTE = "note"  # what the data cannot teach; neither stops nor counts as a warning


@dataclass(frozen=True)
class Finding:
    severity: str  # ERROR, WARNING or NOTE
    code: str
    message: str  # one sentence for a person
    take: str | None = None  # CSV path; None for the dataset or a label
    label: str | None = None
    line: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LabelStats:
    takes: int = 0  # usable takes (excluded ones not counted)
    excluded: int = 0
    samples: int = 0
    seconds: float = 0.0
    saturated_samples: int = 0
    rates_hz: list = field(default_factory=list)


@dataclass
class CheckReport:
    data_dir: str
    rate_hz: float | None
    takes_read: int
    findings: list[Finding]
    labels: dict[str, LabelStats]
    plots: dict[str, str] = field(default_factory=dict)  # label -> PNG of its takes (nanogest show)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def per_label(self) -> dict[str, int]:
        """Usable takes per label."""
        return {label: s.takes for label, s in sorted(self.labels.items())}

    def to_dict(self) -> dict:
        return {
            "data_dir": self.data_dir, "ok": self.ok, "rate_hz": self.rate_hz, "takes_read": self.takes_read,
            "errors": len(self.errors), "warnings": len(self.warnings),
            "labels": {k: {**asdict(v), "rates_hz": sorted(set(v.rates_hz))} for k, v in sorted(self.labels.items())},
            "findings": [f.to_dict() for f in self.findings], "plots": self.plots,
        }

    def summary(self) -> str:
        verdict = "no errors" if self.ok else "training refuses this dataset until they are fixed (or with --force)"
        return f"{plural(len(self.errors), 'error')}, {plural(len(self.warnings), 'warning')}: {verdict}"

    def render(self) -> str:
        rate = "none" if self.rate_hz is None else f"{self.rate_hz:g} Hz"
        lines = [f"dataset {self.data_dir}: {self.takes_read} takes read, {len(self.labels)} labels, rate {rate}", ""]
        lines.append(f"{'label':<16} {'takes':>5} {'excluded':>8} {'samples':>8} {'seconds':>8} {'saturated':>9}  rate_hz")
        for label, s in sorted(self.labels.items()):
            rates = ",".join(f"{r:g}" for r in sorted(set(s.rates_hz))) or "-"
            sat = f"{100.0 * s.saturated_samples / s.samples:.1f}%" if s.samples else "-"
            lines.append(f"{label:<16} {s.takes:>5} {s.excluded:>8} {s.samples:>8} {s.seconds:>8.1f} {sat:>9}  {rates}")
        if self.findings:
            lines += ["", "findings:"]
            groups: dict[str, list[Finding]] = {}
            for f in self.findings:
                where = self._where(f)
                groups.setdefault(where, []).append(f)
            for where, found in groups.items():
                label = found[0].label if found[0].take else None
                plot = f"  (plot: {self.plots[label]})" if label in self.plots else ""
                lines.append(f"  {where}{plot}")
                for f in found:
                    at = f" (line {f.line})" if f.line else ""
                    lines.append(f"    {f.severity:<7} {f.code}{at}: {f.message}")
        if self.plots:
            drawn = all(Path(p).exists() for p in self.plots.values())
            lines += ["", f"takes of each label overlaid: {Path(next(iter(self.plots.values()))).parent}/<label>.png"
                      + ("" if drawn else f" (draw them with: nanogest show {self.data_dir})")]
        lines += ["", self.summary()]
        return "\n".join(lines)

    def raise_if_errors(self) -> None:
        """``TrainingError`` naming the first errors, for ``training fit`` without --force."""
        if self.ok:
            return
        shown = "; ".join(f"{self._where(f)}: {f.message}" for f in self.errors[:3])
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        raise TrainingError(f"the dataset has {plural(len(self.errors), 'error')}: {shown}{more}; "
                            f"run 'nanogest check {self.data_dir}' for all of them, or pass --force to train anyway")

    def _where(self, f: Finding) -> str:
        if f.take:
            try:
                return str(Path(f.take).relative_to(self.data_dir))
            except ValueError:
                return f.take
        return f"label {f.label}" if f.label else "dataset"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
