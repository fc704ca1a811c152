"""`archive export --warc PATH`: captured responses, media and snapshots as WARC records."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.common import ERR, OUT, Context, json_option, pass_ctx, print_json
from archiver.errors import NotFound
from archiver.pipeline.export import export_warc
from archiver.storage import queries


def register(group: click.Group) -> None:
    group.add_command(export)


@click.command()
@click.option(
    "--warc",
    "warc_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Write a gzipped WARC file here.",
)
@click.option(
    "--embed", "embed_refs", multiple=True, help="Only this embed (id, post id or URL; repeatable)."
)
@click.option("--overwrite", is_flag=True, help="Replace the file if it exists.")
@json_option
@pass_ctx
def export(
    ctx: Context, warc_path: Path, embed_refs: tuple[str, ...], overwrite: bool, as_json: bool
) -> None:
    """Export captured responses, media and snapshots as WARC records that standard tools read."""
    app = ctx.app
    embed_ids: list[int] | None = None
    if embed_refs:
        embed_ids = []
        with app.sessions() as session:
            for wanted in embed_refs:
                embed = queries.find_embed(session, wanted)
                if embed is None:
                    raise NotFound(f"no embed matches {wanted!r} (try `archive embeds`)")
                embed_ids.append(embed.id)
    report = export_warc(
        app.sessions, app.blobs, warc_path, app.clock, embed_ids=embed_ids, overwrite=overwrite
    )
    counts = {
        "path": str(report.path),
        "snapshots": report.snapshots,
        "responses": report.responses,
        "media": report.media,
        "revisits": report.revisits,
        "skipped": report.skipped,
        "missing_media": list(report.missing_media),
    }
    if as_json:
        print_json(counts)
        return
    OUT.print(
        f"Wrote {report.path}: {report.snapshots} snapshot(s), {report.responses} response(s), "
        f"{report.media} media file(s), {report.revisits} revisit(s); {report.skipped} response(s) skipped "
        "(transport errors have no HTTP response to record)."
    )
    if report.missing_media:
        missing = len(report.missing_media)
        ERR.print(f"[yellow]warning[/] {missing} media file(s) are missing from the store", markup=True)
