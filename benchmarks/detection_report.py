"""Detection quality on the labelled dev corpus: per provider and per page.

    .venv/bin/python benchmarks/detection_report.py [PROVIDER...]

Not a speed benchmark: the table the corpus README asks for (precision and recall by provider, and
which pages are exactly right), from the same scoring the tests use.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from corpus_scoring import available, score


def main() -> None:
    if not available():
        sys.exit("the shared corpus is not next to this checkout (../shared/corpus/dev)")
    result = score(sys.argv[1:] or None)
    print(result.table())


if __name__ == "__main__":
    main()
