"""Detection quality on the labelled dev corpus: per provider and per page.

    .venv/bin/python benchmarks/detection_report.py [PROVIDER...]

Not a speed benchmark: the table the corpus README asks for (precision and recall by provider, and
which pages are exactly right), from the same scoring the tests use.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import Figure

from tests.support.corpus_scoring import available, score

# The floors tests/pipeline/scan/test_scan_corpus.py holds the scan to.
PRECISION, RECALL = 0.99, 0.98


def ci_figures() -> list[Figure]:
    """Precision and recall over the labelled dev corpus (`benchmarks/run`)."""
    if not available():
        return [Figure("detection_report", "dev corpus", "not run: no ../shared/corpus/dev", "", "", None)]
    result = score()
    overall = result.overall
    exact = sum(p.exact for p in result.pages)
    labelled = overall.true_positives + overall.false_negatives
    return [
        Figure(
            "detection_report",
            f"precision over {len(result.pages)} labelled pages",
            f"{overall.precision:.3f}",
            f"{labelled} labelled embeds",
            f">= {PRECISION}",
            overall.precision >= PRECISION,
        ),
        Figure(
            "detection_report",
            "recall",
            f"{overall.recall:.3f}",
            f"{labelled} labelled embeds",
            f">= {RECALL}",
            overall.recall >= RECALL,
        ),
        Figure(
            "detection_report",
            "pages exactly right",
            f"{exact}/{len(result.pages)}",
            "",
            "information",
            None,
        ),
    ]


def main() -> None:
    if not available():
        sys.exit("the shared corpus is not next to this checkout (../shared/corpus/dev)")
    result = score(sys.argv[1:] or None)
    print(result.table())


if __name__ == "__main__":
    main()
