"""Lost-embed recall on the dev corpus with its labelled embed units cut out.

    .venv/bin/python benchmarks/lost_recall.py

Cuts every labelled embed unit the scan finds out of each corpus page (tests/support/lost_corpus.py) and scans
the page again: the lost spots found are what the scanner would tell an editor about a page whose embeds
vanished without a trace. Recall is information (most cut units leave no lead-in, and the scanner only
speaks when the text announces an embed); precision is the bar, held by
tests/pipeline/scan/test_scan_lost.py (no lost spot on any intact page).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import Figure

from tests.support.corpus_scoring import available, page_names, scanned
from tests.support.lost_corpus import lost_after_cutting


def ci_figures() -> list[Figure]:
    """Lost spots on the intact corpus pages (the bar: none) and on the same pages with their embed
    units cut out (information) (`benchmarks/run`)."""
    if not available():
        return [Figure("lost_recall", "dev corpus", "not run: no ../shared/corpus/dev", "", "", None)]
    names = page_names()
    intact = sum(1 for name in names for ref in scanned(name).embeds if ref.is_lost)
    pages = lost_after_cutting()
    cut = sum(page.cut for page in pages)
    found = sum(len(page.lost) for page in pages)
    return [
        Figure(
            "lost_recall",
            f"lost spots reported on {len(names)} intact pages",
            str(intact),
            "",
            "0",
            intact == 0,
        ),
        Figure(
            "lost_recall",
            "lost spots found with the labelled embed units cut out",
            f"{found} ({found / max(cut, 1):.1%})",
            f"{cut} units cut",
            "information",
            None,
        ),
    ]


def main() -> None:
    if not available():
        sys.exit("the shared corpus is not next to this checkout (../shared/corpus/dev)")
    intact = sum(1 for name in page_names() for ref in scanned(name).embeds if ref.is_lost)
    pages = lost_after_cutting()
    cut = sum(page.cut for page in pages)
    found = sum(len(page.lost) for page in pages)
    print(f"intact pages: {len(pages)}, lost spots reported: {intact} (must be 0)")
    share = found / max(cut, 1)
    print(f"cut pages: {cut} labelled units cut, {found} lost spots found ({share:.1%} of units)")
    for page in pages:
        for ref in page.lost:
            said = ref.lead_in or ref.shell
            print(f"  {page.name}: {ref.announces or 'shell'} hint={ref.hint or '-'}: {said}")


if __name__ == "__main__":
    main()
